"""Fixtures of the members tests: tasks run at once (ImmediateBackend), and small builders."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from kangle.members.idnumber import check_character


@pytest.fixture(autouse=True)
def _immediate_tasks(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    # The personas' passwords: a fast hasher keeps each test's setup short (the real one is Argon2).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def id_number(first17: str = "31010419850302123") -> str:
    """A valid GB 11643 number for the given first 17 digits."""
    return first17 + check_character(first17)


def xlsx(
    rows: list[list],
    *,
    merged: list[str] = (),
    hidden_first: list[list] | None = None,
    number_formats: dict | None = None,
) -> bytes:
    """An .xlsx whose first visible sheet holds ``rows``.

    Optionally with a hidden sheet before it and merged ranges."""
    workbook = Workbook()
    sheet = workbook.active
    if hidden_first is not None:
        sheet.title = "hidden"
        for row in hidden_first:
            sheet.append(row)
        sheet.sheet_state = "hidden"
        sheet = workbook.create_sheet("名单")
    for row in rows:
        sheet.append(row)
    for ref in merged:
        sheet.merge_cells(ref)
    for ref, fmt in (number_formats or {}).items():
        sheet[ref].number_format = fmt
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


HEADER = [
    "姓名",
    "性别",
    "出生年份",
    "手机号",
    "身份证号",
    "政治面貌",
    "工作单位",
    "单位党组织",
    "居民区",
    "微网格",
    "专业特长",
    "服务时间",
    "服务意愿",
]


def row(name="张三", phone="13800000001", community="康乐居民区", **extra) -> list:
    values = {
        "姓名": name,
        "性别": "男",
        "出生年份": 1985,
        "手机号": phone,
        "身份证号": "",
        "政治面貌": "正式党员",
        "工作单位": "示例公司",
        "单位党组织": "示例公司党支部",
        "居民区": community,
        "微网格": "",
        "专业特长": "医疗、驾驶",
        "服务时间": "周六上午、周日下午",
        "服务意愿": "便民服务",
    }
    values.update(extra)
    return [values[h] for h in HEADER]
