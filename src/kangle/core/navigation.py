"""The workbench and phone navigation, assembled from entries each app registers in its AppConfig.ready().

An entry shows to people holding any of its roles (superusers see every workbench entry).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavEntry:
    label: object  # a lazy translation
    url_name: str
    roles: frozenset[str]
    order: int = 100
    area: str = "workbench"  # or "phone"


_entries: list[NavEntry] = []


def register(label, url_name: str, roles, *, order: int = 100, area: str = "workbench") -> None:
    entry = NavEntry(label, url_name, frozenset(roles), order, area)
    if entry not in _entries:
        _entries.append(entry)


def entries_for(user_roles: set[str], *, is_superuser: bool, area: str) -> list[dict]:
    items = []
    for entry in sorted(_entries, key=lambda e: (e.order, str(e.label))):
        if entry.area != area:
            continue
        if not (entry.roles & user_roles or (is_superuser and area == "workbench")):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": entry.label, "url": url, "url_name": entry.url_name})
    return items
