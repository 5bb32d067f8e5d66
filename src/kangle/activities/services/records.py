"""服务记录: a member's self-report or staff's entry, verified (the points award is requested in the same
transaction) or rejected / revoked (a verified record's award is reversed)."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kangle.activities import permissions
from kangle.activities.models import (
    Activity,
    RecordSource,
    RecordStatus,
    ServiceRecord,
    WhistleCall,
)
from kangle.activities.services.shared import (
    AWARD_SOURCE_TYPE,
    MAX_SELF_REPORT_MINUTES,
    member_approved_of,
    member_notify,
    reaches,
)
from kangle.core import audit, cleaners
from kangle.core.errors import NotAllowed, UserError
from kangle.core.timeutil import resolve_now
from kangle.core.uploads import ValidatedImage
from kangle.members.models import Member
from kangle.orgs.scope import in_scope
from kangle.points import services as points_services
from kangle.posts.models import ServiceAspect


# --- points -----------------------------------------------------------------------------------------------
def award_evidence(record: ServiceRecord) -> dict:
    beneficiaries = record.beneficiaries
    if not beneficiaries and record.activity_id:
        beneficiaries = record.activity.beneficiary_count
    evidence = {
        "title": record.title,
        "hours": record.hours,
        "beneficiaries": int(beneficiaries),
        "aspect": record.aspect.code,
        "community": record.member.community.code,
        "community_id": record.member.community_id,
        "record_id": record.pk,
    }
    if record.activity_id:
        evidence["activity_id"] = record.activity_id
    if record.call_id:
        evidence["call_id"] = record.call_id
    return evidence


def award_request(record: ServiceRecord, *, actor, now: dt.datetime | None = None):
    """Ask the points ledger for this verified record's award — the one place activities meets points.

    The ledger's idempotency key (source type + record id) makes a repeated call harmless; a refusal by the
    ledger (no rule in force, say) raises, and the verification around it is rolled back with it."""
    return points_services.award_for_service(
        actor=actor,
        member=record.member,
        source_type=AWARD_SOURCE_TYPE,
        source_id=str(record.pk),
        difficulty=record.difficulty,
        duration_minutes=record.minutes,
        occurred_at=record.started_at,
        evidence=award_evidence(record),
        now=now,
    )


def award_reverse(record: ServiceRecord, *, actor, reason: str, now: dt.datetime | None = None):
    """Undo the award of a record that was verified and is now rejected or revoked."""
    return points_services.reverse_award(
        actor=actor, source_type=AWARD_SOURCE_TYPE, source_id=str(record.pk), reason=reason, now=now
    )


# --- entering records -------------------------------------------------------------------------------------
def _record_fields(*, title, started_at, minutes, beneficiaries, moment) -> dict:
    title = cleaners.text(title, field="title", label=_("What was done"), max_length=100)
    started_at = cleaners.aware_datetime(started_at, field="started_at", label=_("Service time"))
    minutes = cleaners.whole_number(minutes, field="minutes", label=_("Duration in minutes"), low=1)
    if minutes > MAX_SELF_REPORT_MINUTES:
        raise UserError("too_long", _("One record cannot exceed 24 hours"), field="minutes")
    if started_at > moment:
        raise UserError("future_date", _("The service cannot be in the future"), field="started_at")
    if started_at + dt.timedelta(minutes=minutes) > moment:
        raise UserError("future_end", _("The service cannot end in the future"), field="minutes")
    beneficiaries = cleaners.whole_number(
        beneficiaries or 0, field="beneficiaries", label=_("Beneficiaries"), low=0, high=10000
    )
    return {"title": title, "started_at": started_at, "minutes": minutes, "beneficiaries": beneficiaries}


def record_self_report(
    *,
    actor,
    title: str,
    started_at: dt.datetime,
    minutes: int,
    aspect: ServiceAspect,
    photo: ValidatedImage | None,
    beneficiaries: int = 0,
    call: WhistleCall | None = None,
    now: dt.datetime | None = None,
) -> ServiceRecord:
    """A member reports service they did, with a photo; the community verifies it."""
    moment = resolve_now(now)
    member = member_approved_of(actor)
    fields = _record_fields(
        title=title, started_at=started_at, minutes=minutes, beneficiaries=beneficiaries, moment=moment
    )
    if not photo:
        raise UserError("photo_required", _("A photo is required"), field="photo")
    if call is not None and not reaches(member, call.org):
        raise Http404
    with transaction.atomic():
        record = ServiceRecord(
            member=member,
            org=member.community,
            aspect=aspect,
            source=RecordSource.SELF,
            call=call,
            created_by=actor,
            created_at=moment,
            **fields,
        )
        image = photo.as_file()
        record.photo.save(image.name, image, save=False)
        record.save()
        audit.record(
            actor=actor,
            verb="record.self_report",
            obj=record,
            now=moment,
            details={"minutes": record.minutes},
        )
    return record


def record_staff_enter(
    *,
    actor,
    member: Member,
    title: str,
    started_at: dt.datetime,
    minutes: int,
    aspect: ServiceAspect,
    beneficiaries: int = 0,
    difficulty: int = 1,
    activity: Activity | None = None,
    call: WhistleCall | None = None,
    now: dt.datetime | None = None,
) -> ServiceRecord:
    """Staff (or a grid leader for their group) enter service someone did; it still needs verification."""
    moment = resolve_now(now)
    if not in_scope(actor, member.org.path):
        raise Http404
    if not permissions.can_report_for_group(actor, member.org):
        raise NotAllowed()
    fields = _record_fields(
        title=title, started_at=started_at, minutes=minutes, beneficiaries=beneficiaries, moment=moment
    )
    difficulty = cleaners.whole_number(difficulty, field="difficulty", label=_("Difficulty"), low=1, high=5)
    with transaction.atomic():
        record = ServiceRecord.objects.create(
            member=member,
            org=member.community,
            aspect=aspect,
            source=RecordSource.STAFF,
            activity=activity,
            call=call,
            difficulty=difficulty,
            created_by=actor,
            created_at=moment,
            **fields,
        )
        audit.record(
            actor=actor,
            verb="record.staff_enter",
            obj=record,
            now=moment,
            details={"member": member.pk, "minutes": record.minutes},
        )
    return record


# --- deciding ---------------------------------------------------------------------------------------------
def _decide_checks(actor, record: ServiceRecord) -> None:
    if not in_scope(actor, record.org.path):
        raise Http404
    if record.member.user_id is not None and record.member.user_id == getattr(actor, "pk", None):
        raise NotAllowed(_("You cannot verify your own service record"))
    if not permissions.can_verify(actor, record.org):
        raise NotAllowed()


def _lock_record(record: ServiceRecord) -> ServiceRecord:
    return (
        ServiceRecord.objects.select_for_update(of=("self",))
        .select_related("member", "member__community", "aspect", "activity")
        .get(pk=record.pk)
    )


def record_verify(*, actor, record: ServiceRecord, now: dt.datetime | None = None) -> ServiceRecord:
    """The community confirms the record; the award is requested in the same transaction, so a record is
    never verified without its award once the ledger exists (a refusal from the ledger undoes both)."""
    moment = resolve_now(now)
    _decide_checks(actor, record)
    with transaction.atomic():
        locked = _lock_record(record)
        if locked.status != RecordStatus.PENDING:
            raise UserError("not_pending", _("This record has already been decided"), status=409)
        locked.status = RecordStatus.VERIFIED
        locked.decided_by = actor
        locked.decided_at = moment
        locked.reason = ""
        locked.save(update_fields=["status", "decided_by", "decided_at", "reason"])
        award_request(locked, actor=actor, now=moment)
        audit.record(
            actor=actor,
            verb="record.verify",
            obj=locked,
            now=moment,
            details={"minutes": locked.minutes},
        )
        member_notify(
            locked.member,
            _("Service record verified: %(title)s"),
            _("Duration %(hours)s hours"),
            reverse("activities:my-records"),
            moment,
            {"title": locked.title, "hours": locked.hours},
        )
    return locked


def record_reject(
    *, actor, record: ServiceRecord, reason: str, now: dt.datetime | None = None
) -> ServiceRecord:
    """Reject a pending record, or revoke a verified one (its award is reversed); a reason is required."""
    moment = resolve_now(now)
    _decide_checks(actor, record)
    reason = cleaners.text(reason, field="reason", label=_("Reason"), max_length=300)
    with transaction.atomic():
        locked = _lock_record(record)
        if locked.status not in (RecordStatus.PENDING, RecordStatus.VERIFIED):
            raise UserError("not_open", _("This record is already rejected or revoked"), status=409)
        was_verified = locked.status == RecordStatus.VERIFIED
        locked.status = RecordStatus.REVOKED if was_verified else RecordStatus.REJECTED
        locked.reason = reason
        locked.decided_by = actor
        locked.decided_at = moment
        locked.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        if was_verified:
            award_reverse(locked, actor=actor, reason=reason, now=moment)
        audit.record(
            actor=actor,
            verb=f"record.{'revoke' if was_verified else 'reject'}",
            obj=locked,
            now=moment,
            details={"reason": reason},
        )
        title = (
            _("Service record revoked: %(title)s")
            if was_verified
            else _("Service record returned: %(title)s")
        )
        member_notify(
            locked.member,
            title,
            _("Reason: %(reason)s"),
            reverse("activities:my-records"),
            moment,
            {"title": locked.title, "reason": reason},
        )
    return locked
