import datetime as dt

import pytest
from django.http import Http404

from cases.helpers import RESIDENT_PHONE, T0, advance, report, upload
from kangle.cases import services
from kangle.cases.models import (
    AppointmentStatus,
    Case,
    CaseEvent,
    CaseMilestone,
    CaseStatus,
    Channel,
    EventKind,
    MilestoneState,
)
from kangle.core.errors import NotAllowed, UserError
from kangle.core.models import AuditEvent
from kangle.core.uploads import validate_image
from kangle.notify.models import OutboxMessage

pytestmark = pytest.mark.django_db(transaction=False)


def test_report_stores_case_number_clocks_and_tells_the_resident(
    personas, termite, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        case = report(personas, termite)
    assert case.number.startswith("MQ260610")
    assert case.status == CaseStatus.REPORTED
    clocks = {
        row.milestone.code: row for row in CaseMilestone.objects.filter(case=case).select_related("milestone")
    }
    assert clocks["on_site"].due_at == T0 + dt.timedelta(hours=24)
    assert clocks["on_site"].warn_at == T0 + dt.timedelta(hours=18)
    assert clocks["completed"].due_at == T0 + dt.timedelta(hours=48)
    assert clocks["completed"].next_escalation_at == T0 + dt.timedelta(hours=48)
    assert Case.objects.get(pk=case.pk).phone == RESIDENT_PHONE
    sms = OutboxMessage.objects.get()
    assert sms.to == RESIDENT_PHONE and case.number in sms.body
    assert AuditEvent.objects.filter(verb="case.report", object_id=str(case.pk)).exists()


def test_full_flow_meets_milestones_and_closes_on_satisfied_feedback(
    personas, termite, contractor_org, photo
):
    case = report(personas, termite)
    case = advance(personas, case, photo, to="work_done")
    assert case.status == CaseStatus.WORK_DONE
    states = dict(CaseMilestone.objects.filter(case=case).values_list("milestone__code", "state"))
    assert states == {"on_site": MilestoneState.MET, "completed": MilestoneState.MET}
    assert not CaseMilestone.objects.filter(case=case, due_at__isnull=False).exists()
    case.reporter = personas.resident
    Case.objects.filter(pk=case.pk).update(reporter=personas.resident)
    services.case_feedback(
        actor=personas.resident, case=case, satisfied=True, rating=5, now=T0 + dt.timedelta(hours=5)
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CLOSED and case.closed_at is not None
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    for kind in (
        EventKind.REPORTED,
        EventKind.ACCEPTED,
        EventKind.DISPATCHED,
        EventKind.CONTRACTOR_ACCEPTED,
        EventKind.BOOKED,
        EventKind.CONTACTED,
        EventKind.CHECKED_IN,
        EventKind.WORK_DONE,
        EventKind.FEEDBACK,
        EventKind.CLOSED,
    ):
        assert kind in kinds


def test_unsatisfied_feedback_reopens_for_rework(personas, termite, contractor_org, photo):
    case = report(personas, termite)
    Case.objects.filter(pk=case.pk).update(reporter=personas.resident)
    case = advance(personas, case, photo, to="work_done")
    with pytest.raises(UserError) as error:
        services.case_feedback(actor=personas.resident, case=case, satisfied=False, rating=2, comment="")
    assert error.value.field == "comment"
    services.case_feedback(actor=personas.resident, case=case, satisfied=False, rating=2, comment="还有飞蚁")
    case.refresh_from_db()
    assert case.status == CaseStatus.REWORK and case.rework_count == 1
    services.case_book(
        actor=personas.contractor,
        case=case,
        slot_start=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1),
        slot_end=dt.datetime.now(dt.UTC) + dt.timedelta(hours=2),
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.BOOKED


@pytest.mark.parametrize(
    ("status", "step"),
    [
        ("reported", "dispatch"),
        ("reported", "contractor_accept"),
        ("accepted", "finish"),
        ("work_done", "accept"),
    ],
)
def test_transition_not_allowed_gives_a_clear_message(personas, termite, contractor_org, photo, status, step):
    case = report(personas, termite)
    if status != "reported":
        case = advance(personas, case, photo, to=status)
    calls = {
        "dispatch": lambda: services.case_dispatch(actor=personas.secretary_a, case=case),
        "contractor_accept": lambda: services.case_contractor_accept(actor=personas.contractor, case=case),
        "finish": lambda: services.case_finish(actor=personas.contractor, case=case),
        "accept": lambda: services.case_accept(actor=personas.secretary_a, case=case),
    }
    if step in ("contractor_accept", "finish") and case.contractor_id is None:
        with pytest.raises(Http404):  # not dispatched to this contractor yet: not theirs to see
            calls[step]()
        return
    before = CaseEvent.objects.count()
    with pytest.raises(UserError) as error:
        calls[step]()
    assert error.value.code == "transition_not_allowed"
    assert "不能执行" in error.value.zh and "not allowed" in error.value.en
    assert CaseEvent.objects.count() == before


def test_cancel_needs_reason_and_stops_clocks(personas, termite):
    case = report(personas, termite)
    with pytest.raises(UserError) as error:
        services.case_cancel(actor=personas.secretary_a, case=case, reason="  ")
    assert error.value.field == "reason"
    services.case_cancel(actor=personas.secretary_a, case=case, reason="居民已自行处理")
    assert set(CaseMilestone.objects.filter(case=case).values_list("state", flat=True)) == {
        MilestoneState.CANCELLED
    }
    assert not CaseMilestone.objects.filter(case=case, due_at__isnull=False).exists()
    with pytest.raises(UserError):
        services.case_cancel(actor=personas.secretary_a, case=case, reason="again")


def test_contractor_acting_on_someone_elses_case_is_404(
    personas, termite, contractor_org, other_contractor, photo
):
    case = advance(personas, report(personas, termite), photo, to="dispatched")
    _, stranger = other_contractor
    for call in (
        lambda: services.case_contractor_accept(actor=stranger, case=case),
        lambda: services.case_return(actor=stranger, case=case, reason="不是我的"),
        lambda: services.case_check_in(actor=stranger, case=case, photos=[photo]),
    ):
        with pytest.raises(Http404):
            call()


def test_return_needs_reason_and_goes_back_to_the_desk(personas, termite, contractor_org, photo):
    case = advance(personas, report(personas, termite), photo, to="dispatched")
    with pytest.raises(UserError) as error:
        services.case_return(actor=personas.contractor, case=case, reason="")
    assert error.value.field == "reason"
    services.case_return(actor=personas.contractor, case=case, reason="不在服务范围")
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED and case.contractor is None


def test_booking_in_the_past_is_refused(personas, termite, contractor_org, photo):
    case = advance(personas, report(personas, termite), photo, to="assigned")
    now = T0 + dt.timedelta(hours=1)
    with pytest.raises(UserError) as error:
        services.case_book(
            actor=personas.contractor,
            case=case,
            slot_start=now - dt.timedelta(minutes=1),
            slot_end=now + dt.timedelta(hours=1),
            now=now,
        )
    assert error.value.code == "slot_in_past" and error.value.field == "slot_start"
    with pytest.raises(UserError) as error:
        services.case_book(
            actor=personas.contractor,
            case=case,
            slot_start=now + dt.timedelta(hours=2),
            slot_end=now + dt.timedelta(hours=1),
            now=now,
        )
    assert error.value.code == "slot_order"
    case.refresh_from_db()
    assert case.status == CaseStatus.ASSIGNED


def test_booking_notifies_resident_with_slot_and_precautions(
    personas, termite, contractor_org, photo, django_capture_on_commit_callbacks
):
    case = advance(personas, report(personas, termite), photo, to="assigned")
    OutboxMessage.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        services.case_book(
            actor=personas.contractor,
            case=case,
            slot_start=T0 + dt.timedelta(hours=3),
            slot_end=T0 + dt.timedelta(hours=5),
            now=T0 + dt.timedelta(hours=1),
        )
    sms = OutboxMessage.objects.get()
    assert "13:00" in sms.body and "注意事项" in sms.body and "杀虫剂" in sms.body


def test_check_in_before_booking_is_refused(personas, termite, contractor_org, photo):
    case = advance(personas, report(personas, termite), photo, to="assigned")
    with pytest.raises(UserError) as error:
        services.case_check_in(actor=personas.contractor, case=case, photos=[photo])
    assert error.value.code == "no_booking"
    assert "预约" in error.value.zh


def test_check_in_needs_a_photo(personas, termite, contractor_org, photo):
    case = advance(personas, report(personas, termite), photo, to="booked")
    with pytest.raises(UserError) as error:
        services.case_check_in(actor=personas.contractor, case=case, photos=[])
    assert error.value.code == "photo_required"


def test_feedback_by_someone_other_than_the_reporter_is_refused(personas, termite, contractor_org, photo):
    case = report(personas, termite)
    Case.objects.filter(pk=case.pk).update(reporter=personas.resident)
    case = advance(personas, case, photo, to="work_done")
    for outsider in (personas.member, personas.secretary_a, personas.contractor):
        with pytest.raises(NotAllowed):
            services.case_feedback(actor=outsider, case=case, satisfied=True, rating=5)
    case.refresh_from_db()
    assert case.status == CaseStatus.WORK_DONE


def test_feedback_rating_out_of_range(personas, termite, contractor_org, photo):
    case = report(personas, termite)
    Case.objects.filter(pk=case.pk).update(reporter=personas.resident)
    case = advance(personas, case, photo, to="work_done")
    with pytest.raises(UserError) as error:
        services.case_feedback(actor=personas.resident, case=case, satisfied=True, rating=9)
    assert error.value.field == "rating"


def test_desk_actions_by_wrong_role_and_outsider(personas, termite):
    case = report(personas, termite, org=personas.tree.grid_a)
    with pytest.raises(Http404):
        services.case_accept(actor=personas.secretary_b, case=case)
    with pytest.raises(NotAllowed):
        services.case_accept(actor=personas.grid_leader, case=case)
    with pytest.raises(Http404):
        services.case_accept(actor=personas.member, case=case)


def test_intake_validates_phone_address_and_category(personas, termite):
    with pytest.raises(UserError) as error:
        report(personas, termite, address="")
    assert error.value.field == "address"
    with pytest.raises(UserError) as error:
        services.case_report(
            actor=personas.secretary_a,
            category=termite,
            org=personas.tree.estate_a,
            channel=Channel.WALK_IN,
            title="x",
            phone="12345",
            address="康健路 1 号",
        )
    assert error.value.field == "phone"
    with pytest.raises(UserError) as error:
        services.case_report(
            actor=personas.secretary_a,
            category=termite.parent,
            org=personas.tree.estate_a,
            channel=Channel.WALK_IN,
            title="x",
            phone=RESIDENT_PHONE,
            address="康健路 1 号",
        )
    assert error.value.field == "category"
    with pytest.raises(Http404):
        services.case_report(
            actor=personas.secretary_b,
            category=termite,
            org=personas.tree.estate_a,
            channel=Channel.WALK_IN,
            title="x",
            phone=RESIDENT_PHONE,
            address="康健路 1 号",
        )
    assert not Case.objects.exists()


def test_full_width_phone_is_normalised(personas, termite):
    case = services.case_report(
        actor=personas.secretary_a,
        category=termite,
        org=personas.tree.estate_a,
        channel=Channel.PHONE_CALL,
        title="飞蚁",
        phone="１３８ １２３４ ５６７８",
        address="康健路 1 号",
        now=T0,
    )
    assert Case.objects.get(pk=case.pk).phone == RESIDENT_PHONE


def test_duplicate_hint_for_same_address_and_category(personas, termite):
    first = report(personas, termite, address="康健路 300 弄 5 号")
    staff = personas.secretary_a
    assert list(services.open_duplicates(termite, "康健路300弄5号", actor=staff)) == [first]
    assert not services.open_duplicates(termite, "康健路 300 弄 6 号", actor=staff).exists()
    # The hint never names a case outside the asker's reach (another community, another street, a resident).
    for outsider in (personas.secretary_b, personas.contractor, personas.resident):
        assert not services.open_duplicates(termite, "康健路300弄5号", actor=outsider).exists()
    services.case_cancel(actor=staff, case=first, reason="重复")
    assert not services.open_duplicates(termite, "康健路 300 弄 5 号", actor=staff).exists()


def test_duplicate_hint_leaves_out_another_categorys_case_at_the_same_address(personas, termite):
    # The hint asks the address key alone: the key holds the category, so another category's open case at
    # the same address is never a duplicate.
    from kangle.cases.models import CaseCategory

    other_kind = (
        CaseCategory.objects.filter(is_active=True, children__isnull=True).exclude(pk=termite.pk).first()
    )
    staff = personas.secretary_a
    leak = report(personas, other_kind, address="康健路 300 弄 5 号")
    assert not services.open_duplicates(termite, "康健路300弄5号", actor=staff).exists()
    assert services.duplicate_numbers(termite, "康健路300弄5号", actor=staff, besides=0) == []
    assert services.duplicate_numbers(other_kind, "康健路300弄5号", actor=staff, besides=0) == [leak.number]


def test_duplicate_numbers_are_the_hints_numbers_newest_first_bound_per_request(personas, termite):
    # The creation answer's hint: the same cases as open_duplicates, newest first, at most five, the case
    # just written left out; one compiled read per person serves every address and case.
    staff = personas.secretary_a
    cases = [report(personas, termite, address="康健路 300 弄 5 号") for _ in range(7)]
    other = report(personas, termite, address="康健路 300 弄 6 号")
    newest_first = [case.number for case in reversed(cases)]
    found = services.duplicate_numbers(termite, "康健路300弄5号", actor=staff, besides=cases[-1].pk)
    assert found == newest_first[1:6]
    assert services.duplicate_numbers(termite, "康健路300弄6号", actor=staff, besides=0) == [other.number]
    assert services.duplicate_numbers(termite, "康健路300弄6号", actor=staff, besides=other.pk) == []
    assert services.duplicate_numbers(termite, "", actor=staff, besides=0) == []
    for outsider in (personas.secretary_b, personas.contractor, personas.resident):
        assert services.duplicate_numbers(termite, "康健路300弄5号", actor=outsider, besides=0) == []


def test_online_report_by_resident_only_in_own_community(personas, termite, photo):
    case = services.case_report(
        actor=personas.resident,
        category=termite,
        org=personas.tree.estate_a,
        channel=Channel.ONLINE,
        title="飞蚁",
        address="康健路 2 号",
        photos=[photo],
        now=T0,
    )
    assert case.reporter == personas.resident and case.photos.count() == 1
    with pytest.raises(UserError) as error:
        services.case_report(
            actor=personas.resident,
            category=termite,
            org=personas.tree.estate_b,
            channel=Channel.ONLINE,
            title="飞蚁",
            address="桂林路 2 号",
            now=T0,
        )
    assert error.value.code == "outside_home"
    with pytest.raises(NotAllowed):
        services.case_report(
            actor=personas.member,
            category=termite,
            org=personas.tree.estate_a,
            channel=Channel.ONLINE,
            title="飞蚁",
            address="康健路 2 号",
            now=T0,
        )


def test_rebooking_replaces_the_appointment(personas, termite, contractor_org, photo):
    case = advance(personas, report(personas, termite), photo, to="booked")
    services.case_book(
        actor=personas.contractor,
        case=case,
        slot_start=T0 + dt.timedelta(hours=6),
        slot_end=T0 + dt.timedelta(hours=7),
        now=T0 + dt.timedelta(hours=1),
    )
    statuses = sorted(case.appointments.values_list("status", flat=True))
    assert statuses == [AppointmentStatus.BOOKED, AppointmentStatus.REPLACED]


def test_default_dispatch_picks_covering_contractor(personas, termite, contractor_org):
    case = services.case_accept(actor=personas.secretary_a, case=report(personas, termite))
    case = services.case_dispatch(actor=personas.secretary_a, case=case)
    assert case.contractor == contractor_org


def test_dispatch_without_any_contractor_is_a_clear_error(personas, termite):
    case = services.case_accept(actor=personas.secretary_a, case=report(personas, termite))
    with pytest.raises(UserError) as error:
        services.case_dispatch(actor=personas.secretary_a, case=case)
    assert error.value.field == "contractor"


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("doc.pdf", b"%PDF-1.4 not an image", "not_an_image"),
        ("fake.png", b"\x89PNG\r\n\x1a\nbroken", "not_an_image"),
        ("empty.png", b"", "empty_upload"),
    ],
)
def test_non_image_uploads_are_refused(name, content, code):
    with pytest.raises(UserError) as error:
        validate_image(upload(name, content))
    assert error.value.code == code and name in error.value.zh


def test_oversized_upload_is_refused(settings):
    settings.KANGLE_UPLOAD_MAX_BYTES = 1000
    with pytest.raises(UserError) as error:
        validate_image(upload("big.png", b"\x89PNG" + b"0" * 2000))
    assert error.value.code == "upload_too_large"
