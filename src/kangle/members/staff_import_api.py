"""/api/v1/staff-import/…: preview a staff list (errors per row), then create all its accounts or none."""

from __future__ import annotations

from django.http import Http404
from ninja import File, Router, Schema
from ninja.files import UploadedFile

from kangle.members import staff_import
from kangle.members.spreadsheets import check_size
from kangle.people.permissions import can_manage_people

router = Router(tags=["staff-import"])


class RowOut(Schema):
    line: int
    display_name: str
    username: str
    role: str
    org_code: str
    errors: list[str]


class ImportedAccountOut(Schema):
    username: str
    one_time_code: str


def _read(request, file: UploadedFile) -> bytes:
    if not can_manage_people(request.user):
        raise Http404
    check_size(file.size)
    return file.read()


@router.post("/preview", response=list[RowOut])
def preview(request, file: File[UploadedFile]):
    content = _read(request, file)
    rows = staff_import.staff_import_preview(actor=request.user, content=content, filename=file.name)
    return [
        {
            "line": r.line,
            "display_name": r.display_name,
            "username": r.username,
            "role": r.role,
            "org_code": r.org_code,
            "errors": r.errors,
        }
        for r in rows
    ]


@router.post("/", response={201: list[ImportedAccountOut]})
def commit(request, file: File[UploadedFile]):
    content = _read(request, file)
    issued = staff_import.staff_import_commit(actor=request.user, content=content, filename=file.name)
    return 201, [{"username": i.user.username, "one_time_code": i.code} for i in issued]
