"""Reading member lists (.xlsx, CSV in UTF-8 or GBK) and writing exports and templates.

Reading is defensive: the first visible sheet is used (hidden sheets are ignored), merged cells give their
value to every cell they cover, blank rows are skipped, formulas are refused (their value is never
evaluated). Writing goes through the export gate, ``kangle.core.exports``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext_lazy
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from kangle.core.errors import CHINESE, UserError, render
from kangle.core.exports import workbook_bytes
from kangle.core.text import normalise_text
from kangle.members.constants import PoliticalStatus
from kangle.members.validation import REQUIRED, chinese_label, english_label

# Column headers people use on other platforms, per target field.
ALIASES = {
    "name": ["姓名", "名字", "党员姓名"],
    "gender": ["性别"],
    "birth_year": ["出生年份", "出生日期", "出生年月", "生日"],
    "phone": ["手机号", "手机", "手机号码", "联系电话", "电话", "联系方式"],
    "id_number": ["身份证号", "身份证", "身份证号码", "公民身份号码"],
    "address": ["居住地址", "家庭住址", "住址", "地址", "家庭地址"],
    "political_status": ["政治面貌"],
    "employer": ["工作单位", "单位", "单位名称"],
    "party_org": ["单位党组织", "所在党组织", "党组织", "所在支部", "组织关系所在党组织"],
    "position": ["职务", "职位"],
    "community": ["居民区", "报到居民区", "社区", "所在居民区", "报到社区"],
    "microgrid": ["微网格"],
    "building_group": ["楼组"],
    "skills": ["专业特长", "特长", "技能"],
    "availability": ["服务时间", "可服务时间"],
    "willingness": ["服务意愿", "意愿"],
    "hours_per_month": ["每月可服务小时", "每月服务时长", "每月可服务时长"],
    "household": ["家庭成员"],
}
TEMPLATE_COLUMNS = [
    "name",
    "gender",
    "birth_year",
    "phone",
    "id_number",
    "political_status",
    "employer",
    "party_org",
    "position",
    "address",
    "community",
    "microgrid",
    "building_group",
    "skills",
    "availability",
    "willingness",
    "hours_per_month",
    "household",
]
_MERGE = re.compile(rb'<(?:\w+:)?mergeCell\s+ref="([A-Z]+\d+:[A-Z]+\d+)"')


@dataclass
class Table:
    headers: list[str]
    rows: list[tuple[int, list]]  # (row number as the person sees it, cell values)


class FormulaCell(str):
    """A cell holding a formula: kept as text so validation can refuse it by name."""


def header_label(field: str) -> str:
    return chinese_label(field) + ("*" if field in REQUIRED else "")


def _normal_header(value) -> str:
    return normalise_text(value).replace("*", "").replace("＊", "").strip()


def check_size(size: int) -> None:
    limit = settings.KANGLE_MEMBER_IMPORT_MAX_BYTES
    if size > limit:
        raise UserError(
            "file_too_large",
            gettext_lazy("The file is too large (%(size)s MB); the limit is %(limit)s MB — split it"),
            field="file",
            status=413,
            size=f"{size / 1048576:.1f}",
            limit=f"{limit / 1048576:.1f}",
        )


def too_many_rows(limit: int) -> UserError:
    return UserError(
        "too_many_rows",
        gettext_lazy("The file has more than %(limit)s rows, the limit; split it into several files"),
        field="file",
        status=413,
        limit=f"{limit:,}",
    )


_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")


def check_unpacked_size(content: bytes) -> None:
    """Refuse an .xlsx that unpacks to more than the limit or holds more rows than the row limit in any
    sheet — decided by streaming the zip's parts (cheap), before openpyxl parses anything: openpyxl reads
    a whole sheet just to size it when the sheet has no <dimension> element."""
    limit = settings.KANGLE_MEMBER_IMPORT_MAX_UNPACKED_BYTES
    max_rows = settings.KANGLE_MEMBER_IMPORT_MAX_ROWS + 1  # the header row
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not a zip: openpyxl reports it as an unreadable file
    with archive:
        declared = sum(info.file_size for info in archive.infolist())
        if declared > limit:
            raise _expands_too_much(declared, limit)
        unpacked = 0
        for info in archive.infolist():
            if not info.filename.startswith("xl/worksheets/") or not info.filename.endswith(".xml"):
                continue
            rows, tail = 0, b""
            with archive.open(info) as part:
                while chunk := part.read(1 << 20):
                    unpacked += len(chunk)
                    if unpacked > limit:
                        raise _expands_too_much(unpacked, limit)
                    window = tail + chunk
                    rows += len(_ROW_TAG.findall(window)) - len(_ROW_TAG.findall(tail))
                    tail = window[-16:]
                    if rows > max_rows:
                        raise too_many_rows(settings.KANGLE_MEMBER_IMPORT_MAX_ROWS)


def _expands_too_much(size: int, limit: int) -> UserError:
    return UserError(
        "file_expands_too_much",
        gettext_lazy(
            "The file unpacks to %(size)s MB, more than the %(limit)s MB limit; keep only the rows to import, "
            "or split it"
        ),
        field="file",
        status=413,
        size=f"{size / 1048576:.0f}",
        limit=f"{limit / 1048576:.0f}",
    )


def read_table(content: bytes, filename: str, *, header_only: bool = False) -> Table:
    """The table of the first visible sheet; with ``header_only`` just its header row (cheap)."""
    check_size(len(content))
    name = filename.lower()
    if name.endswith((".xlsx", ".xlsm")):
        check_unpacked_size(content)
        return _read_xlsx(content, header_only=header_only)
    if name.endswith((".csv", ".txt")):
        return _read_csv(content)
    if name.endswith(".xls"):
        raise UserError(
            "old_excel", gettext_lazy("Old .xls files are not supported; save as .xlsx"), field="file"
        )
    raise UserError("bad_file_type", gettext_lazy("Only .xlsx or .csv files are accepted"), field="file")


def _table_from_rows(rows: list[tuple[int, list]]) -> Table:
    def blank(values):
        return all(v is None or (isinstance(v, str) and not v.strip()) for v in values)

    rows = [(number, values) for number, values in rows if not blank(values)]
    if not rows:
        raise UserError("empty_file", gettext_lazy("The file holds no data"), field="file")
    (_, header_values), *body = rows
    headers = [_normal_header(v) for v in header_values]
    while headers and not headers[-1]:
        headers.pop()
    return Table(headers=headers, rows=body)


def _read_xlsx(content: bytes, *, header_only: bool = False) -> Table:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise UserError(
            "unreadable_file",
            gettext_lazy("The Excel file cannot be read (damaged, or not .xlsx)"),
            field="file",
        ) from None
    try:
        sheet = next((ws for ws in workbook.worksheets if ws.sheet_state == "visible"), None)
        if sheet is None:
            raise UserError("no_visible_sheet", gettext_lazy("The file has no visible sheet"), field="file")
        grid: list[list] = []
        # Counted while streaming: a sheet without a dimension element tells nothing of its size up front.
        limit = settings.KANGLE_MEMBER_IMPORT_MAX_ROWS + 1  # the header row
        for values in sheet.iter_rows(values_only=True):
            if len(grid) >= limit and (
                len(grid) >= 2 * limit + 1000 or any(v is not None and str(v).strip() for v in values)
            ):
                raise too_many_rows(settings.KANGLE_MEMBER_IMPORT_MAX_ROWS)
            grid.append([FormulaCell(v) if isinstance(v, str) and v.startswith("=") else v for v in values])
            if header_only and any(v is not None and str(v).strip() for v in values):
                return Table(headers=[_normal_header(v) for v in values], rows=[])
        merged = _merged_ranges(workbook, sheet)
    finally:
        workbook.close()
    for min_col, min_row, max_col, max_row in merged:
        if min_row - 1 >= len(grid):
            continue
        top_left = grid[min_row - 1][min_col - 1] if min_col - 1 < len(grid[min_row - 1]) else None
        for r in range(min_row - 1, min(max_row, len(grid))):
            row = grid[r]
            if len(row) < max_col:
                row.extend([None] * (max_col - len(row)))
            for c in range(min_col - 1, max_col):
                if r != min_row - 1 or c != min_col - 1:
                    row[c] = top_left
    return _table_from_rows([(i + 1, row) for i, row in enumerate(grid)])


def _merged_ranges(workbook, sheet) -> list[tuple[int, int, int, int]]:
    """Merged ranges of a read-only sheet, from the <mergeCells> element of its XML part."""
    try:
        with workbook._archive.open(sheet._worksheet_path) as part:
            data = part.read()
    except (AttributeError, KeyError):
        return []
    return [range_boundaries(ref.decode("ascii")) for ref in _MERGE.findall(data)]


def _read_csv(content: bytes) -> Table:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise UserError(
            "bad_encoding", gettext_lazy("Unknown text encoding; save the CSV as UTF-8 or GBK"), field="file"
        )
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    rows = []
    limit = settings.KANGLE_MEMBER_IMPORT_MAX_ROWS + 1  # the header row
    for values in reader:
        if len(rows) >= limit and any(v.strip() for v in values):
            raise too_many_rows(settings.KANGLE_MEMBER_IMPORT_MAX_ROWS)
        rows.append((reader.line_num, [FormulaCell(v) if v.startswith("=") else v for v in values]))
    return _table_from_rows(rows)


def table_to_json(table: Table) -> str:
    """A compact, lossless-enough JSON form of a parsed table (dates as ISO dates, formulas marked)."""

    def cell(value):
        if isinstance(value, FormulaCell):
            return {"formula": str(value)}
        if isinstance(value, dt.datetime | dt.date):
            return value.strftime("%Y-%m-%d")
        if isinstance(value, dt.time):
            return value.isoformat()
        return value

    return json.dumps(
        {"headers": table.headers, "rows": [[n, [cell(v) for v in values]] for n, values in table.rows]},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def table_from_json(text: str) -> Table:
    data = json.loads(text)

    def cell(value):
        return FormulaCell(value["formula"]) if isinstance(value, dict) else value

    return Table(headers=data["headers"], rows=[(n, [cell(v) for v in values]) for n, values in data["rows"]])


def auto_mapping(headers: list[str]) -> dict[str, int]:
    """Target field → column index, by header name (Chinese aliases, the field's label or its code)."""
    lookup = {}
    for field, names in ALIASES.items():
        for alias in [*names, field, english_label(field)]:
            lookup.setdefault(alias.lower(), field)
    mapping: dict[str, int] = {}
    for index, header in enumerate(headers):
        field = lookup.get(header.lower())
        if field and field not in mapping:
            mapping[field] = index
    return mapping


def template_bytes(skill_names: list[str], aspect_names: list[str]) -> bytes:
    """The import template; aspect names come from the service catalogue, the place they are kept."""
    example = [
        "张三",
        "男",
        1985,
        "13800138000",
        "",
        "正式党员",
        "示例科技有限公司",
        "示例科技有限公司党支部",
        "工程师",
        "康健路 100 弄 1 号 101 室",
        "康乐居民区",
        "",
        "",
        "信息技术、驾驶",
        "周六上午、周日下午",
        "、".join(aspect_names[:2]),
        8,
        "王芳(配偶)",
    ]
    notes = [
        ["带 * 的列必填 / columns marked * are required"],
        [
            "政治面貌 / political status: "
            + "、".join(render(label, language=CHINESE) for label in PoliticalStatus.labels)
        ],
        ["服务意愿 / aspects: " + "、".join(aspect_names)],
        ["服务时间 / availability: 周一上午 … 周日晚上、周末、工作日晚上、周六全天"],
        [
            "专业特长 / skills: "
            + "、".join(skill_names)
            + "（其他写法记为其他特长 / others become free text）"
        ],
        ["身份证号请设为文本格式 / format the ID column as text"],
        ["居民区、微网格可填名称或编码 / community and micro-grid: name or code"],
    ]
    return workbook_bytes(
        [
            ("在职党员", [header_label(f) for f in TEMPLATE_COLUMNS], [example]),
            ("填写说明", ["说明 / notes"], notes),
        ]
    )


def excel_date(value) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value)
