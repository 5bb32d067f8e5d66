"""Staff lists from Excel: preview with an error per row, then all accounts or none.

It reuses the member import's reader (first visible sheet, merged cells, formulas refused, size cap) and
creates each account through ``kangle.people.services.staff_account_create``, all in one transaction.
It lives here, not in ``people``, because the reader does (``people`` sits below ``members``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from kangle.accounts.models import User
from kangle.accounts.permissions import can_assign_role
from kangle.core.crypto import blind_index
from kangle.core.errors import UserError
from kangle.core.roles import Role
from kangle.core.text import is_mobile, normalise_phone, normalise_text
from kangle.members.spreadsheets import FormulaCell, read_table
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import in_scope
from kangle.people.permissions import CREATABLE_ROLES, can_manage_people
from kangle.people.services import IssuedAccount, staff_account_create

COLUMNS = {
    "display_name": ["姓名", "name"],
    "username": ["用户名", "username", "账号"],
    "phone": ["手机号", "手机", "phone", "mobile"],
    "role": ["角色", "role"],
    "org": ["单元编码", "编码", "unit", "org", "unit code"],
}
ROLE_NAMES = {
    "街道管理员": Role.STREET_ADMIN,
    "片区管理员": Role.AREA_ADMIN,
    "居民区书记": Role.COMMUNITY_SECRETARY,
    "社区书记": Role.COMMUNITY_SECRETARY,
    "居民区工作人员": Role.COMMUNITY_STAFF,
    "工作人员": Role.COMMUNITY_STAFF,
    "网格长": Role.GRID_LEADER,
}
MAX_ROWS = 2000


@dataclass
class StaffRow:
    line: int
    display_name: str
    username: str
    phone: str
    role: str
    org_code: str
    org: OrgUnit | None = None
    errors: list[str] = field(default_factory=list)


def _columns(headers: list[str]) -> dict[str, int]:
    found = {}
    for index, header in enumerate(headers):
        for key, names in COLUMNS.items():
            if header.strip().lower() in [n.lower() for n in names] and key not in found:
                found[key] = index
    missing = [COLUMNS[key][0] for key in ("display_name", "username", "role", "org") if key not in found]
    if missing:
        raise UserError(
            "missing_columns",
            _("Missing columns: %(columns)s"),
            field="file",
            columns="、".join(missing),
        )
    return found


def _cell(values: list, index: int | None) -> str:
    if index is None or index >= len(values) or values[index] is None:
        return ""
    return normalise_text(str(values[index]))


def staff_import_preview(*, actor, content: bytes, filename: str) -> list[StaffRow]:
    """Every row with its problems (none means it would be created). Reads only; writes nothing."""
    if not can_manage_people(actor):
        raise UserError("not_found", _("Not found, or outside your scope"), status=404)
    table = read_table(content, filename)
    if len(table.rows) > MAX_ROWS:
        raise UserError(
            "too_many_rows", _("At most %(MAX_ROWS)s rows at a time"), field="file", MAX_ROWS=MAX_ROWS
        )
    columns = _columns(table.headers)
    rows = []
    for line, values in table.rows:
        if any(isinstance(v, FormulaCell) for v in values):
            row = StaffRow(line, "", "", "", "", "")
            row.errors.append("含有公式，请粘贴为数值 / Formulas are not accepted")
            rows.append(row)
            continue
        rows.append(
            StaffRow(
                line=line,
                display_name=_cell(values, columns.get("display_name")),
                username=_cell(values, columns.get("username")),
                phone=normalise_phone(_cell(values, columns.get("phone"))),
                role=_cell(values, columns.get("role")),
                org_code=_cell(values, columns.get("org")),
            )
        )
    _check(actor, rows)
    return rows


def _check(actor, rows: list[StaffRow]) -> None:
    units = {u.code: u for u in OrgUnit.objects.filter(code__in={r.org_code for r in rows if r.org_code})}
    taken_names = set(
        User.objects.filter(username__in={r.username for r in rows}).values_list("username", flat=True)
    )
    phone_hashes = {blind_index(r.phone): r.phone for r in rows if r.phone and is_mobile(r.phone)}
    taken_phones = {
        phone_hashes[h]
        for h in User.objects.filter(phone_hash__in=phone_hashes).values_list("phone_hash", flat=True)
    }
    seen_names: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    for row in rows:
        if row.errors:
            continue
        if not row.display_name:
            row.errors.append("姓名为空 / Name is blank")
        if not row.username:
            row.errors.append("用户名为空 / Username is blank")
        elif row.username in taken_names:
            row.errors.append("用户名已存在 / Username already exists")
        elif row.username in seen_names:
            row.errors.append(
                f"用户名与第 {seen_names[row.username]} 行重复 / Same username as row {seen_names[row.username]}"
            )
        seen_names.setdefault(row.username, row.line)
        if row.phone:
            if not is_mobile(row.phone):
                row.errors.append("手机号格式不正确 / Malformed mobile number")
            elif row.phone in taken_phones:
                row.errors.append("手机号已被其他账号使用 / Mobile number used by another account")
            elif row.phone in seen_phones:
                row.errors.append(
                    f"手机号与第 {seen_phones[row.phone]} 行重复 / Same number as row {seen_phones[row.phone]}"
                )
            seen_phones.setdefault(row.phone, row.line)
        role = ROLE_NAMES.get(row.role, row.role)
        if role not in CREATABLE_ROLES:
            row.errors.append(f"角色无效：{row.role} / Unknown staff role")
            continue
        row.role = role
        unit = units.get(row.org_code)
        if unit is None or not in_scope(actor, unit.path):
            row.errors.append(f"单元编码不在您的管辖范围内：{row.org_code} / Unit not in your scope")
            continue
        if not can_assign_role(actor, role, unit):
            row.errors.append("不能授予高于本人权限的角色 / Role above your own")
            continue
        row.org = unit


@transaction.atomic
def staff_import_commit(
    *, actor, content: bytes, filename: str, now: dt.datetime | None = None
) -> list[IssuedAccount]:
    """Create every account of the file, or none: any row with a problem refuses the whole file."""
    rows = staff_import_preview(actor=actor, content=content, filename=filename)
    bad = [row for row in rows if row.errors]
    if bad:
        first = bad[0]
        raise UserError(
            "rows_with_errors",
            _("%(value)s rows have errors (first: row %(line)s); no account was created"),
            field="file",
            value=len(bad),
            line=first.line,
        )
    return [
        staff_account_create(
            actor=actor,
            username=row.username,
            display_name=row.display_name,
            phone=row.phone,
            role=row.role,
            org=row.org,
            now=now,
        )
        for row in rows
    ]
