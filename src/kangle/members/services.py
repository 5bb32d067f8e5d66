"""Every change to member files: registration through each channel, merge, edit, approval, return,
transfer, departure, reveal, expected numbers, anonymisation. Each runs in one transaction, checks the
permission, writes its audit event and sends notices only after commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import CharField, ProtectedError, Value
from django.db.models.functions import Cast, Concat
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy, pgettext_lazy

from kangle.accounts.models import RoleAssignment, User
from kangle.accounts.services import role_assign
from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.masking import mask_phone
from kangle.core.roles import Role
from kangle.core.text import normalise_text
from kangle.core.timeutil import resolve_now
from kangle.members import permissions
from kangle.members.constants import ACTIVE_STATUSES, Channel, Status
from kangle.members.models import (
    Employer,
    EmployerPartyOrg,
    ExpectedCount,
    HouseholdMember,
    Member,
    MemberWillingness,
    StatusChange,
)
from kangle.members.validation import Cleaned, Resolver, clean_or_raise
from kangle.notify.services import notify_user, queue_sms, sms_text
from kangle.orgs.models import OrgKind, OrgUnit, RegistrationPoint
from kangle.orgs.scope import in_scope

# Fields a member may change in their own file (not their community or status: those go through staff).
SELF_EDITABLE = (
    "name",
    "gender",
    "birth_year",
    "phone",
    "id_number",
    "address",
    "political_status",
    "employer",
    "party_org",
    "position",
    "skills",
    "skills_other",
    "availability",
    "willingness",
    "hours_per_month",
    "household",
    "microgrid",
    "building_group",
)


class DuplicateFile(UserError):
    """The person already has an active file; ``existing`` is it (callers decide whether to offer a merge)."""

    status = 409

    def __init__(self, existing: Member, *, visible: bool):
        self.existing = existing
        self.visible = visible
        if visible:
            super().__init__(
                "duplicate_member",
                gettext_lazy(
                    "This person already has an active file (%(name)s, %(community)s); it can be merged"
                ),
                field="phone",
                name=existing.masked_name,
                community=existing.community.name,
            )
        else:
            super().__init__(
                "duplicate_member",
                gettext_lazy(
                    "This phone or ID number already has an active file; log in to see it, or ask the community "
                    "to transfer it"
                ),
                field="phone",
            )


@dataclass
class Registration:
    member: Member
    merged: bool


def find_active_duplicate(cleaned: Cleaned, *, exclude_pk: int | None = None) -> Member | None:
    rows = Member.objects.select_related("community").filter(status__in=ACTIVE_STATUSES)
    if exclude_pk:
        rows = rows.exclude(pk=exclude_pk)
    by_phone = rows.filter(phone_hash=cleaned.phone_hash).first() if cleaned.phone_hash else None
    if by_phone is not None:
        return by_phone
    return rows.filter(id_hash=cleaned.id_hash).first() if cleaned.id_hash else None


def employer_resolve(name: str, party_org_name: str = "") -> tuple[Employer | None, EmployerPartyOrg | None]:
    """Employers and their Party organisations are shared records found by name (created on first use)."""
    name, party_org_name = normalise_text(name), normalise_text(party_org_name)
    employer = Employer.objects.get_or_create(name=name)[0] if name else None
    party_org = None
    if party_org_name and employer is not None:
        party_org = EmployerPartyOrg.objects.get_or_create(
            name=party_org_name, defaults={"employer": employer}
        )[0]
    return employer, party_org


def _apply(member: Member, cleaned: Cleaned, *, fields=None) -> None:
    """Copy cleaned scalar values onto ``member`` (all, or only ``fields``)."""

    def wanted(name):
        return fields is None or name in fields

    for name in (
        "name",
        "gender",
        "birth_year",
        "address",
        "political_status",
        "position",
        "skills_other",
        "availability",
        "hours_per_month",
    ):
        if wanted(name):
            setattr(member, name, getattr(cleaned, name))
    if wanted("phone") and cleaned.phone:
        member.phone, member.phone_hash = cleaned.phone, cleaned.phone_hash
        member.phone_mask = mask_phone(cleaned.phone)
    if wanted("id_number"):
        member.id_number, member.id_hash = cleaned.id_number, cleaned.id_hash
    if wanted("community") and cleaned.community is not None:
        member.community = cleaned.community
    if wanted("microgrid") or wanted("community"):
        member.estate, member.microgrid, member.building_group = (
            cleaned.estate,
            cleaned.microgrid,
            cleaned.building_group,
        )
        member.org = cleaned.org or member.community
    if wanted("employer"):
        member.employer, member.party_org = employer_resolve(cleaned.employer, cleaned.party_org)


def _write_related(member: Member, cleaned: Cleaned, *, fields=None, replace: bool = True) -> None:
    if fields is None or "skills" in fields:
        if replace:
            member.skills.set(cleaned.skill_ids)
        else:
            member.skills.add(*cleaned.skill_ids)
    if fields is None or "willingness" in fields:
        if replace:
            MemberWillingness.objects.filter(member=member).exclude(aspect_id__in=cleaned.aspect_ids).delete()
        existing = set(MemberWillingness.objects.filter(member=member).values_list("aspect_id", flat=True))
        MemberWillingness.objects.bulk_create(
            [MemberWillingness(member=member, aspect_id=a) for a in cleaned.aspect_ids if a not in existing]
        )
    if (fields is None or "household" in fields) and (replace or cleaned.household):
        _write_household(member, cleaned.household, replace=replace)


def _write_household(member: Member, wanted: list[tuple], *, replace: bool) -> None:
    """Keep the household rows that are still listed (same name and relation: same row, so bookings made
    for that person stay attached), add the new ones, and remove only those no longer listed."""
    existing: dict[tuple[str, str], list[HouseholdMember]] = {}
    for row in HouseholdMember.objects.filter(member=member).order_by("id"):
        existing.setdefault((row.name, row.relation), []).append(row)
    new_rows = []
    for name, relation, birth_year in wanted:
        matches = existing.get((name, relation))
        if matches:
            row = matches.pop(0)
            if row.birth_year != birth_year:
                row.birth_year = birth_year
                row.save(update_fields=["birth_year"])
        else:
            new_rows.append(
                HouseholdMember(member=member, name=name, relation=relation, birth_year=birth_year)
            )
    gone = [row for rows in existing.values() for row in rows]
    if replace and gone:
        try:
            with transaction.atomic():
                HouseholdMember.objects.filter(pk__in=[row.pk for row in gone]).delete()
        except ProtectedError as error:
            names = "、".join(sorted({obj.household_member.name for obj in error.protected_objects}))
            raise UserError(
                "household_member_in_use",
                gettext_lazy("Household member %(names)s has bookings and cannot be removed"),
                field="household",
                names=names,
            ) from None
    HouseholdMember.objects.bulk_create(new_rows)


def _history(member: Member, *, from_status: str, to_status: str, actor, moment, reason: str = "") -> None:
    StatusChange.objects.create(
        member=member,
        from_status=from_status,
        to_status=to_status,
        reason=reason[:300],
        community=member.community,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        at=moment,
    )


def _tell(member: Member, title, body, moment, params: dict | None = None) -> None:
    """Inbox and SMS to the member after commit (SMS only, to the file's phone, when there is no account),
    in the member's language: ``title`` and ``body`` are lazy messages filled from ``params``."""
    link = reverse("members:me")

    def send():
        if member.user_id:
            notify_user(
                recipient=member.user,
                title=title,
                body=body,
                params=params,
                link=link,
                sms=True,
                now=moment,
                reference=f"member:{member.pk}",
            )
        elif member.phone:
            queue_sms(
                phone=member.phone,
                text=sms_text(title, body, params=params),
                reference=f"member:{member.pk}",
                now=moment,
            )

    transaction.on_commit(send)


def _check_channel(actor, channel: str, community: OrgUnit, party_org: EmployerPartyOrg | None) -> None:
    if channel == Channel.PHONE:
        return
    if channel in (Channel.DESK, Channel.IMPORT):
        if not in_scope(actor, community.path):
            raise Http404
        if not permissions.can_register_at(actor, community):
            raise NotAllowed()
        return
    if channel == Channel.COLLECTIVE:
        if (
            party_org is None
            or not permissions.is_collective_registrar(actor)
            or party_org.account_id != actor.pk
        ):
            raise NotAllowed()
        if not actor.has_role(Role.EMPLOYER_PARTY_ORG, within=community):
            raise UserError(
                "invalid_community",
                gettext_lazy("Unknown community: %(value)s"),
                field="community",
                value=community.name,
            )
        return
    raise UserError(
        "invalid_channel", gettext_lazy("Unknown channel: %(channel)s"), field="channel", channel=channel
    )


@transaction.atomic
def member_register(
    *,
    actor,
    data: dict,
    channel: str,
    point: RegistrationPoint | None = None,
    party_org: EmployerPartyOrg | None = None,
    user: User | None = None,
    merge_into: Member | None = None,
    resolver: Resolver | None = None,
    now: dt.datetime | None = None,
) -> Registration:
    """Register a person (报到). A second arrival of the same person (same phone or ID number) raises
    ``DuplicateFile`` unless ``merge_into`` names that file: then the new details fill its gaps."""
    moment = resolve_now(now)
    cleaned = clean_or_raise(data, resolver or Resolver())
    _check_channel(actor, channel, cleaned.community, party_org)
    if channel == Channel.COLLECTIVE:
        cleaned.employer, cleaned.party_org = party_org.employer.name, party_org.name
    existing = find_active_duplicate(cleaned)
    if existing is not None:
        visible = channel != Channel.PHONE and in_scope(actor, existing.community.path)
        if merge_into is None or merge_into.pk != existing.pk or not visible:
            raise DuplicateFile(existing, visible=visible)
        return Registration(
            _merge(actor=actor, member=existing, cleaned=cleaned, channel=channel, moment=moment), True
        )

    member = Member(channel=channel, point=point, status=Status.PENDING, registered_at=moment, user=user)
    _apply(member, cleaned)
    if party_org is not None:
        member.employer, member.party_org = party_org.employer, party_org
    try:
        with transaction.atomic():
            member.save()
    except IntegrityError:
        # Another request registered the same person a moment ago: the partial unique index caught it.
        existing = find_active_duplicate(cleaned)
        if existing is None:
            raise
        raise DuplicateFile(
            existing, visible=channel != Channel.PHONE and in_scope(actor, existing.community.path)
        ) from None
    _write_related(member, cleaned)
    _history(
        member,
        from_status="",
        to_status=Status.PENDING,
        actor=actor,
        moment=moment,
        reason=f"channel:{channel}" + (f" point:{point.code}" if point else ""),
    )
    audit.record(
        actor=actor,
        verb="member.register",
        obj=member,
        now=moment,
        details={
            "channel": channel,
            "point": point.code if point else "",
            "community": member.community.code,
        },
    )
    _tell(
        member,
        gettext_lazy("Your registration has been received"),
        gettext_lazy("%(community)s will review your registration"),
        moment,
        {"community": member.community.name},
    )
    return Registration(member, False)


def _merge(*, actor, member: Member, cleaned: Cleaned, channel: str, moment) -> Member:
    """Fill the gaps of an existing file with what the second arrival brought.

    Nothing already filled is overwritten."""
    member = Member.objects.select_for_update().get(pk=member.pk)
    filled = []
    for name in ("gender", "birth_year", "address", "position", "skills_other"):
        if not getattr(member, name) and getattr(cleaned, name):
            setattr(member, name, getattr(cleaned, name))
            filled.append(name)
    if not member.id_hash and cleaned.id_hash:
        member.id_number, member.id_hash = cleaned.id_number, cleaned.id_hash
        filled.append("id_number")
    if member.employer_id is None and cleaned.employer:
        member.employer, member.party_org = employer_resolve(cleaned.employer, cleaned.party_org)
        filled.append("employer")
    if (
        member.microgrid_id is None
        and cleaned.microgrid is not None
        and cleaned.community.pk == member.community_id
    ):
        member.estate, member.microgrid, member.building_group = (
            cleaned.estate,
            cleaned.microgrid,
            cleaned.building_group,
        )
        member.org = cleaned.org
        filled.append("microgrid")
    if not member.hours_per_month and cleaned.hours_per_month:
        member.hours_per_month = cleaned.hours_per_month
        filled.append("hours_per_month")
    member.availability |= cleaned.availability
    member.save()
    _write_related(member, cleaned, replace=False)
    _history(
        member,
        from_status=member.status,
        to_status=member.status,
        actor=actor,
        moment=moment,
        reason=f"merged:{channel}",
    )
    audit.record(
        actor=actor,
        verb="member.merge",
        obj=member,
        now=moment,
        details={"channel": channel, "filled": filled},
    )
    return member


def _locked(member: Member) -> Member:
    return (
        Member.objects.select_for_update(of=("self",)).select_related("community", "user").get(pk=member.pk)
    )


def _require_manage(actor, member: Member) -> None:
    if not in_scope(actor, member.org.path if member.org_id else member.community.path):
        raise Http404
    if not permissions.can_manage_member(actor, member.community):
        raise NotAllowed()


# What a file in the wrong state cannot be (the message names the action).
ACTIONS = {
    "approve": pgettext_lazy("file action", "approved"),
    "return": pgettext_lazy("file action", "returned"),
    "transfer": pgettext_lazy("file action", "transferred"),
    "leave": pgettext_lazy("file action", "marked as left"),
    "edit": pgettext_lazy("file action", "edited"),
}


def _bad_state(member: Member, action: str) -> UserError:
    return UserError(
        "invalid_status",
        gettext_lazy("The file is “%(state)s”; it cannot be %(action)s"),
        status=409,
        state=Status(member.status).label,
        action=ACTIONS[action],
    )


@transaction.atomic
def member_approve(*, actor, member: Member, now: dt.datetime | None = None) -> Member:
    moment = resolve_now(now)
    member = _locked(member)
    _require_manage(actor, member)
    if member.status not in (Status.PENDING, Status.TRANSFERRED):
        raise _bad_state(member, "approve")
    before = member.status
    member.status, member.return_reason, member.approved_at = Status.APPROVED, "", moment
    member.save(update_fields=["status", "return_reason", "approved_at"])
    if member.user_id:
        role_assign(actor=None, user=member.user, role=Role.MEMBER, org=member.community, now=moment)
    _history(member, from_status=before, to_status=Status.APPROVED, actor=actor, moment=moment)
    audit.record(actor=actor, verb="member.approve", obj=member, now=moment)
    _tell(
        member,
        gettext_lazy("Your registration has been approved"),
        gettext_lazy("Welcome to serve at %(community)s"),
        moment,
        {"community": member.community.name},
    )
    return member


@transaction.atomic
def member_return(*, actor, member: Member, reason: str, now: dt.datetime | None = None) -> Member:
    moment = resolve_now(now)
    reason = normalise_text(reason)
    if not reason:
        raise UserError("blank_reason", gettext_lazy("A reason is required to return a file"), field="reason")
    member = _locked(member)
    _require_manage(actor, member)
    if member.status not in (Status.PENDING, Status.TRANSFERRED):
        raise _bad_state(member, "return")
    before = member.status
    member.status, member.return_reason = Status.RETURNED, reason[:300]
    member.save(update_fields=["status", "return_reason"])
    _history(member, from_status=before, to_status=Status.RETURNED, actor=actor, moment=moment, reason=reason)
    audit.record(actor=actor, verb="member.return", obj=member, now=moment, details={"reason": reason})
    _tell(
        member,
        gettext_lazy("Your registration has been returned"),
        gettext_lazy("Reason: %(reason)s. Please correct it and submit again"),
        moment,
        {"reason": reason},
    )
    return member


@transaction.atomic
def member_transfer(
    *, actor, member: Member, to_community: OrgUnit, reason: str = "", now: dt.datetime | None = None
) -> Member:
    """The member moved: the file goes to the new community, which approves it again (status transferred)."""
    moment = resolve_now(now)
    member = _locked(member)
    _require_manage(actor, member)
    if member.status not in (Status.APPROVED, Status.PENDING, Status.RETURNED):
        raise _bad_state(member, "transfer")
    if to_community.kind != OrgKind.COMMUNITY or not to_community.is_active:
        raise UserError(
            "invalid_community",
            gettext_lazy("Unknown community: %(value)s"),
            field="to_community",
            value=to_community.name,
        )
    if to_community.pk == member.community_id:
        raise UserError(
            "same_community", gettext_lazy("The file is already in that community"), field="to_community"
        )
    before, old = member.status, member.community
    member.community = member.org = to_community
    member.estate = member.microgrid = member.building_group = None
    member.status = Status.TRANSFERRED
    member.save(update_fields=["community", "org", "estate", "microgrid", "building_group", "status"])
    if member.user_id:
        RoleAssignment.objects.filter(user_id=member.user_id, role=Role.MEMBER, org=old).update(
            is_active=False
        )
    _history(
        member,
        from_status=before,
        to_status=Status.TRANSFERRED,
        actor=actor,
        moment=moment,
        reason=normalise_text(reason) or f"{old.code}→{to_community.code}",
    )
    audit.record(
        actor=actor,
        verb="member.transfer",
        obj=member,
        now=moment,
        details={"from": old.code, "to": to_community.code},
    )
    _tell(
        member,
        gettext_lazy("Your registration has been transferred"),
        gettext_lazy(
            "Your file has moved from %(old)s to %(new)s, awaiting the new community's confirmation"
        ),
        moment,
        {"old": old.name, "new": to_community.name},
    )
    return member


@transaction.atomic
def member_leave(*, actor, member: Member, reason: str = "", now: dt.datetime | None = None) -> Member:
    moment = resolve_now(now)
    member = _locked(member)
    _require_manage(actor, member)
    if member.status == Status.LEFT:
        raise _bad_state(member, "leave")
    before = member.status
    member.status, member.left_at = Status.LEFT, moment
    member.save(update_fields=["status", "left_at"])
    if member.user_id:
        RoleAssignment.objects.filter(user_id=member.user_id, role=Role.MEMBER, org=member.community).update(
            is_active=False
        )
    _history(
        member,
        from_status=before,
        to_status=Status.LEFT,
        actor=actor,
        moment=moment,
        reason=normalise_text(reason),
    )
    audit.record(
        actor=actor, verb="member.leave", obj=member, now=moment, details={"reason": normalise_text(reason)}
    )
    _tell(
        member,
        gettext_lazy("Your registration has ended"),
        gettext_lazy("Your file at %(community)s has been marked as left"),
        moment,
        {"community": member.community.name},
    )
    return member


@transaction.atomic
def member_update(*, actor, member: Member, data: dict, now: dt.datetime | None = None) -> Member:
    """Staff correct a file, or the member edits their own.

    A member's edit of a returned file resubmits it."""
    moment = resolve_now(now)
    member = _locked(member)
    is_owner = permissions.owns(actor, member)
    if not is_owner:
        _require_manage(actor, member)
    if member.status == Status.LEFT:
        raise _bad_state(member, "edit")
    fields = set(data) & set(SELF_EDITABLE if is_owner else (*SELF_EDITABLE, "community"))
    if ("microgrid" in fields or "building_group" in fields) and not data.get("community"):
        data = {**data, "community": member.community}
    cleaned = clean_or_raise(data, Resolver(), partial=True)
    if cleaned.community is None:
        cleaned.community = member.community
    if cleaned.phone_hash or cleaned.id_hash:
        existing = find_active_duplicate(cleaned, exclude_pk=member.pk)
        if existing is not None:
            raise DuplicateFile(existing, visible=not is_owner and in_scope(actor, existing.community.path))
    _apply(member, cleaned, fields=fields)
    before = member.status
    if is_owner and member.status == Status.RETURNED:
        member.status, member.return_reason = Status.PENDING, ""
    member.save()
    _write_related(member, cleaned, fields=fields)
    if before != member.status:
        _history(
            member,
            from_status=before,
            to_status=member.status,
            actor=actor,
            moment=moment,
            reason="resubmitted",
        )
    audit.record(
        actor=actor, verb="member.update", obj=member, now=moment, details={"fields": sorted(fields)}
    )
    return member


def member_reveal(*, actor, member: Member, now: dt.datetime | None = None) -> dict:
    """The unmasked personal data of one file, for an actor allowed to see it; always audited."""
    if not in_scope(actor, member.org.path):
        raise Http404
    if not permissions.can_reveal(actor, member.community):
        raise NotAllowed(gettext_lazy("You may not see unmasked personal data"))
    audit.record(actor=actor, verb="member.reveal", obj=member, now=now)
    return {"phone": member.phone, "id_number": member.id_number, "address": member.address}


@transaction.atomic
def expected_set(*, actor, org: OrgUnit, expected: int, now: dt.datetime | None = None) -> ExpectedCount:
    moment = resolve_now(now)
    if org.kind not in (OrgKind.MICROGRID, OrgKind.COMMUNITY):
        raise UserError(
            "invalid_unit",
            gettext_lazy(
                "Expected numbers are entered per micro-grid (or per community without micro-grids)"
            ),
            field="org",
        )
    if not in_scope(actor, org.path):
        raise Http404
    if not permissions.can_set_expected(actor, org):
        raise NotAllowed()
    if not isinstance(expected, int) or expected < 0 or expected > 100000:
        raise UserError(
            "invalid_expected", gettext_lazy("The expected number must be 0 to 100000"), field="expected"
        )
    row, _ = ExpectedCount.objects.update_or_create(
        org=org, defaults={"expected": expected, "updated_at": moment, "updated_by": actor}
    )
    audit.record(actor=actor, verb="base_number.set", obj=org, now=moment, details={"expected": expected})
    return row


@transaction.atomic
def employer_update(
    *,
    actor,
    employer: Employer,
    contact_person: str | None = None,
    contact_phone: str | None = None,
    email: str | None = None,
    address: str | None = None,
    now: dt.datetime | None = None,
) -> Employer:
    """Contact details of an employer (where letters go); a field left None stays as it is. Street and area
    admins keep them."""
    if not (actor.is_superuser or actor.has_role(Role.STREET_ADMIN) or actor.has_role(Role.AREA_ADMIN)):
        raise NotAllowed()
    email = None if email is None else normalise_text(email)
    if email:
        try:
            validate_email(email)
        except ValidationError:
            raise UserError(
                "invalid_email",
                gettext_lazy("Malformed e-mail address: %(email)s"),
                field="email",
                email=email,
            ) from None
    given = {
        "contact_person": contact_person,
        "contact_phone": contact_phone,
        "email": email,
        "address": address,
    }
    employer = Employer.objects.select_for_update().get(pk=employer.pk)
    changed = []
    for name, value in given.items():
        if value is not None:
            setattr(employer, name, normalise_text(value))
            changed.append(name)
    employer.save(update_fields=changed or None)
    audit.record(actor=actor, verb="employer.update", obj=employer, now=now, details={"fields": changed})
    return employer


def anonymise_left_members(*, now: dt.datetime | None = None, **_) -> int:
    """Periodic job: files that left more than KANGLE_MEMBER_RETENTION_DAYS ago lose their personal data.

    Community, micro-grid, skills, willingness, availability, hours and the status history stay, so service
    statistics still add up. One compare-and-set UPDATE: safe when several workers run it at once.
    """
    moment = resolve_now(now)
    cutoff = moment - dt.timedelta(days=settings.KANGLE_MEMBER_RETENTION_DAYS)
    with transaction.atomic():
        due = Member.objects.filter(status=Status.LEFT, left_at__lte=cutoff, anonymised_at__isnull=True)
        ids = list(due.values_list("pk", flat=True)[:5000])
        if not ids:
            return 0
        count = Member.objects.filter(pk__in=ids, anonymised_at__isnull=True).update(
            name=Concat(Value("已匿名"), Cast("id", CharField())),
            phone="",
            phone_hash="",
            phone_mask="",
            id_number="",
            id_hash=None,
            address="",
            position="",
            user=None,
            employer=None,
            party_org=None,
            gender="",
            birth_year=None,
            anonymised_at=moment,
        )
        HouseholdMember.objects.filter(member_id__in=ids).delete()
        if count:
            audit.record(
                actor=None,
                verb="member.anonymise",
                object_type="members.member",
                object_id="",
                details={"count": count},
                now=moment,
            )
    return count


EXPECTED_UNIT_HEADERS = ("微网格", "微网格编码", "单元", "编码", "居民区", "microgrid", "unit")
EXPECTED_VALUE_HEADERS = ("底数", "应报到人数", "在职党员底数", "expected")


@transaction.atomic
def expected_import(
    *, actor, unit: OrgUnit, content: bytes, filename: str, now: dt.datetime | None = None
) -> tuple[int, list[dict]]:
    """Expected numbers from a spreadsheet (a micro-grid — code or name — and a number per row).

    All or nothing: with any bad row nothing is saved and every bad row is returned with its reason.
    """
    from kangle.members.spreadsheets import read_table
    from kangle.orgs.selectors import subtree_q

    moment = resolve_now(now)
    if not in_scope(actor, unit.path):
        raise Http404
    if not permissions.can_set_expected(actor, unit):
        raise NotAllowed()
    table = read_table(content, filename)
    headers = [h.lower() for h in table.headers]
    where = next((headers.index(h) for h in EXPECTED_UNIT_HEADERS if h in headers), None)
    value = next((headers.index(h) for h in EXPECTED_VALUE_HEADERS if h in headers), None)
    if where is None or value is None:
        raise UserError(
            "bad_columns",
            gettext_lazy("The file needs a 微网格 (micro-grid) and a 底数 (expected) column"),
            field="file",
        )
    targets = OrgUnit.objects.filter(subtree_q(unit.path), kind__in=[OrgKind.MICROGRID, OrgKind.COMMUNITY])
    by_code = {u.code: u for u in targets}
    by_name: dict[str, list[OrgUnit]] = {}
    for u in by_code.values():
        by_name.setdefault(u.name, []).append(u)
    rows, errors = [], []
    for number, values in table.rows:
        key = normalise_text(values[where] if where < len(values) else "")
        raw = values[value] if value < len(values) else None
        found = by_code.get(key) or (by_name.get(key, [None])[0] if len(by_name.get(key, [])) == 1 else None)
        if found is None:
            errors.append(
                {
                    "row": number,
                    "field": "microgrid",
                    "zh": f"未知的微网格：{key}",
                    "en": f"Unknown micro-grid: {key}",
                }
            )
            continue
        try:
            count = int(normalise_text(str(raw)).replace(".0", "")) if raw not in (None, "") else -1
        except ValueError:
            count = -1
        if not 0 <= count <= 100000:
            errors.append(
                {
                    "row": number,
                    "field": "expected",
                    "zh": f"底数应为 0 到 100000 的整数：{raw}",
                    "en": f"The expected number must be a whole number from 0 to 100000: {raw}",
                }
            )
            continue
        rows.append((found, count))
    if errors:
        return 0, errors
    for org, count in rows:
        ExpectedCount.objects.update_or_create(
            org=org, defaults={"expected": count, "updated_at": moment, "updated_by": actor}
        )
    audit.record(actor=actor, verb="base_number.import", obj=unit, now=moment, details={"rows": len(rows)})
    return len(rows), []
