"""Staff lists from Excel: preview with per-row errors, then every account or none."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook

from kangle.accounts.models import User
from kangle.core.errors import UserError
from kangle.core.roles import Role
from kangle.members import staff_import
from personas import make_user

pytestmark = pytest.mark.django_db
HEADER = ["姓名", "用户名", "手机号", "角色", "单元编码"]


def xlsx(rows, header=HEADER) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD = [
    ["王书记", "wang_sec", "13811110001", "居民区书记", "KJ-C01"],
    ["赵网格", "zhao_grid", "", "网格长", "KJ-C01-E1-G1"],
]


def test_a_good_list_creates_every_account(personas):
    issued = staff_import.staff_import_commit(
        actor=personas.street_admin, content=xlsx(GOOD), filename="s.xlsx"
    )
    assert [i.user.username for i in issued] == ["wang_sec", "zhao_grid"]
    wang = User.objects.get(username="wang_sec")
    assert (
        wang.has_role(Role.COMMUNITY_SECRETARY, within=personas.tree.community_a)
        and wang.must_change_password
    )


def test_one_bad_row_creates_nothing_and_every_problem_is_named(personas):
    rows = [
        *GOOD,
        ["", "x1", "", "网格长", "KJ-C01-E1-G1"],  # blank name
        ["重名", "secretary_a", "", "网格长", "KJ-C01-E1-G1"],  # username taken
        ["同号", "dup_phone", "13811110001", "网格长", "KJ-C01-E1-G1"],  # phone repeated in the file
        ["外街", "far", "", "网格长", "HN"],  # outside the scope
        ["党员", "mem", "", "党员", "KJ-C01"],  # not a staff role
    ]
    preview = staff_import.staff_import_preview(
        actor=personas.area_admin, content=xlsx(rows), filename="s.xlsx"
    )
    problems = {row.line: row.errors for row in preview}
    assert problems[2] == [] and problems[3] == []
    assert "姓名为空" in problems[4][0]
    assert "用户名已存在" in problems[5][0]
    assert "第 2 行重复" in problems[6][0]
    assert "管辖范围" in problems[7][0]
    assert "角色无效" in problems[8][0]
    with pytest.raises(UserError) as refused:
        staff_import.staff_import_commit(actor=personas.area_admin, content=xlsx(rows), filename="s.xlsx")
    assert refused.value.code == "rows_with_errors"
    assert not User.objects.filter(username__in=["wang_sec", "zhao_grid"]).exists()


def test_an_area_admin_cannot_import_a_street_admin(personas):
    rows = [["新管理员", "new_admin", "", "街道管理员", "KJ-C01"]]
    preview = staff_import.staff_import_preview(
        actor=personas.area_admin, content=xlsx(rows), filename="s.xlsx"
    )
    assert "高于本人权限" in preview[0].errors[0]


def test_missing_columns_and_wrong_files_are_clear(personas):
    with pytest.raises(UserError) as columns:
        staff_import.staff_import_preview(
            actor=personas.street_admin, content=xlsx([["a"]], header=["姓名"]), filename="s.xlsx"
        )
    assert "缺少列" in columns.value.zh
    with pytest.raises(UserError) as kind:
        staff_import.staff_import_preview(actor=personas.street_admin, content=b"MZ", filename="s.exe")
    assert kind.value.field == "file"


def test_page_preview_then_commit(client, personas):
    client.force_login(personas.street_admin)
    assert client.get("/members/staff-import/").status_code == 200
    response = client.post("/members/staff-import/", {"file": SimpleUploadedFile("s.xlsx", xlsx(GOOD))})
    assert response.status_code == 200 and b"staff-import-commit" in response.content
    assert not User.objects.filter(username="wang_sec").exists()
    response = client.post("/members/staff-import/", {"commit": "1"})
    assert response.status_code == 200 and b'data-testid="issued-codes"' in response.content
    assert User.objects.filter(username__in=["wang_sec", "zhao_grid"]).count() == 2
    bad = [["x", "secretary_a", "", "网格长", "KJ-C01-E1-G1"]]
    response = client.post("/members/staff-import/", {"file": SimpleUploadedFile("s.xlsx", xlsx(bad))})
    assert response.status_code == 400 and b"staff-import-commit" not in response.content


def test_api_preview_and_commit(client, personas):
    client.force_login(personas.street_admin)
    response = client.post("/api/v1/staff-import/preview", {"file": SimpleUploadedFile("s.xlsx", xlsx(GOOD))})
    assert response.status_code == 200 and all(row["errors"] == [] for row in response.json())
    response = client.post("/api/v1/staff-import/", {"file": SimpleUploadedFile("s.xlsx", xlsx(GOOD))})
    assert response.status_code == 201 and len(response.json()) == 2
    response = client.post("/api/v1/staff-import/", {"file": SimpleUploadedFile("s.xlsx", xlsx(GOOD))})
    assert response.status_code == 400 and response.json()["code"] == "rows_with_errors"


@pytest.mark.parametrize("who", ["anonymous", "member", "secretary_a", "other_admin"])
def test_wrong_roles_and_outsiders(client, personas, who):
    if who == "other_admin":
        client.force_login(make_user("hn_admin", Role.STREET_ADMIN, personas.tree.other_street))
        response = client.post("/api/v1/staff-import/", {"file": SimpleUploadedFile("s.xlsx", xlsx(GOOD))})
        assert response.status_code == 400  # every row lies outside 湖南街道: nothing is created
        assert not User.objects.filter(username="wang_sec").exists()
        return
    if who != "anonymous":
        client.force_login(getattr(personas, who))
    assert client.get("/members/staff-import/").status_code == (302 if who == "anonymous" else 404)
    response = client.post("/api/v1/staff-import/", {"file": SimpleUploadedFile("s.xlsx", xlsx(GOOD))})
    assert response.status_code == (401 if who == "anonymous" else 404)
    assert not User.objects.filter(username="wang_sec").exists()
