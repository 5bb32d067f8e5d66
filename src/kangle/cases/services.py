"""Every change to a case: intake, the flow from report to close, clocks (pause, extension), feedback.

Each service checks permission, locks the case row, checks the transition against ``TRANSITIONS``, writes
the change, a timeline event (``CaseEvent``) and an audit event, and defers notices to after the commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.db.models import F
from django.http import Http404

from kangle.accounts.models import RoleAssignment
from kangle.cases import clock, permissions, questions
from kangle.cases.models import (
    STATUS_RANK,
    Appointment,
    AppointmentStatus,
    Case,
    CaseCategory,
    CaseEvent,
    CaseMilestone,
    CasePhoto,
    CaseStatus,
    Channel,
    Contractor,
    EventKind,
    ExtensionRequest,
    ExtensionStatus,
    Feedback,
    MilestoneState,
    WorkStep,
)
from kangle.core import audit
from kangle.core.crypto import blind_index
from kangle.core.errors import NotAllowed, UserError
from kangle.core.masking import mask_address, mask_phone
from kangle.core.roles import Role
from kangle.core.text import is_mobile, normalise_phone, normalise_text
from kangle.core.timeutil import local, resolve_now
from kangle.core.uploads import ValidatedImage
from kangle.notify.services import notify_user, queue_sms
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import scope_queryset

S = CaseStatus

# Which statuses each step may start from. Anything else is refused with a message naming both states.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "accept": ((S.REPORTED,), S.ACCEPTED),
    "dispatch": ((S.ACCEPTED,), S.DISPATCHED),
    "contractor_accept": ((S.DISPATCHED,), S.ASSIGNED),
    "return": ((S.DISPATCHED, S.ASSIGNED), S.ACCEPTED),
    "book": ((S.ASSIGNED, S.BOOKED, S.CONTACTED, S.REWORK), S.BOOKED),
    "contact": ((S.BOOKED,), S.CONTACTED),
    "check_in": ((S.BOOKED, S.CONTACTED), S.ON_SITE),
    "step": ((S.ON_SITE,), S.ON_SITE),
    "finish": ((S.ON_SITE,), S.WORK_DONE),
    "feedback": ((S.WORK_DONE,), S.CLOSED),
    "close": ((S.WORK_DONE,), S.CLOSED),
    "cancel": (tuple(s for s in S.values if s not in (S.CLOSED, S.CANCELLED)), S.CANCELLED),
}

STEP_NAMES_ZH = {
    "accept": "签收",
    "dispatch": "派单",
    "contractor_accept": "接单",
    "return": "退单",
    "book": "预约上门",
    "contact": "联系居民",
    "check_in": "到场签到",
    "step": "记录处置步骤",
    "finish": "完成处置",
    "feedback": "评价",
    "close": "结案",
    "cancel": "撤销",
}
STATUS_NAMES_ZH = {
    S.REPORTED: "已受理登记",
    S.ACCEPTED: "已签收",
    S.DISPATCHED: "已派单",
    S.ASSIGNED: "专业组织已接单",
    S.BOOKED: "已预约上门",
    S.CONTACTED: "已联系居民",
    S.ON_SITE: "已到场",
    S.WORK_DONE: "已处置完成",
    S.REWORK: "返工中",
    S.CLOSED: "已结案",
    S.CANCELLED: "已撤销",
}

MAX_EXTENSION_HOURS = 168
# GeoReport clients may send long descriptions; 4,000 characters is what the hotline systems send.
MAX_DESCRIPTION = 4000
MAX_SLOT_HOURS = 12


# --- helpers ----------------------------------------------------------------------------------------------
def _check_transition(case: Case, step: str) -> str:
    allowed, target = TRANSITIONS[step]
    if case.status not in allowed:
        raise UserError(
            "transition_not_allowed",
            f"案件当前状态为「{STATUS_NAMES_ZH[case.status]}」，不能执行「{STEP_NAMES_ZH[step]}」",
            f"The case is '{S(case.status).label}'; '{step.replace('_', ' ')}' is not allowed now",
            field="status",
            status=409,
        )
    return target


def _locked(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("org", "category__policy", "contractor")
        .get(pk=case.pk)
    )


def _event(
    case: Case,
    kind: str,
    *,
    actor,
    now: dt.datetime,
    from_status: str = "",
    to_status: str = "",
    note: str = "",
    step: str = "",
    data: dict | None = None,
    public: bool = True,
) -> CaseEvent:
    return CaseEvent.objects.create(
        case=case,
        kind=kind,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=now,
        from_status=from_status,
        to_status=to_status,
        note=note,
        step=step,
        data=data or {},
        public=public,
    )


def _move(case: Case, target: str, *, now: dt.datetime, extra: dict | None = None) -> None:
    """Write the new status (and only the fields that change) and meet the milestones it reaches."""
    fields = {"status": target, "version": F("version") + 1, **(extra or {})}
    Case.objects.filter(pk=case.pk).update(**fields)
    for name, value in fields.items():
        if name != "version":
            setattr(case, name, value)
    case.version += 1
    if target != S.CANCELLED:
        _meet_milestones(case, target, now=now)


def _meet_milestones(case: Case, status: str, *, now: dt.datetime) -> None:
    rank = STATUS_RANK[status]
    if status == S.REWORK:
        return
    live = CaseMilestone.objects.filter(case=case, met_at__isnull=True).exclude(
        state=MilestoneState.CANCELLED
    )
    for clock_row in live.select_related("milestone"):
        if STATUS_RANK.get(clock_row.milestone.met_on, 99) > rank:
            continue
        late = clock_row.state == MilestoneState.BREACHED or now > clock_row.deadline
        state = MilestoneState.MET_LATE if late else MilestoneState.MET
        updated = CaseMilestone.objects.filter(pk=clock_row.pk, met_at__isnull=True).update(
            met_at=now,
            state=state,
            due_at=None,
            warn_at=None,
            next_escalation_at=None,
            remaining_seconds=None,
        )
        if updated:
            _event(
                case,
                EventKind.MILESTONE_MET,
                actor=None,
                now=now,
                note=clock_row.milestone.name,
                data={"milestone": clock_row.milestone.code, "on_time": not late},
            )


def _notify_resident(case: Case, title: str, body: str, *, now: dt.datetime) -> None:
    """Tell the resident (inbox + SMS for an account, SMS to the given phone otherwise): the inbox row and
    the SMS outbox row are written in the caller's transaction, so they exist exactly when the change does
    (a process killed after the commit loses none of them; the outbox job sends the SMS)."""
    reporter, phone = case.reporter, case.phone
    link = f"/cases/track/?number={case.number}"

    def send():
        if reporter is not None:
            notify_user(
                recipient=reporter,
                title=title,
                body=body,
                link=link,
                sms=bool(reporter.phone),
                reference=f"case:{case.number}",
                now=now,
            )
            if not reporter.phone and phone:
                queue_sms(phone=phone, text=f"{title}。{body}", reference=f"case:{case.number}", now=now)
        elif phone:
            queue_sms(phone=phone, text=f"{title}。{body}", reference=f"case:{case.number}", now=now)

    send()


def _notify_users(
    users: Iterable, title: str, body: str, link: str, *, now: dt.datetime, sms: bool = True
) -> None:
    """Inbox notices (and SMS outbox rows) in the caller's transaction, like ``_notify_resident``."""
    for user in users:
        notify_user(recipient=user, title=title, body=body, link=link, sms=sms, now=now)


def _attach(
    case: Case, event: CaseEvent | None, photos: Sequence[ValidatedImage], *, actor, now: dt.datetime
) -> None:
    for photo in photos:
        CasePhoto.objects.create(
            case=case,
            event=event,
            file=photo.as_file(),
            content_type=photo.content_type,
            size=photo.size,
            uploaded_by=actor if getattr(actor, "is_authenticated", False) else None,
            uploaded_at=now,
        )


def _require_desk(actor, case: Case) -> None:
    if not permissions.can_view_case_as_staff(actor, case):
        raise Http404
    if not permissions.can_handle_case(actor, case):
        raise NotAllowed(
            "只有民情快办工作站（街道、片区、居民区工作人员）可以执行此操作",
            "Only the case desk (street, area or community staff) may do this",
        )


def _require_contractor(actor, case: Case) -> None:
    """A contractor acting on a case not dispatched to them gets a 404: it is not theirs to know about."""
    if not permissions.is_contractor_for(actor, case):
        raise Http404


def case_reveal_contact(*, actor, case: Case, now: dt.datetime | None = None) -> dict:
    """The contractor on the job sees the resident's full phone and address only by asking; each reveal is
    an audit event (personal data is masked on screen otherwise)."""
    moment = resolve_now(now)
    _require_contractor(actor, case)
    with transaction.atomic():
        audit.record(
            actor=actor,
            verb="case.contact_reveal",
            obj=case,
            now=moment,
            details={"fields": ["phone", "address"]},
        )
    return {"phone": case.phone, "address": case.address}


def _clean(
    value: str | None, *, field: str, zh: str, en: str, required: bool = True, max_length: int = 2000
) -> str:
    text = normalise_text(value)
    if required and not text:
        raise UserError(f"blank_{field}", f"请填写{zh}", f"{en} is required", field=field)
    if len(text) > max_length:
        raise UserError(
            f"long_{field}",
            f"{zh}不能超过 {max_length} 个字",
            f"{en} is longer than {max_length} characters",
            field=field,
        )
    return text


def _clean_media_url(value: str | None) -> str:
    url = (value or "").strip()
    if not url:
        return ""
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        url = ""
    if not url or len(url) > 1000:
        raise UserError(
            "invalid_media_url",
            "媒体链接应为以 http:// 或 https:// 开头的网址（不超过 1000 个字符）",
            "media_url must be an http(s) URL of at most 1000 characters",
            field="media_url",
        )
    return url


def address_key(category: CaseCategory, address: str) -> str:
    """The duplicate-hint key: category and normalised address, hashed (the address is encrypted)."""
    folded = normalise_text(address).replace(" ", "").lower()
    return blind_index(f"case-address:{category.pk}:{folded}") if folded else ""


def open_duplicates(category: CaseCategory, address: str, *, actor):
    """Open cases of the same category at the same address that the actor may see (staff: their subtree;
    anyone else: the cases they reported) — a hint never names a case outside the actor's reach."""
    from kangle.cases.models import OPEN_STATUSES

    key = address_key(category, address)
    if not key or not getattr(actor, "is_authenticated", False):
        return Case.objects.none()
    rows = Case.objects.filter(address_hash=key, category=category, status__in=OPEN_STATUSES)
    return scope_queryset(actor, rows) | rows.filter(reporter=actor)


# --- clocks -----------------------------------------------------------------------------------------------
def _warn_moment(policy, started: dt.datetime, hours: int) -> dt.datetime:
    return clock.policy_add(policy, started, float(Decimal(hours * 3600) * Decimal(policy.warn_ratio)))


def _first_escalation(policy, deadline: dt.datetime, level: int = 0) -> dt.datetime | None:
    chain = policy.escalation_chain or []
    if level >= len(chain):
        return None
    return clock.policy_add(policy, deadline, float(chain[level].get("after_hours", 0)) * 3600)


def start_clocks(case: Case, *, now: dt.datetime) -> list[CaseMilestone]:
    """Store every milestone's due time, warning time and first escalation time: the clock starts now."""
    return _start(case, case.category.policy.milestones.filter(on_rework=False), round_=0, now=now)


def start_rework_clocks(case: Case, *, round_: int, now: dt.datetime) -> list[CaseMilestone]:
    """The clocks of the ``round_``-th reopening for rework: the policy's rework milestones, from now.

    They are ordinary stored clocks (``due_at`` / ``warn_at`` / ``next_escalation_at``), so the SLA sweep
    warns and escalates them like the report's clocks without knowing what rework is."""
    return _start(case, case.category.policy.milestones.filter(on_rework=True), round_=round_, now=now)


def _start(case: Case, milestones, *, round_: int, now: dt.datetime) -> list[CaseMilestone]:
    policy = case.category.policy
    rows = []
    for milestone in milestones:
        deadline = clock.policy_add(policy, now, milestone.hours * 3600)
        rows.append(
            CaseMilestone(
                case=case,
                milestone=milestone,
                round=round_,
                started_at=now,
                deadline=deadline,
                due_at=deadline,
                warn_at=_warn_moment(policy, now, milestone.hours),
                next_escalation_at=_first_escalation(policy, deadline),
            )
        )
    return CaseMilestone.objects.bulk_create(rows)


# --- intake -----------------------------------------------------------------------------------------------
@transaction.atomic
def case_report(
    *,
    actor,
    category: CaseCategory,
    org: OrgUnit,
    channel: str,
    title: str,
    description: str = "",
    resident_name: str = "",
    phone: str = "",
    address: str = "",
    photos: Sequence[ValidatedImage] = (),
    latitude: Decimal | None = None,
    longitude: Decimal | None = None,
    answers: Mapping[str, str | list[str]] | None = None,
    media_url: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """Log a case (desk, grid patrol, online by a resident, Open311 or prevention) and start its clocks.

    ``answers`` answer the category's questions (checked by type and choice); ``media_url`` is a link to a
    photo held elsewhere, kept as given."""
    moment = resolve_now(now)
    if channel not in Channel.values:
        raise UserError("invalid_channel", "未知的受理渠道", "Unknown intake channel", field="channel")
    if channel == Channel.ONLINE:
        if not permissions.can_report_online(actor):
            raise NotAllowed("只有居民可以在线报事", "Only residents report online")
        if not any(
            org.path.startswith(unit.path) or unit.path.startswith(org.path)
            for unit in OrgUnit.objects.filter(pk__in=actor.units_for(Role.RESIDENT))
        ):
            raise UserError(
                "outside_home",
                "只能为您所在的居民区报事",
                "You can report only for your own community",
                field="org",
            )
    elif actor is not None and not permissions.can_intake(actor, org):
        raise Http404
    if not category.is_active or category.children.exists():
        raise UserError(
            "invalid_category",
            "请选择一个具体的问题类别",
            "Choose a specific, active category",
            field="category",
        )
    title = _clean(title, field="title", zh="问题简述", en="Title", max_length=200)
    description = _clean(
        description,
        field="description",
        zh="问题描述",
        en="Description",
        required=False,
        max_length=MAX_DESCRIPTION,
    )
    answers = questions.clean_answers(category, answers)
    media_url = _clean_media_url(media_url)
    address = _clean(
        address, field="address", zh="地址", en="Address", required=channel != Channel.OPEN311, max_length=200
    )
    resident_name = _clean(
        resident_name,
        field="resident_name",
        zh="居民姓名",
        en="Resident's name",
        required=False,
        max_length=50,
    )
    phone = normalise_phone(phone)
    if channel == Channel.ONLINE and not phone:
        phone = actor.phone
    if phone and not is_mobile(phone):
        raise UserError(
            "invalid_phone",
            "手机号格式不正确（应为 11 位手机号）",
            "Malformed mobile number (11 digits)",
            field="phone",
        )
    if channel in (Channel.WALK_IN, Channel.PHONE_CALL) and not phone:
        raise UserError(
            "blank_phone",
            "请填写居民的手机号，用于预约上门和查询进度",
            "The resident's mobile number is needed to book the visit and to track the case",
            field="phone",
        )
    case = Case.objects.create(
        number=f"tmp-{moment.timestamp()}-{id(org)}"[:20],
        category=category,
        org=org,
        channel=channel,
        title=title,
        description=description,
        reporter=actor if channel == Channel.ONLINE else None,
        resident_name=resident_name or (actor.display_name if channel == Channel.ONLINE else ""),
        phone=phone,
        phone_mask=mask_phone(phone),
        address=address,
        address_mask=mask_address(address),
        address_hash=address_key(category, address),
        latitude=latitude,
        longitude=longitude,
        answers=answers,
        media_url=media_url,
        created_by=actor if getattr(actor, "is_authenticated", False) else None,
        reported_at=moment,
    )
    case.number = f"MQ{local(moment):%y%m%d}{case.pk:05d}"
    Case.objects.filter(pk=case.pk).update(number=case.number)
    start_clocks(case, now=moment)
    event = _event(
        case, EventKind.REPORTED, actor=actor, now=moment, to_status=S.REPORTED, data={"channel": channel}
    )
    _attach(case, event, photos, actor=actor, now=moment)
    audit.record(
        actor=actor,
        verb="case.report",
        obj=case,
        details={"channel": channel, "category": category.code},
        now=moment,
    )
    _notify_resident(
        case,
        f"您反映的问题已登记，案件号 {case.number}",
        f"可凭案件号和手机尾号4位查询进度。{category.precautions[:60]}",
        now=moment,
    )
    return case


# --- the flow ---------------------------------------------------------------------------------------------
@transaction.atomic
def case_accept(*, actor, case: Case, now: dt.datetime | None = None) -> Case:
    moment = resolve_now(now)
    case = _locked(case)
    _require_desk(actor, case)
    target = _check_transition(case, "accept")
    before = case.status
    _move(case, target, now=moment)
    _event(case, EventKind.ACCEPTED, actor=actor, now=moment, from_status=before, to_status=target)
    audit.record(actor=actor, verb="case.accept", obj=case, now=moment)
    _notify_resident(case, f"案件 {case.number} 已签收", "工作站正在联系专业人员。", now=moment)
    return case


def default_contractor(case: Case) -> Contractor | None:
    """The contractor for this category (or its parent) covering the case's place, highest priority first."""
    codes = case.org.ancestor_codes()
    categories = [case.category_id] + ([case.category.parent_id] if case.category.parent_id else [])
    return (
        Contractor.objects.filter(is_active=True, org__code__in=codes, categories__in=categories)
        .order_by("-priority", "-org__depth", "name")
        .distinct()
        .first()
    )


@transaction.atomic
def case_dispatch(
    *, actor, case: Case, contractor: Contractor | None = None, now: dt.datetime | None = None
) -> Case:
    moment = resolve_now(now)
    case = _locked(case)
    _require_desk(actor, case)
    target = _check_transition(case, "dispatch")
    if contractor is None:
        contractor = default_contractor(case)
        if contractor is None:
            raise UserError(
                "no_contractor",
                "没有覆盖该地点和类别的专业组织，请手动选择",
                "No contractor covers this place and category; choose one",
                field="contractor",
            )
    elif not contractor.is_active or not case.org.path.startswith(contractor.org.path):
        raise UserError(
            "contractor_not_covering",
            "所选专业组织不服务该地点",
            "The chosen contractor does not cover this place",
            field="contractor",
        )
    before = case.status
    _move(case, target, now=moment, extra={"contractor": contractor})
    _event(
        case,
        EventKind.DISPATCHED,
        actor=actor,
        now=moment,
        from_status=before,
        to_status=target,
        note=contractor.name,
        data={"contractor": contractor.pk},
    )
    audit.record(
        actor=actor, verb="case.dispatch", obj=case, details={"contractor": contractor.pk}, now=moment
    )
    _notify_users(
        contractor.users.filter(is_active=True),
        f"新派单 {case.number}：{case.category.name}",
        case.title,
        f"/cases/c/{case.number}/",
        now=moment,
    )
    return case


@transaction.atomic
def case_contractor_accept(*, actor, case: Case, now: dt.datetime | None = None) -> Case:
    moment = resolve_now(now)
    case = _locked(case)
    _require_contractor(actor, case)
    target = _check_transition(case, "contractor_accept")
    before = case.status
    _move(case, target, now=moment)
    _event(
        case,
        EventKind.CONTRACTOR_ACCEPTED,
        actor=actor,
        now=moment,
        from_status=before,
        to_status=target,
        note=case.contractor.name,
    )
    audit.record(actor=actor, verb="case.contractor_accept", obj=case, now=moment)
    return case


@transaction.atomic
def case_return(*, actor, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    """退单: the contractor hands the case back to the desk with a reason."""
    moment = resolve_now(now)
    case = _locked(case)
    _require_contractor(actor, case)
    target = _check_transition(case, "return")
    reason = _clean(reason, field="reason", zh="退单理由", en="Reason", max_length=300)
    before, contractor = case.status, case.contractor
    _move(case, target, now=moment, extra={"contractor": None})
    _event(
        case,
        EventKind.RETURNED,
        actor=actor,
        now=moment,
        from_status=before,
        to_status=target,
        note=reason,
        data={"contractor": contractor.pk},
    )
    audit.record(
        actor=actor,
        verb="case.return",
        obj=case,
        details={"reason": reason, "contractor": contractor.pk},
        now=moment,
    )
    _notify_users(
        _desk_users(case),
        f"案件 {case.number} 被退单",
        f"{contractor.name}：{reason}",
        f"/cases/desk/{case.number}/",
        now=moment,
        sms=False,
    )
    return case


@transaction.atomic
def case_book(
    *,
    actor,
    case: Case,
    slot_start: dt.datetime,
    slot_end: dt.datetime,
    note: str = "",
    now: dt.datetime | None = None,
) -> Appointment:
    """Book (or rebook) the visit slot agreed with the resident, who gets the slot and precautions."""
    moment = resolve_now(now)
    case = _locked(case)
    if not permissions.is_contractor_for(actor, case):
        _require_desk(actor, case)
    target = _check_transition(case, "book")
    if slot_start is None or slot_end is None:
        raise UserError("blank_slot", "请填写上门时间段", "The visit slot is required", field="slot_start")
    if slot_start <= moment:
        raise UserError(
            "slot_in_past",
            "预约上门时间不能早于当前时间",
            "The visit slot cannot be in the past",
            field="slot_start",
        )
    if slot_end <= slot_start:
        raise UserError(
            "slot_order", "结束时间必须晚于开始时间", "The slot must end after it starts", field="slot_end"
        )
    if slot_end - slot_start > dt.timedelta(hours=MAX_SLOT_HOURS):
        raise UserError(
            "slot_too_long",
            f"上门时间段不能超过 {MAX_SLOT_HOURS} 小时",
            f"A visit slot cannot be longer than {MAX_SLOT_HOURS} hours",
            field="slot_end",
        )
    note = _clean(note, field="note", zh="备注", en="Note", required=False, max_length=200)
    Appointment.objects.filter(case=case, status=AppointmentStatus.BOOKED).update(
        status=AppointmentStatus.REPLACED
    )
    appointment = Appointment.objects.create(
        case=case, slot_start=slot_start, slot_end=slot_end, note=note, booked_by=actor, booked_at=moment
    )
    before = case.status
    _move(case, target, now=moment)
    slot_text = f"{local(slot_start):%m月%d日 %H:%M}–{local(slot_end):%H:%M}"
    _event(
        case,
        EventKind.BOOKED,
        actor=actor,
        now=moment,
        from_status=before,
        to_status=target,
        note=slot_text,
        data={"appointment": appointment.pk},
    )
    audit.record(actor=actor, verb="case.book", obj=case, details={"slot": slot_text}, now=moment)
    _notify_resident(
        case,
        f"案件 {case.number} 已预约上门：{slot_text}",
        f"注意事项：{case.category.precautions}" if case.category.precautions else "",
        now=moment,
    )
    return appointment


@transaction.atomic
def case_contact(*, actor, case: Case, note: str = "", now: dt.datetime | None = None) -> Case:
    moment = resolve_now(now)
    case = _locked(case)
    _require_contractor(actor, case)
    target = _check_transition(case, "contact")
    note = _clean(note, field="note", zh="沟通情况", en="Note", required=False, max_length=500)
    before = case.status
    _move(case, target, now=moment)
    _event(
        case, EventKind.CONTACTED, actor=actor, now=moment, from_status=before, to_status=target, note=note
    )
    audit.record(actor=actor, verb="case.contact", obj=case, now=moment)
    return case


@transaction.atomic
def case_check_in(
    *,
    actor,
    case: Case,
    photos: Sequence[ValidatedImage],
    note: str = "",
    early_reason: str = "",
    now: dt.datetime | None = None,
) -> Case:
    """到场签到: time and a photo; only against a booked visit. Arriving before the booked slot needs a
    reason (the resident agreed to an earlier visit, …): the slot is what the resident was promised."""
    moment = resolve_now(now)
    case = _locked(case)
    _require_contractor(actor, case)
    appointment = Appointment.objects.filter(case=case, status=AppointmentStatus.BOOKED).first()
    if appointment is None:
        raise UserError(
            "no_booking",
            "请先与居民预约上门时间，再到场签到",
            "Book a visit slot with the resident before checking in on site",
            field="status",
            status=409,
        )
    target = _check_transition(case, "check_in")
    if not photos:
        raise UserError(
            "photo_required",
            "到场签到需要上传一张现场照片",
            "Checking in needs a photo taken on site",
            field="photo",
        )
    note = _clean(note, field="note", zh="备注", en="Note", required=False, max_length=500)
    early = moment < appointment.slot_start
    early_reason = _clean(
        early_reason if early else "",
        field="early_reason",
        zh=f"提前到场原因（预约时段 {local(appointment.slot_start):%m-%d %H:%M} 开始）",
        en="Reason for arriving before the booked slot",
        required=early,
        max_length=300,
    )
    Appointment.objects.filter(pk=appointment.pk).update(status=AppointmentStatus.ATTENDED)
    before = case.status
    _move(case, target, now=moment)
    event = _event(
        case,
        EventKind.CHECKED_IN,
        actor=actor,
        now=moment,
        from_status=before,
        to_status=target,
        note=note,
        data={"early_reason": early_reason} if early else None,
    )
    _attach(case, event, photos, actor=actor, now=moment)
    audit.record(actor=actor, verb="case.check_in", obj=case, now=moment)
    _notify_resident(case, f"案件 {case.number}：专业人员已到场", "", now=moment)
    return case


@transaction.atomic
def case_record_step(
    *,
    actor,
    case: Case,
    step: str,
    note: str = "",
    photos: Sequence[ValidatedImage] = (),
    now: dt.datetime | None = None,
) -> CaseEvent:
    """A work step on site (survey, nest located, treated, cleaned up, …) with photos."""
    moment = resolve_now(now)
    case = _locked(case)
    _require_contractor(actor, case)
    _check_transition(case, "step")
    if step not in WorkStep.values:
        raise UserError("invalid_step", "未知的处置步骤", "Unknown work step", field="step")
    note = _clean(note, field="note", zh="说明", en="Note", required=False, max_length=1000)
    event = _event(
        case,
        EventKind.STEP,
        actor=actor,
        now=moment,
        step=step,
        note=note,
        from_status=case.status,
        to_status=case.status,
    )
    _attach(case, event, photos, actor=actor, now=moment)
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
    audit.record(actor=actor, verb="case.step", obj=case, details={"step": step}, now=moment)
    return event


@transaction.atomic
def case_finish(
    *,
    actor,
    case: Case,
    note: str = "",
    photos: Sequence[ValidatedImage] = (),
    now: dt.datetime | None = None,
) -> Case:
    moment = resolve_now(now)
    case = _locked(case)
    _require_contractor(actor, case)
    target = _check_transition(case, "finish")
    note = _clean(note, field="note", zh="处置说明", en="Note", required=False, max_length=1000)
    before = case.status
    _move(case, target, now=moment)
    event = _event(
        case, EventKind.WORK_DONE, actor=actor, now=moment, from_status=before, to_status=target, note=note
    )
    _attach(case, event, photos, actor=actor, now=moment)
    audit.record(actor=actor, verb="case.finish", obj=case, now=moment)
    tips = case.category.prevention_tips
    _notify_resident(
        case,
        f"案件 {case.number} 已处置完成，请评价",
        (f"防治小贴士：{tips[:80]}。" if tips else "") + "凭案件号和手机尾号4位可在线评价。",
        now=moment,
    )
    return case


@transaction.atomic
def case_feedback(
    *,
    actor,
    case: Case,
    satisfied: bool,
    rating: int,
    comment: str = "",
    verified_by_phone: bool = False,
    now: dt.datetime | None = None,
) -> Feedback:
    """The reporter rates the result: satisfied closes the case; not satisfied reopens it for rework.

    ``verified_by_phone`` is set by the tracking page after the case number and phone suffix matched (a
    walk-in resident without an account).
    """
    moment = resolve_now(now)
    case = _locked(case)
    # Proof by phone suffix stands in for an account only when the case has no reporter account.
    by_phone = verified_by_phone and case.reporter_id is None
    if not by_phone and not permissions.is_reporter(actor, case):
        raise NotAllowed(
            "只有反映问题的居民本人可以评价", "Only the resident who reported the case may rate it"
        )
    _check_transition(case, "feedback")
    try:
        rating = int(rating)
    except (TypeError, ValueError):
        rating = 0
    if not 1 <= rating <= 5:
        raise UserError(
            "invalid_rating", "评分应为 1 到 5 星", "The rating must be 1 to 5 stars", field="rating"
        )
    comment = _clean(
        comment, field="comment", zh="评价内容", en="Comment", required=not satisfied, max_length=500
    )
    feedback = Feedback.objects.create(
        case=case,
        satisfied=bool(satisfied),
        rating=rating,
        comment=comment,
        given_by=actor if getattr(actor, "is_authenticated", False) else None,
        given_at=moment,
    )
    before = case.status
    _event(
        case,
        EventKind.FEEDBACK,
        actor=actor,
        now=moment,
        note=comment,
        data={"satisfied": bool(satisfied), "rating": rating},
    )
    if satisfied:
        _move(case, S.CLOSED, now=moment, extra={"closed_at": moment})
        _event(case, EventKind.CLOSED, actor=actor, now=moment, from_status=before, to_status=S.CLOSED)
    else:
        _reopen(case, actor=actor, reason=comment, now=moment)
    audit.record(
        actor=actor,
        verb="case.feedback",
        obj=case,
        details={"satisfied": bool(satisfied), "rating": rating},
        now=moment,
    )
    return feedback


def _reopen(case: Case, *, actor, reason: str, now: dt.datetime) -> None:
    """Back to rework: the count goes up and the policy's rework clocks start for this round."""
    before = case.status
    _move(case, S.REWORK, now=now, extra={"rework_count": F("rework_count") + 1, "closed_at": None})
    case.refresh_from_db(fields=["rework_count"])
    clocks = start_rework_clocks(case, round_=case.rework_count, now=now)
    _event(
        case,
        EventKind.REOPENED,
        actor=actor,
        now=now,
        from_status=before,
        to_status=S.REWORK,
        note=reason,
        data={"round": case.rework_count, "deadlines": [row.deadline.isoformat() for row in clocks]},
    )
    if case.contractor_id:
        _notify_users(
            case.contractor.users.filter(is_active=True),
            f"案件 {case.number} 居民不满意，需返工",
            reason,
            f"/cases/c/{case.number}/",
            now=now,
        )


@transaction.atomic
def case_rework(*, actor, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    """The desk reopens a finished case for rework (e.g. the resident complained by phone after closing).

    Only work that was done can be redone: a case that never reached "work done" is refused."""
    moment = resolve_now(now)
    case = _locked(case)
    _require_desk(actor, case)
    completed = CaseEvent.objects.filter(case=case, kind=EventKind.WORK_DONE).exists()
    if case.status not in (S.WORK_DONE, S.CLOSED) or not completed:
        raise UserError(
            "never_completed",
            f"案件当前状态为「{STATUS_NAMES_ZH[case.status]}」，尚未处置完成，不能返工",
            f"The case is '{S(case.status).label}' and was never completed; it cannot be reworked",
            field="status",
            status=409,
        )
    reason = _clean(reason, field="reason", zh="返工原因", en="Reason", max_length=500)
    _reopen(case, actor=actor, reason=reason, now=moment)
    audit.record(
        actor=actor,
        verb="case.rework",
        obj=case,
        details={"reason": reason, "round": case.rework_count},
        now=moment,
    )
    return case


@transaction.atomic
def case_close(*, actor, case: Case, note: str = "", now: dt.datetime | None = None) -> Case:
    """The desk closes a finished case (e.g. the resident gave no feedback)."""
    moment = resolve_now(now)
    case = _locked(case)
    _require_desk(actor, case)
    target = _check_transition(case, "close")
    note = _clean(note, field="note", zh="结案说明", en="Note", required=False, max_length=500)
    before = case.status
    _move(case, target, now=moment, extra={"closed_at": moment})
    _event(case, EventKind.CLOSED, actor=actor, now=moment, from_status=before, to_status=target, note=note)
    audit.record(actor=actor, verb="case.close", obj=case, now=moment)
    return case


@transaction.atomic
def case_cancel(*, actor, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    moment = resolve_now(now)
    case = _locked(case)
    _require_desk(actor, case)
    target = _check_transition(case, "cancel")
    reason = _clean(reason, field="reason", zh="撤销理由", en="Reason", max_length=300)
    before = case.status
    _move(case, target, now=moment, extra={"closed_at": moment, "paused_at": None})
    CaseMilestone.objects.filter(case=case, met_at__isnull=True).update(
        state=MilestoneState.CANCELLED,
        due_at=None,
        warn_at=None,
        next_escalation_at=None,
        remaining_seconds=None,
    )
    Appointment.objects.filter(case=case, status=AppointmentStatus.BOOKED).update(
        status=AppointmentStatus.CANCELLED
    )
    _event(
        case, EventKind.CANCELLED, actor=actor, now=moment, from_status=before, to_status=target, note=reason
    )
    audit.record(actor=actor, verb="case.cancel", obj=case, details={"reason": reason}, now=moment)
    _notify_resident(case, f"案件 {case.number} 已撤销", reason, now=moment)
    return case


# --- pause and extension ----------------------------------------------------------------------------------
@transaction.atomic
def case_pause(*, actor, case: Case, reason: str, now: dt.datetime | None = None) -> Case:
    """Stop the running clocks (e.g. waiting for the resident); breached clocks keep escalating."""
    moment = resolve_now(now)
    case = _locked(case)
    if not permissions.is_contractor_for(actor, case):
        _require_desk(actor, case)
    if not case.is_open:
        _check_transition(case, "cancel")  # raises the not-allowed message for a closed case
    if case.is_paused:
        raise UserError(
            "already_paused", "计时已暂停", "The clock is already paused", field="status", status=409
        )
    reason = _clean(reason, field="reason", zh="暂停理由", en="Reason", max_length=300)
    paused = []
    for row in (
        CaseMilestone.objects.select_for_update(of=("self",))
        .select_related("milestone__policy")
        .filter(case=case, state=MilestoneState.RUNNING)
    ):
        # Each clock runs on the policy version in force when it started, never on a later revision.
        policy = row.milestone.policy
        remaining = clock.policy_between(policy, moment, row.deadline)
        CaseMilestone.objects.filter(pk=row.pk, state=MilestoneState.RUNNING).update(
            state=MilestoneState.PAUSED,
            remaining_seconds=int(remaining),
            due_at=None,
            warn_at=None,
            next_escalation_at=None,
        )
        paused.append(
            {
                "milestone": row.milestone_id,
                "remaining_seconds": int(remaining),
                "deadline": row.deadline.isoformat(),
            }
        )
    Case.objects.filter(pk=case.pk).update(paused_at=moment, version=F("version") + 1)
    case.paused_at = moment
    _event(case, EventKind.PAUSED, actor=actor, now=moment, note=reason, data={"clocks": paused})
    audit.record(
        actor=actor, verb="case.pause", obj=case, details={"reason": reason, "clocks": paused}, now=moment
    )
    return case


@transaction.atomic
def case_resume(*, actor, case: Case, now: dt.datetime | None = None) -> Case:
    moment = resolve_now(now)
    case = _locked(case)
    if not permissions.is_contractor_for(actor, case):
        _require_desk(actor, case)
    if not case.is_paused:
        raise UserError("not_paused", "计时没有暂停", "The clock is not paused", field="status", status=409)
    moved = []
    for row in (
        CaseMilestone.objects.select_for_update(of=("self",))
        .select_related("milestone__policy")
        .filter(case=case, state=MilestoneState.PAUSED)
    ):
        policy = row.milestone.policy
        deadline = clock.policy_add(policy, moment, max(row.remaining_seconds or 0, 0))
        warn_at = None
        if row.warned_at is None:
            total = (row.milestone.hours + row.extended_hours) * 3600
            before_warn = (row.remaining_seconds or 0) - total * (1 - float(policy.warn_ratio))
            warn_at = clock.policy_add(policy, moment, max(before_warn, 0))
        CaseMilestone.objects.filter(pk=row.pk, state=MilestoneState.PAUSED).update(
            state=MilestoneState.RUNNING,
            deadline=deadline,
            due_at=deadline,
            warn_at=warn_at,
            next_escalation_at=_first_escalation(policy, deadline, row.escalation_level),
            remaining_seconds=None,
        )
        moved.append(
            {"milestone": row.milestone_id, "from": row.deadline.isoformat(), "to": deadline.isoformat()}
        )
    paused_for = int((moment - case.paused_at).total_seconds())
    Case.objects.filter(pk=case.pk).update(paused_at=None, version=F("version") + 1)
    case.paused_at = None
    _event(
        case, EventKind.RESUMED, actor=actor, now=moment, data={"clocks": moved, "paused_seconds": paused_for}
    )
    audit.record(
        actor=actor,
        verb="case.resume",
        obj=case,
        details={"clocks": moved, "paused_seconds": paused_for},
        now=moment,
    )
    return case


@transaction.atomic
def extension_request(
    *, actor, case: Case, milestone_code: str, hours: int, reason: str, now: dt.datetime | None = None
) -> ExtensionRequest:
    moment = resolve_now(now)
    case = _locked(case)
    _require_contractor(actor, case)
    row = (
        CaseMilestone.objects.filter(case=case, milestone__code=milestone_code)
        .select_related("milestone")
        .order_by("-round")
        .first()
    )
    if row is None:
        raise UserError(
            "unknown_milestone", "没有这个时限节点", "No such milestone on this case", field="milestone"
        )
    if row.state not in (MilestoneState.RUNNING, MilestoneState.PAUSED):
        raise UserError(
            "milestone_not_running",
            "该时限节点已完成或已超时，不能申请延期",
            "This milestone is already met or breached; it cannot be extended",
            field="milestone",
            status=409,
        )
    try:
        hours = int(hours)
    except (TypeError, ValueError):
        hours = 0
    if not 1 <= hours <= MAX_EXTENSION_HOURS:
        raise UserError(
            "invalid_hours",
            f"延期时长应为 1 到 {MAX_EXTENSION_HOURS} 小时",
            f"The extension must be 1 to {MAX_EXTENSION_HOURS} hours",
            field="hours",
        )
    if ExtensionRequest.objects.filter(case_milestone=row, status=ExtensionStatus.PENDING).exists():
        raise UserError(
            "extension_pending",
            "已有待审批的延期申请",
            "An extension request is already pending",
            field="milestone",
            status=409,
        )
    reason = _clean(reason, field="reason", zh="延期理由", en="Reason", max_length=300)
    request = ExtensionRequest.objects.create(
        case_milestone=row, hours=hours, reason=reason, requested_by=actor, requested_at=moment
    )
    _event(
        case,
        EventKind.EXTENSION_REQUESTED,
        actor=actor,
        now=moment,
        note=reason,
        data={"milestone": milestone_code, "hours": hours},
        public=False,
    )
    audit.record(
        actor=actor,
        verb="case.extension_request",
        obj=case,
        details={"milestone": milestone_code, "hours": hours, "reason": reason},
        now=moment,
    )
    _notify_users(
        _desk_users(case, roles=(Role.AREA_ADMIN,)),
        f"案件 {case.number} 申请延期 {hours} 小时",
        reason,
        f"/cases/desk/{case.number}/",
        now=moment,
        sms=False,
    )
    return request


@transaction.atomic
def extension_decide(
    *, actor, request: ExtensionRequest, approve: bool, now: dt.datetime | None = None
) -> ExtensionRequest:
    """The area admin approves (the deadline moves on the policy's clock) or rejects an extension."""
    moment = resolve_now(now)
    request = ExtensionRequest.objects.select_for_update().select_related("case_milestone").get(pk=request.pk)
    case = _locked(request.case_milestone.case)
    if not permissions.can_view_case_as_staff(actor, case):
        raise Http404
    if not permissions.can_decide_extension(actor, case):
        raise NotAllowed(
            "只有片区或街道管理员可以审批延期", "Only an area or street admin may decide on extensions"
        )
    if request.status != ExtensionStatus.PENDING:
        raise UserError(
            "already_decided",
            "该延期申请已审批",
            "This extension request has already been decided",
            status=409,
        )
    row = (
        CaseMilestone.objects.select_for_update(of=("self",))
        .select_related("milestone__policy")
        .get(pk=request.case_milestone_id)
    )
    details = {"milestone": row.milestone_id, "hours": request.hours, "approved": bool(approve)}
    if approve:
        if row.state not in (MilestoneState.RUNNING, MilestoneState.PAUSED):
            raise UserError(
                "milestone_not_running",
                "该时限节点已完成或已超时，不能延期",
                "This milestone is already met or breached; it cannot be extended",
                status=409,
            )
        policy = row.milestone.policy
        new_deadline = clock.policy_add(policy, row.deadline, request.hours * 3600)
        changes = {"deadline": new_deadline, "extended_hours": row.extended_hours + request.hours}
        if row.state == MilestoneState.RUNNING:
            changes["due_at"] = new_deadline
            changes["next_escalation_at"] = _first_escalation(policy, new_deadline, row.escalation_level)
            if row.warned_at is None and row.warn_at is not None:
                changes["warn_at"] = clock.policy_add(policy, row.warn_at, request.hours * 3600)
        else:
            changes["remaining_seconds"] = (row.remaining_seconds or 0) + request.hours * 3600
        CaseMilestone.objects.filter(pk=row.pk).update(**changes)
        details.update({"from": row.deadline.isoformat(), "to": new_deadline.isoformat()})
    ExtensionRequest.objects.filter(pk=request.pk).update(
        status=ExtensionStatus.APPROVED if approve else ExtensionStatus.REJECTED,
        decided_by=actor,
        decided_at=moment,
    )
    request.refresh_from_db()
    _event(
        case,
        EventKind.EXTENSION_DECIDED,
        actor=actor,
        now=moment,
        data=details,
        public=False,
        note="批准" if approve else "驳回",
    )
    audit.record(actor=actor, verb="case.extension_decide", obj=case, details=details, now=moment)
    return request


def _desk_users(case: Case, roles: Sequence[str] = (Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY)):
    from kangle.accounts.models import User

    return User.objects.filter(
        is_active=True,
        role_assignments__is_active=True,
        role_assignments__role__in=roles,
        role_assignments__org__code__in=case.org.ancestor_codes(),
    ).distinct()


def escalation_recipients(case: Case, role: str):
    from kangle.accounts.models import User

    user_ids = RoleAssignment.objects.filter(
        is_active=True, role=role, org__code__in=case.org.ancestor_codes()
    ).values("user_id")
    return User.objects.filter(pk__in=user_ids, is_active=True)
