"""The one Excel export gate: every workbook kangle writes is built here.

- every text cell starting with ``= + - @`` (or a tab / carriage return) is written as text, so a
  spreadsheet never runs a description, a name or a place typed by someone as a formula;
- every export of data (``export_workbook``) writes an audit event carrying the org path it covers, so an
  audit view scoped like everything else shows who took which data out.

Sheets are given as plain rows; nothing else in the code base creates an openpyxl ``Workbook``.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.http import HttpResponse
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from kangle.core import audit

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_BOLD = Font(bold=True)


@dataclass
class Sheet:
    title: str
    headers: Sequence = ()
    rows: Iterable[Sequence] = field(default_factory=list)
    # Rows written before the headers (a title line, a period); not bold.
    preamble: Sequence[Sequence] = ()
    rows_written: int = field(default=0, init=False)


def neutralise(value):
    """A text cell that a spreadsheet would read as a formula gets a leading apostrophe: it stays text."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def workbook_bytes(sheets: Iterable[Sheet | tuple]) -> bytes:
    """An .xlsx with one sheet per ``Sheet`` (or (title, headers, rows) tuple); every cell neutralised.
    For files that carry no one's data (templates); data exports go through ``export_workbook``."""
    book = Workbook(write_only=True)
    for item in sheets:
        sheet = item if isinstance(item, Sheet) else Sheet(*item)
        target = book.create_sheet(sheet.title)
        for row in sheet.preamble:
            target.append([neutralise(value) for value in row])
        if sheet.headers:
            target.append([_bold(target, neutralise(value)) for value in sheet.headers])
        rows = 0
        for row in sheet.rows:
            target.append([neutralise(value) for value in row])
            rows += 1
        sheet.rows_written = rows
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_workbook(
    *,
    actor,
    verb: str,
    sheets: Sequence[Sheet | tuple],
    org_path: str,
    object_type: str = "",
    details: dict | None = None,
    now: dt.datetime | None = None,
) -> bytes:
    """Build the workbook and record who exported what, for which part of the tree."""
    sheets = [item if isinstance(item, Sheet) else Sheet(*item) for item in sheets]
    content = workbook_bytes(sheets)
    audit.record(
        actor=actor,
        verb=verb,
        object_type=object_type,
        object_id="",
        org_path=org_path,
        details={"rows": sum(sheet.rows_written for sheet in sheets), **(details or {})},
        now=now,
    )
    return content


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _bold(sheet, value):
    cell = WriteOnlyCell(sheet, value=value)
    cell.font = _BOLD
    return cell
