"""Shared internals of the case services: the transition table, the locked row, timeline events, status
moves, notices, photos and the permission checks every step makes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db.models import F
from django.http import Http404

from kangle.accounts.models import RoleAssignment
from kangle.cases import permissions
from kangle.cases.models import (
    STATUS_RANK,
    Case,
    CaseEvent,
    CaseMilestone,
    CasePhoto,
    CaseStatus,
    EventKind,
    MilestoneState,
)
from kangle.core.errors import NotAllowed, UserError
from kangle.core.roles import Role
from kangle.core.text import normalise_text
from kangle.core.uploads import ValidatedImage
from kangle.notify.services import notify_user, queue_sms

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


def transition_check(case: Case, step: str) -> str:
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


def case_lock(case: Case) -> Case:
    return (
        Case.objects.select_for_update(of=("self",))
        .select_related("org", "category__policy", "contractor")
        .get(pk=case.pk)
    )


def event_write(
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


def case_move(case: Case, target: str, *, now: dt.datetime, extra: dict | None = None) -> None:
    """Write the new status (and only the fields that change) and meet the milestones it reaches."""
    fields = {"status": target, "version": F("version") + 1, **(extra or {})}
    Case.objects.filter(pk=case.pk).update(**fields)
    for name, value in fields.items():
        if name != "version":
            setattr(case, name, value)
    case.version += 1
    if target != S.CANCELLED:
        milestones_meet(case, target, now=now)


def milestones_meet(case: Case, status: str, *, now: dt.datetime) -> None:
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
            event_write(
                case,
                EventKind.MILESTONE_MET,
                actor=None,
                now=now,
                note=clock_row.milestone.name,
                data={"milestone": clock_row.milestone.code, "on_time": not late},
            )


def resident_notify(case: Case, title: str, body: str, *, now: dt.datetime) -> None:
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


def users_notify(
    users: Iterable, title: str, body: str, link: str, *, now: dt.datetime, sms: bool = True
) -> None:
    """Inbox notices (and SMS outbox rows) in the caller's transaction, like ``resident_notify``."""
    for user in users:
        notify_user(recipient=user, title=title, body=body, link=link, sms=sms, now=now)


def photos_attach(
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


def desk_require(actor, case: Case) -> None:
    if not permissions.can_view_case_as_staff(actor, case):
        raise Http404
    if not permissions.can_handle_case(actor, case):
        raise NotAllowed(
            "只有民情快办工作站（街道、片区、居民区工作人员）可以执行此操作",
            "Only the case desk (street, area or community staff) may do this",
        )


def contractor_require(actor, case: Case) -> None:
    """A contractor acting on a case not dispatched to them gets a 404: it is not theirs to know about."""
    if not permissions.is_contractor_for(actor, case):
        raise Http404


def field_clean(
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


def media_url_clean(value: str | None) -> str:
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


def desk_users(case: Case, roles: Sequence[str] = (Role.AREA_ADMIN, Role.COMMUNITY_SECRETARY)):
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
