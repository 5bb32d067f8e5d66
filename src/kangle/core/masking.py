"""Masking personal data for screens and exports: 13812341234 → 138****1234."""

from __future__ import annotations


def mask_phone(phone: str | None) -> str:
    if not phone:
        return ""
    if len(phone) < 7:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def mask_id_number(number: str | None) -> str:
    """Keep the region (first 6) and the check digit area (last 4) as offices usually print them."""
    if not number:
        return ""
    if len(number) <= 10:
        return "*" * len(number)
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}"


def mask_name(name: str | None) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧***; a Latin name keeps its first letter."""
    if not name:
        return ""
    return name[0] + "*" * (len(name) - 1)


def mask_address(address: str | None, keep: int = 6) -> str:
    """Keep the beginning (road, lane) and hide the rest (building, room)."""
    if not address:
        return ""
    if len(address) <= keep:
        return address[:2] + "*" * max(len(address) - 2, 0)
    return address[:keep] + "****"
