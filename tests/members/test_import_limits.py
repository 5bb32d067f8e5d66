"""Member import limits (issue 13 points 1–2): a small file that unpacks to a million rows is refused
quickly with a bilingual message, nothing is parsed inside a transaction, and a job row keeps a capped
error sample and counts; the import list page loads none of the heavy columns."""

from __future__ import annotations

import io
import threading
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from kangle.core.errors import UserError
from kangle.core.worker import KangleWorker
from kangle.members import importing, spreadsheets
from kangle.members.importing import ERROR_SAMPLE, import_preview, import_upload
from kangle.members.models import ImportJob, ImportStatus

from .conftest import HEADER, row, xlsx

SHEET = "xl/worksheets/sheet1.xml"
NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def expanding_xlsx(rows: int) -> bytes:
    """A real .xlsx whose sheet has no <dimension> element and ``rows`` rows of data under the header:
    a few hundred kilobytes that unpack to tens of megabytes."""
    base = zipfile.ZipFile(io.BytesIO(xlsx([HEADER])))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in base.infolist():
            if info.filename != SHEET:
                target.writestr(info, base.read(info.filename))
        with target.open(SHEET, "w", force_zip64=True) as sheet:
            sheet.write(f'<worksheet xmlns="{NS}"><sheetData>'.encode())
            header = "".join(f'<c t="inlineStr"><is><t>{name}</t></is></c>' for name in HEADER)
            sheet.write(f'<row r="1">{header}</row>'.encode())
            # No row numbers: the rows repeat, so the file compresses to little.
            block = '<row><c t="inlineStr"><is><t>张三</t></is></c></row>'.encode() * 10000
            for _ in range(rows // 10000):
                sheet.write(block)
            sheet.write('<row><c t="inlineStr"><is><t>张三</t></is></c></row>'.encode() * (rows % 10000))
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


@pytest.fixture(scope="module")
def million_rows() -> bytes:
    return expanding_xlsx(1_000_000)


@pytest.mark.django_db
def test_a_small_file_expanding_to_a_million_rows_is_refused_with_a_clear_message(personas, million_rows):
    assert len(million_rows) < 1024 * 1024  # small on the wire, far under the upload cap
    with pytest.raises(UserError) as refused:
        import_upload(
            actor=personas.secretary_a,
            org=personas.tree.community_a,
            filename="list.xlsx",
            content=million_rows,
        )
    error = refused.value
    assert error.code == "too_many_rows" and error.field == "file" and error.status == 413
    assert "50,000" in error.zh and "行" in error.zh and "50,000 rows" in error.en
    assert not ImportJob.objects.exists()  # refused at the upload: nothing stored


def test_the_row_limit_is_a_setting(settings):
    settings.KANGLE_MEMBER_IMPORT_MAX_ROWS = 10
    with pytest.raises(UserError) as refused:
        spreadsheets.read_table(expanding_xlsx(11), "list.xlsx")
    assert "10 rows" in refused.value.en
    assert len(spreadsheets.read_table(expanding_xlsx(10), "list.xlsx").rows) == 10


def test_an_xlsx_unpacking_beyond_the_limit_is_refused_before_parsing(settings, million_rows):
    settings.KANGLE_MEMBER_IMPORT_MAX_UNPACKED_BYTES = 10 * 1024 * 1024
    with pytest.raises(UserError) as refused:
        spreadsheets.read_table(million_rows, "list.xlsx")
    assert refused.value.code == "file_expands_too_much"
    assert "解压后" in refused.value.zh and "unpacks to" in refused.value.en


def test_a_csv_beyond_the_row_limit_is_refused(settings):
    settings.KANGLE_MEMBER_IMPORT_MAX_ROWS = 3
    content = ("姓名,手机号\n" + "".join(f"张{i},1380000{i:04d}\n" for i in range(4))).encode()
    with pytest.raises(UserError) as refused:
        spreadsheets.read_table(content, "list.csv")
    assert refused.value.code == "too_many_rows" and "3 rows" in refused.value.en
    # At the limit it is fine.
    ok = ("姓名,手机号\n" + "".join(f"张{i},1380000{i:04d}\n" for i in range(3))).encode()
    assert len(spreadsheets.read_table(ok, "list.csv").rows) == 3


@pytest.mark.django_db
def test_the_job_keeps_a_capped_error_sample_and_the_counts(personas, settings):
    bad = ERROR_SAMPLE + 200
    content = xlsx([HEADER, *[row(name=f"张{i}", phone="123") for i in range(bad)]])
    job = import_upload(
        actor=personas.secretary_a, org=personas.tree.community_a, filename="list.xlsx", content=content
    )
    job = import_preview(actor=personas.secretary_a, job=job)
    stored = ImportJob.objects.get(pk=job.pk)
    assert len(stored.errors) == ERROR_SAMPLE
    assert stored.error_count >= bad and stored.bad_row_count == bad


@pytest.mark.django_db
def test_the_import_list_page_loads_neither_the_upload_nor_the_parsed_rows(client, personas):
    content = xlsx([HEADER, row()])
    job = import_upload(
        actor=personas.secretary_a, org=personas.tree.community_a, filename="list.xlsx", content=content
    )
    import_preview(actor=personas.secretary_a, job=job)
    client.force_login(personas.secretary_a)
    with CaptureQueriesContext(connection) as queries:
        page = client.get("/members/import/")
    assert page.status_code == 200 and "list.xlsx" in page.content.decode()
    job_queries = [q["sql"] for q in queries if 'FROM "members_importjob"' in q["sql"]]
    assert job_queries
    for sql in job_queries:
        for column in ("content", "parsed", "errors"):
            assert f'"members_importjob"."{column}"' not in sql


@pytest.mark.django_db(transaction=True)
def test_the_worker_poll_is_not_blocked_while_an_upload_is_parsed(personas, monkeypatch):
    """The file is parsed with no transaction open, so the worker's task poll (a write transaction, which
    on SQLite takes the database's write lock) goes through meanwhile."""
    content = xlsx([HEADER, row()])
    parsing, polled = threading.Event(), threading.Event()
    real = spreadsheets._read_xlsx
    outcome = {}

    def slow_parse(*args, **kwargs):
        parsing.set()
        polled.wait(timeout=30)  # the parse goes on until the worker has polled
        return real(*args, **kwargs)

    monkeypatch.setattr(spreadsheets, "_read_xlsx", slow_parse)

    def upload_and_preview():
        try:
            job = import_upload(
                actor=personas.secretary_a,
                org=personas.tree.community_a,
                filename="list.xlsx",
                content=content,
            )
            outcome["job"] = import_preview(actor=personas.secretary_a, job=job)
        except Exception as exc:  # surfaced below
            outcome["error"] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=upload_and_preview)
    thread.start()
    try:
        assert parsing.wait(timeout=30)
        worker = KangleWorker(jobs=[], worker_id="poll-during-parse")
        assert worker.guarded("tasks", worker.run_tasks)  # no "database is locked"
        assert worker.database_errors == 0
    finally:
        polled.set()
        thread.join(timeout=60)
    assert "error" not in outcome, outcome
    assert outcome["job"].status == ImportStatus.PREVIEWED
    assert importing.ERROR_SAMPLE == ERROR_SAMPLE
