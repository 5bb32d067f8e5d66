"""Pages: desk workbench, contractor and resident phone pages, tracking, photos, figures."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import load_workbook

from cases.helpers import RESIDENT_PHONE, T0, advance, png_bytes, report, upload
from kangle.cases import services
from kangle.cases.models import Case, CasePhoto, CaseStatus
from kangle.core.models import Throttle

pytestmark = pytest.mark.django_db


def login(client, user):
    client.force_login(user)
    return client


# --- desk -------------------------------------------------------------------------------------------------
def test_queue_shows_cases_in_scope_with_sla_colour(client, personas, termite):
    case = report(personas, termite, now=dt.datetime.now(dt.UTC) - dt.timedelta(hours=30))
    page = login(client, personas.secretary_a).get("/cases/desk/")
    assert page.status_code == 200
    body = page.content.decode()
    assert case.number in body and 'data-colour="bad"' in body
    overdue = client.get("/cases/desk/overdue/").content.decode()
    assert case.number in overdue


def test_queue_outsider_sees_nothing_and_detail_is_404(client, personas, termite):
    case = report(personas, termite)
    login(client, personas.secretary_b)
    assert case.number not in client.get("/cases/desk/").content.decode()
    assert client.get(f"/cases/desk/{case.number}/").status_code == 404
    assert client.post(f"/cases/desk/{case.number}/accept/").status_code == 404


def test_queue_anonymous_and_wrong_role(client, personas, termite):
    case = report(personas, termite)
    assert client.get("/cases/desk/").status_code == 302
    login(client, personas.member)
    assert client.get("/cases/desk/").status_code == 403  # a staff page, refused before any lookup
    assert client.get(f"/cases/desk/{case.number}/").status_code == 403
    login(client, personas.contractor)
    assert client.get(f"/cases/desk/{case.number}/").status_code == 403


def _queue_queries(client, django_assert_max_num_queries, count):
    with django_assert_max_num_queries(count) as captured:
        assert client.get("/cases/desk/").status_code == 200
    return len(captured.captured_queries)


def test_queue_query_count_does_not_grow_with_rows(client, personas, termite, django_assert_max_num_queries):
    login(client, personas.secretary_a)
    report(personas, termite, address="A 1")
    one = _queue_queries(client, django_assert_max_num_queries, 30)
    report(personas, termite, address="A 2")
    report(personas, termite, address="A 3")
    three = _queue_queries(client, django_assert_max_num_queries, 30)
    assert one == three


def test_detail_shows_timeline_and_accepts(client, personas, termite):
    case = report(personas, termite)
    login(client, personas.secretary_a)
    page = client.get(f"/cases/desk/{case.number}/").content.decode()
    assert 'data-testid="timeline"' in page and "138****5678" in page and RESIDENT_PHONE not in page
    # Each step's form posts to the step's own address, as the route gives it.
    for step in ("accept", "pause", "cancel"):
        assert f'action="{reverse("cases:desk-act", args=[case.number, step])}"' in page
    response = client.post(f"/cases/desk/{case.number}/accept/", {"version": case.version})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED
    # The same form posted again (stale version) is refused with a message, nothing changes.
    client.post(f"/cases/desk/{case.number}/accept/", {"version": case.version})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_the_dispatch_form_offers_the_contractors_here_only_for_an_accepted_case(
    client, personas, termite, contractor_org, monkeypatch
):
    from kangle.cases import views
    from kangle.cases.models import Contractor

    elsewhere = Contractor.objects.create(name="别处公司", org=personas.tree.other_street, priority=1)
    Contractor.objects.create(name="停用公司", org=personas.tree.street, priority=1, is_active=False)
    case = report(personas, termite)
    login(client, personas.secretary_a)
    # A reported case shows no dispatch form, and its contractors are not read at all.
    read_here = views._contractors_here
    monkeypatch.setattr(views, "_contractors_here", lambda case: pytest.fail("contractors read for no form"))
    reported = client.get(f"/cases/desk/{case.number}/").content.decode()
    assert 'id="dispatch-contractor"' not in reported and contractor_org.name not in reported
    monkeypatch.setattr(views, "_contractors_here", read_here)
    client.post(f"/cases/desk/{case.number}/accept/", {"version": case.version})
    accepted = client.get(f"/cases/desk/{case.number}/").content.decode()
    form = accepted[accepted.index('id="dispatch-contractor"') : accepted.index('id="act-dispatch"')]
    assert f'<option value="{contractor_org.pk}">{contractor_org.name}</option>' in form
    assert elsewhere.name not in form and "停用公司" not in form
    # The category's default contractor is named on the empty choice.
    assert f'<option value="">默认：{contractor_org.name}</option>' in form


def test_desk_transition_not_allowed_shows_message(client, personas, termite):
    case = report(personas, termite)
    login(client, personas.secretary_a)
    response = client.post(f"/cases/desk/{case.number}/close/", {"version": case.version}, follow=True)
    assert "不能执行" in response.content.decode()


def test_desk_new_with_duplicate_hint(client, personas, termite):
    first = report(personas, termite, address="康健路 300 弄 5 号")
    login(client, personas.secretary_a)
    form = {
        "channel": "walk_in",
        "category": "termite",
        "org": personas.tree.estate_a.code,
        "address": "康健路300弄5号",
        "phone": "13812345679",
        "title": "又见飞蚁",
    }
    page = client.post("/cases/desk/new/", form)
    assert page.status_code == 200 and first.number in page.content.decode()
    assert Case.objects.count() == 1
    response = client.post("/cases/desk/new/", {**form, "confirm_duplicate": "1"})
    assert response.status_code == 302 and Case.objects.count() == 2


def test_desk_new_bad_phone_shows_field_message(client, personas, termite):
    login(client, personas.secretary_a)
    page = client.post(
        "/cases/desk/new/",
        {
            "channel": "walk_in",
            "category": "termite",
            "org": personas.tree.estate_a.code,
            "address": "x 路 1 号",
            "phone": "123",
            "title": "t",
        },
    )
    assert "手机号格式不正确" in page.content.decode()
    assert not Case.objects.exists()


def test_desk_new_outsider_place_is_404(client, personas, termite):
    login(client, personas.secretary_b)
    response = client.post(
        "/cases/desk/new/",
        {
            "channel": "walk_in",
            "category": "termite",
            "org": personas.tree.estate_a.code,
            "address": "x",
            "phone": RESIDENT_PHONE,
            "title": "t",
        },
    )
    assert response.status_code == 404


# --- contractor -------------------------------------------------------------------------------------------
def test_contractor_pages_flow_and_someone_elses_case(
    client, personas, termite, contractor_org, other_contractor, photo
):
    case = advance(personas, report(personas, termite), photo, to="dispatched")
    login(client, personas.contractor)
    assert case.number in client.get("/cases/c/").content.decode()
    assert client.post(f"/cases/c/{case.number}/accept/").status_code == 302
    start = dt.datetime.now() + dt.timedelta(hours=2)
    client.post(
        f"/cases/c/{case.number}/book/",
        {
            "slot_start": start.strftime("%Y-%m-%dT%H:%M"),
            "slot_end": (start + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert Case.objects.get(pk=case.pk).status == CaseStatus.BOOKED
    client.post(f"/cases/c/{case.number}/check_in/", {"photos": upload()})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.BOOKED  # before the slot: a reason is needed
    client.post(f"/cases/c/{case.number}/check_in/", {"photos": upload(), "early_reason": "居民在家"})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ON_SITE
    client.post(
        f"/cases/c/{case.number}/step/", {"step": "nest_located", "note": "门框内", "photos": upload()}
    )
    client.post(f"/cases/c/{case.number}/finish/", {"note": "已灭杀"})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.WORK_DONE
    assert CasePhoto.objects.filter(case=case).count() == 2
    login(client, other_contractor[1])
    assert case.number not in client.get("/cases/c/").content.decode()
    assert client.get(f"/cases/c/{case.number}/").status_code == 404
    assert client.post(f"/cases/c/{case.number}/finish/").status_code == 404
    login(client, personas.secretary_b)
    assert client.get("/cases/c/").status_code == 404


def test_contractor_check_in_with_non_image_is_refused(client, personas, termite, contractor_org, photo):
    case = advance(personas, report(personas, termite), photo, to="booked")
    login(client, personas.contractor)
    page = client.post(
        f"/cases/c/{case.number}/check_in/",
        {"photos": SimpleUploadedFile("x.png", b"not an image", content_type="image/png")},
        follow=True,
    )
    assert "只能上传" in page.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.BOOKED


# --- resident ---------------------------------------------------------------------------------------------
def test_resident_reports_with_photo_and_sees_it(client, personas, termite):
    login(client, personas.resident)
    response = client.post(
        "/cases/report/",
        {
            "category": "termite",
            "org": personas.tree.estate_a.code,
            "address": "康健路 8 号",
            "title": "飞蚁",
            "phone": RESIDENT_PHONE,
            "photos": upload(),
        },
    )
    case = Case.objects.get()
    assert response.status_code == 302 and case.reporter == personas.resident
    assert case.number in client.get("/cases/mine/").content.decode()
    photo = CasePhoto.objects.get(case=case)
    assert client.get(f"/files/case-photo/{photo.pk}/").status_code == 200
    login(client, personas.secretary_b)
    assert client.get(f"/files/case-photo/{photo.pk}/").status_code == 404
    login(client, personas.member)
    assert client.get(f"/files/case-photo/{photo.pk}/").status_code == 404
    client.logout()
    assert client.get(f"/files/case-photo/{photo.pk}/").status_code == 404
    login(client, personas.secretary_a)
    served = client.get(f"/files/case-photo/{photo.pk}/")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    assert b"".join(served.streaming_content) == png_bytes()
    # The desk sees the photo in the timeline, under the event it came with.
    detail = client.get(f"/cases/desk/{case.number}/").content.decode()
    timeline = detail[detail.index('data-testid="timeline"') :]
    item = timeline[timeline.index(f'data-kind="{photo.event.kind}"') :]
    assert f'<img src="/files/case-photo/{photo.pk}/"' in item[: item.index("</li>")]


def test_resident_oversized_upload_is_refused(client, personas, termite, settings):
    settings.KANGLE_UPLOAD_MAX_BYTES = 50
    login(client, personas.resident)
    page = client.post(
        "/cases/report/",
        {
            "category": "termite",
            "org": personas.tree.estate_a.code,
            "address": "康健路 8 号",
            "title": "飞蚁",
            "photos": upload(),
        },
    )
    assert "的文件不能超过" in page.content.decode()
    assert not Case.objects.exists()


def test_resident_pages_wrong_role(client, personas):
    login(client, personas.member)
    assert client.get("/cases/report/").status_code == 404
    assert client.get("/cases/mine/").status_code == 404
    login(client, personas.secretary_b)
    assert client.get("/cases/report/").status_code == 404


# --- tracking ---------------------------------------------------------------------------------------------
def test_tracking_with_number_and_suffix(client, personas, termite):
    case = report(personas, termite)
    response = client.post("/cases/track/", {"number": case.number.lower(), "suffix": "5678"})
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert case.number in page and 'data-status="reported"' in page
    assert "王" not in page and RESIDENT_PHONE not in page


def test_tracking_shows_the_photos_of_public_events_only(client, personas, termite):
    from django.core.files.base import ContentFile

    from kangle.cases.models import CaseEvent, EventKind

    case = report(personas, termite)

    def photo_of(public: bool) -> CasePhoto:
        event = CaseEvent.objects.create(
            case=case, kind=EventKind.NOTE, at=T0 + dt.timedelta(minutes=5), public=public, note="现场照片"
        )
        return CasePhoto.objects.create(
            case=case,
            event=event,
            file=ContentFile(png_bytes(), name="p.png"),
            content_type="image/png",
            size=len(png_bytes()),
            uploaded_at=T0,
        )

    shown, internal = photo_of(public=True), photo_of(public=False)
    response = client.post("/cases/track/", {"number": case.number, "suffix": "5678"})
    page = client.get(response["Location"]).content.decode()
    assert f"/files/case-photo/{shown.pk}/" in page and f"/files/case-photo/{internal.pk}/" not in page
    login(client, personas.secretary_a)
    desk = client.get(f"/cases/desk/{case.number}/").content.decode()
    assert f"/files/case-photo/{shown.pk}/" in desk and f"/files/case-photo/{internal.pk}/" in desk


def test_tracking_wrong_suffix_leaks_nothing_and_is_rate_limited(client, personas, termite):
    case = report(personas, termite)
    wrong = client.post("/cases/track/", {"number": case.number, "suffix": "0000"}).content.decode()
    unknown = client.post("/cases/track/", {"number": "MQ99999999999", "suffix": "5678"}).content.decode()
    for body in (wrong, unknown):
        assert "No case matches" in body or "没有找到" in body
        assert case.title not in body and "白蚁" not in body
    assert client.get(f"/cases/track/{case.number}/").status_code == 404
    for _ in range(4):
        client.post("/cases/track/", {"number": case.number, "suffix": "1111"})
    locked = client.post("/cases/track/", {"number": case.number, "suffix": "5678"})
    assert locked.status_code == 429
    assert client.get(f"/cases/track/{case.number}/").status_code == 404
    assert Throttle.objects.filter(scope="case-track", hits__gt=5).exists()


def test_tracking_lock_is_shared_through_the_database(client, personas, termite):
    """Another client (another process or machine) sees the per-case lock: it is a row, not memory."""
    from django.test import Client

    case = report(personas, termite)
    for _ in range(5):
        client.post("/cases/track/", {"number": case.number, "suffix": "1111"}, REMOTE_ADDR="10.0.0.1")
    other = Client(REMOTE_ADDR="10.0.0.2")
    assert other.post("/cases/track/", {"number": case.number, "suffix": "5678"}).status_code == 429


def test_walk_in_resident_rates_after_tracking(client, personas, termite, contractor_org, photo):
    case = advance(personas, report(personas, termite), photo, to="work_done")
    assert client.post(f"/cases/rate/{case.number}/", {"satisfied": "yes", "rating": "5"}).status_code == 404
    client.post("/cases/track/", {"number": case.number, "suffix": "5678"})
    client.post(f"/cases/rate/{case.number}/", {"satisfied": "yes", "rating": "5"})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED


def test_rating_by_someone_other_than_the_reporter_is_404(client, personas, termite, contractor_org, photo):
    case = report(personas, termite)
    Case.objects.filter(pk=case.pk).update(reporter=personas.resident)
    case = advance(personas, case, photo, to="work_done")
    login(client, personas.member)
    assert client.post(f"/cases/rate/{case.number}/", {"satisfied": "yes", "rating": "5"}).status_code == 404
    login(client, personas.resident)
    client.post(f"/cases/rate/{case.number}/", {"satisfied": "yes", "rating": "5"})
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED


# --- figures ----------------------------------------------------------------------------------------------
def test_figures_page_and_excel_export(client, personas, termite, contractor_org, photo):
    case = report(personas, termite, now=T0)
    Case.objects.filter(pk=case.pk).update(reporter=personas.resident)
    case = advance(personas, case, photo, to="work_done")
    services.case_feedback(
        actor=personas.resident, case=case, satisfied=True, rating=5, now=T0 + dt.timedelta(hours=3)
    )
    late = report(personas, termite, now=T0, address="别处 1 号")
    from kangle.cases import jobs

    jobs.sla_sweep(now=T0 + dt.timedelta(hours=49))
    login(client, personas.secretary_a)
    page = client.get("/cases/figures/", {"start": "2026-06-01", "end": "2026-06-30"}).content.decode()
    assert "50.0%" in page  # response rate: one of two cases on site in time
    export = client.get("/cases/figures.xlsx", {"start": "2026-06-01", "end": "2026-06-30"})
    book = load_workbook(io.BytesIO(export.content))
    summary = {row[0]: row[1] for row in book["汇总 Summary"].iter_rows(values_only=True)}
    assert summary["案件数 Cases"] == 2
    assert summary["响应率 Response rate (%)"] == 50.0
    assert summary["解决率 Resolution rate (%)"] == 50.0
    assert summary["满意率 Satisfaction rate (%)"] == 100.0
    numbers = [row[0] for row in book["案件 Cases"].iter_rows(min_row=2, values_only=True)]
    assert sorted(numbers) == sorted([case.number, late.number])
    login(client, personas.secretary_b)
    outsider = load_workbook(io.BytesIO(client.get("/cases/figures.xlsx", {"start": "2026-06-01"}).content))
    assert [row for row in outsider["案件 Cases"].iter_rows(min_row=2, values_only=True)] == []
    login(client, personas.member)
    assert client.get("/cases/figures/").status_code == 404


def test_pages_speak_chinese_by_default_and_english_on_request(client, personas, termite):
    report(personas, termite)
    login(client, personas.secretary_a)
    chinese = client.get("/cases/desk/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "案件队列" in chinese and "工作站来访" not in chinese and "已登记" in chinese
    english = client.get("/cases/desk/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Case queue" in english


def test_extension_asked_on_the_phone_and_approved_on_the_workbench(
    client, personas, termite, contractor_org, photo
):
    case = advance(personas, report(personas, termite), photo, to="assigned")
    login(client, personas.contractor)
    page = client.post(
        f"/cases/c/{case.number}/extension/",
        {"milestone": "completed", "hours": "0", "reason": "x"},
        follow=True,
    )
    assert "延期时长应为" in page.content.decode()
    client.post(
        f"/cases/c/{case.number}/extension/", {"milestone": "completed", "hours": "12", "reason": "药剂起效"}
    )
    from kangle.cases.models import ExtensionRequest

    request = ExtensionRequest.objects.get()
    login(client, personas.secretary_b)
    assert client.post(f"/cases/desk/extension/{request.pk}/approve/").status_code == 404
    login(client, personas.secretary_a)
    client.post(f"/cases/desk/extension/{request.pk}/approve/")
    request.refresh_from_db()
    assert request.status == "pending"  # a secretary may not decide
    login(client, personas.area_admin)
    client.post(f"/cases/desk/extension/{request.pk}/approve/")
    request.refresh_from_db()
    assert request.status == "approved"
    assert case.milestones.get(milestone__code="completed").extended_hours == 12


def test_desk_pauses_and_resumes_the_clock(client, personas, termite):
    case = report(personas, termite)
    login(client, personas.secretary_a)
    page = client.post(f"/cases/desk/{case.number}/pause/", {"reason": ""}, follow=True)
    assert "请填写暂停理由" in page.content.decode()
    client.post(f"/cases/desk/{case.number}/pause/", {"reason": "居民不在家"})
    assert Case.objects.get(pk=case.pk).paused_at is not None
    client.post(f"/cases/desk/{case.number}/resume/")
    assert Case.objects.get(pk=case.pk).paused_at is None


def test_admin_lists_reference_data(client, personas, termite):
    client.force_login(personas.superuser)
    for url in ("/admin/cases/slapolicy/", "/admin/cases/casecategory/", "/admin/cases/contractor/"):
        assert client.get(url).status_code == 200
    assert "白蚁" in client.get("/admin/cases/casecategory/").content.decode()


def test_figures_workbook_writes_typed_text_as_text_and_is_audited(client, personas, termite):
    from kangle.core.models import AuditEvent

    case = report(personas, termite, now=T0)
    personas.tree.estate_a.name = '=HYPERLINK("http://evil.example","点我")'
    personas.tree.estate_a.save()
    termite.name = "+cmd|' /C calc'!A0"
    termite.save()
    login(client, personas.secretary_a)
    export = client.get("/cases/figures.xlsx", {"start": "2026-06-01", "end": "2026-06-30"})
    book = load_workbook(io.BytesIO(export.content))
    rows = list(book["案件 Cases"].iter_rows(min_row=2))
    assert rows[0][0].value == case.number
    category, place = rows[0][1], rows[0][2]
    assert category.data_type == place.data_type == "s"
    assert category.value == "'+cmd|' /C calc'!A0" and place.value.startswith("'=HYPERLINK")
    event = AuditEvent.objects.get(verb="case_figures.export")
    assert event.actor == personas.secretary_a and event.org_path == personas.tree.community_a.path


def test_contractor_sees_masked_contact_and_reveals_it_with_an_audit_event(
    client, personas, termite, contractor_org, photo
):
    from kangle.core.models import AuditEvent

    case = advance(personas, report(personas, termite), photo, to="assigned")
    login(client, personas.contractor)
    page = client.get(f"/cases/c/{case.number}/").content.decode()
    assert RESIDENT_PHONE not in page and "201 室" not in page
    assert case.masked_phone in page
    assert not AuditEvent.objects.filter(verb="case.contact_reveal").exists()
    revealed = client.post(f"/cases/c/{case.number}/reveal/")
    assert revealed.status_code == 200
    body = revealed.content.decode()
    assert RESIDENT_PHONE in body and "201 室" in body
    event = AuditEvent.objects.get(verb="case.contact_reveal")
    assert event.actor == personas.contractor and event.object_id == str(case.pk)
    login(client, personas.secretary_b)
    assert client.post(f"/cases/c/{case.number}/reveal/").status_code == 404
