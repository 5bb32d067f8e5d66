"""Every change to the catalogue, posts, claims, invitations and bulk proposals. Each runs in one transaction,
checks the permission, writes its audit event and sends notices only after commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TypedDict, Unpack

from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy as _

from kangle.accounts.models import RoleAssignment
from kangle.core import audit, cleaners
from kangle.core.errors import NotAllowed, UserError
from kangle.core.roles import Role
from kangle.core.text import normalise_text
from kangle.core.timeutil import resolve_now
from kangle.members.constants import SLOT_CODES, Status
from kangle.members.models import Member, Skill
from kangle.notify.services import after_commit, notify_user
from kangle.orgs.models import OrgKind, OrgUnit, Venue
from kangle.posts import permissions
from kangle.posts.models import (
    ACTIVE_CLAIM_STATUSES,
    BulkProposal,
    BulkProposalItem,
    Claim,
    ClaimSource,
    ClaimStatus,
    Invitation,
    Post,
    PostSession,
    PostStatus,
    ProposalStatus,
    ServiceAspect,
    ServiceCategory,
)
from kangle.posts.schedule import Schedule, clash, mask_from_codes

OWNER_KINDS = (OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY)


# --- Catalogue --------------------------------------------------------------------------------------------
def _catalogue_fields(obj, *, name=None, sort_order=None, is_active=None, description=None) -> dict:
    changes = {}
    if name is not None:
        name = normalise_text(name)
        if not name:
            raise UserError("name_required", _("The name is required"), field="name")
        changes["name"] = name
    if sort_order is not None:
        changes["sort_order"] = int(sort_order)
    if is_active is not None:
        changes["is_active"] = bool(is_active)
    if description is not None:
        changes["description"] = normalise_text(description)
    for key, value in changes.items():
        setattr(obj, key, value)
    return changes


def category_update(
    *,
    actor,
    category: ServiceCategory,
    name=None,
    sort_order=None,
    is_active=None,
    now: dt.datetime | None = None,
) -> ServiceCategory:
    if not permissions.can_manage_catalogue(actor):
        raise NotAllowed
    with transaction.atomic():
        changes = _catalogue_fields(category, name=name, sort_order=sort_order, is_active=is_active)
        if changes:
            category.save(update_fields=list(changes))
            audit.record(actor=actor, verb="service_category.update", obj=category, details=changes, now=now)
    return category


def aspect_update(
    *,
    actor,
    aspect: ServiceAspect,
    name=None,
    sort_order=None,
    is_active=None,
    description=None,
    now: dt.datetime | None = None,
) -> ServiceAspect:
    """Rename, reorder, retire or restore an aspect. Posts keep it; a retired one takes no new posts."""
    if not permissions.can_manage_catalogue(actor):
        raise NotAllowed
    with transaction.atomic():
        changes = _catalogue_fields(
            aspect, name=name, sort_order=sort_order, is_active=is_active, description=description
        )
        if changes:
            aspect.save(update_fields=list(changes))
            audit.record(actor=actor, verb="aspect.update", obj=aspect, details=changes, now=now)
    return aspect


# --- Posts ------------------------------------------------------------------------------------------------
@dataclass
class PostData:
    title: str
    aspect: ServiceAspect
    org: OrgUnit
    venue: Venue | None
    description: str
    required_skills: list[Skill]
    preferred_skills: list[Skill]
    weekly_slots: int
    starts_on: dt.date
    ends_on: dt.date | None
    sessions: list[tuple[dt.datetime, dt.datetime]] = field(default_factory=list)
    capacity: int = 1
    difficulty: int = 1
    needs_confirmation: bool = False


def parse_sessions(value) -> list[tuple[dt.datetime, dt.datetime]]:
    """Sessions as pairs of datetimes, dicts {starts_at, ends_at}, or text lines "2026-12-05 09:00-11:00"."""
    if not value:
        return []
    items = value.splitlines() if isinstance(value, str) else list(value)
    sessions = []
    for number, item in enumerate(items, start=1):
        if isinstance(item, str):
            text = (
                normalise_text(item).replace("–", "-").replace("—", "-").replace("～", "-").replace("~", "-")
            )
            if not text:
                continue
            try:
                day_text, times = text.split(" ", 1)
                start_text, end_text = (t.strip() for t in times.split("-", 1))
                day = dt.date.fromisoformat(day_text)
                start = dt.datetime.combine(day, dt.time.fromisoformat(start_text))
                end = dt.datetime.combine(day, dt.time.fromisoformat(end_text))
            except ValueError:
                raise UserError(
                    "invalid_session",
                    _("Session %(number)s must look like 2026-12-05 09:00-11:00"),
                    field="sessions",
                    number=number,
                ) from None
        elif isinstance(item, dict):
            try:
                start = _aware_datetime(item["starts_at"])
                end = _aware_datetime(item["ends_at"])
            except (KeyError, ValueError, TypeError):
                raise UserError(
                    "invalid_session",
                    _("Session %(number)s needs a valid start and end"),
                    field="sessions",
                    number=number,
                ) from None
        else:
            start, end = item
        start, end = _aware_datetime(start), _aware_datetime(end)
        if end <= start:
            raise UserError(
                "schedule_ends_before_start",
                _("Session %(number)s ends before it starts"),
                field="sessions",
                number=number,
            )
        sessions.append((start, end))
    return sessions


def _aware_datetime(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.strip())
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


class PostInput(TypedDict, total=False):
    """What a post is made of, as keyword arguments of ``post_create`` / ``post_update`` / ``clean_post``. The
    page form and the API schema parse their input into these; the service checks the rules."""

    title: str
    aspect: str  # an aspect code of the catalogue
    org: str | OrgUnit  # the owning unit (its code)
    venue: int | Venue | None
    description: str
    required_skills: list[str]  # skill codes
    preferred_skills: list[str]
    weekly_slots: list[str]  # slot codes such as sat_am
    starts_on: dt.date | str
    ends_on: dt.date | str | None
    sessions: list  # (start, end) pairs, {starts_at, ends_at} dicts or lines "2026-12-05 09:00-11:00"
    capacity: int | str
    difficulty: int | str
    needs_confirmation: bool


def _clean_aspect(code: str) -> ServiceAspect:
    aspect = ServiceAspect.objects.filter(code=code or "").select_related("category").first()
    if aspect is None or not aspect.is_active or not aspect.category.is_active:
        raise UserError("invalid_aspect", _("The aspect does not exist or is retired"), field="aspect")
    return aspect


def _clean_place(actor, org, venue) -> tuple[OrgUnit, Venue | None]:
    if not isinstance(org, OrgUnit):
        org = OrgUnit.objects.filter(code=org or "").first()
    if org is None or not permissions.can_manage_post(actor, org):
        raise UserError(
            "invalid_org", _("The owning unit does not exist or is outside your scope"), field="org"
        )
    if org.kind not in OWNER_KINDS:
        raise UserError(
            "invalid_org_kind", _("A post belongs to a community, an area or the street"), field="org"
        )
    if venue in (None, ""):
        return org, None
    if not isinstance(venue, Venue):
        venue_id = cleaners.whole_number(venue, field="venue", label=_("Venue"))
        venue = Venue.objects.select_related("org").filter(pk=venue_id).first()
        if venue is None:
            raise UserError("invalid_venue", _("The venue does not exist"), field="venue")
    if not (venue.org.path.startswith(org.path) or org.path.startswith(venue.org.path)):
        raise UserError("venue_elsewhere", _("The venue is outside the owning unit"), field="venue")
    return org, venue


def _clean_skills(codes, name: str) -> list[Skill]:
    codes = [c for c in (codes or []) if c]
    found = list(Skill.objects.filter(code__in=codes))
    missing = sorted(set(codes) - {s.code for s in found})
    if missing:
        raise UserError("invalid_skill", _("Unknown skills: %(codes)s"), field=name, codes="、".join(missing))
    return found


def _clean_weekly(codes) -> int:
    codes = [c for c in (codes or []) if c]
    unknown = [c for c in codes if c not in SLOT_CODES]
    if unknown:
        raise UserError(
            "invalid_slot", _("Unknown slots: %(codes)s"), field="weekly_slots", codes="、".join(unknown)
        )
    return mask_from_codes(codes)


def clean_post(
    *,
    actor,
    title: str = "",
    aspect: str = "",
    org: str | OrgUnit = "",
    venue: int | Venue | None = None,
    description: str = "",
    required_skills: list[str] = (),
    preferred_skills: list[str] = (),
    weekly_slots: list[str] = (),
    starts_on: dt.date | str | None = None,
    ends_on: dt.date | str | None = None,
    sessions: list = (),
    capacity: int | str = 1,
    difficulty: int | str = 1,
    needs_confirmation: bool = False,
) -> PostData:
    """Check a post's fields (``PostInput``) into PostData; every problem names its field."""
    title = normalise_text(title)
    if not title:
        raise UserError("title_required", _("The title is required"), field="title")
    aspect = _clean_aspect(aspect)
    org, venue = _clean_place(actor, org, venue)
    skills = {
        name: _clean_skills(codes, name)
        for name, codes in (("required_skills", required_skills), ("preferred_skills", preferred_skills))
    }
    weekly = _clean_weekly(weekly_slots)
    starts_on = cleaners.date(starts_on, field="starts_on", label=_("Start date"))
    ends_on = cleaners.date(ends_on, field="ends_on", label=_("End date"), required=False)
    if ends_on is not None and ends_on < starts_on:
        raise UserError(
            "schedule_ends_before_start", _("The schedule ends before it starts"), field="ends_on"
        )
    sessions = parse_sessions(sessions)
    if not weekly and not sessions:
        raise UserError(
            "schedule_required", _("Choose at least one weekly slot or add a session"), field="weekly_slots"
        )
    return PostData(
        title=title,
        aspect=aspect,
        org=org,
        venue=venue,
        description=normalise_text(description),
        required_skills=skills["required_skills"],
        preferred_skills=skills["preferred_skills"],
        weekly_slots=weekly,
        starts_on=starts_on,
        ends_on=ends_on,
        sessions=sessions,
        capacity=cleaners.whole_number(capacity, field="capacity", label=_("Capacity"), low=1, high=10000),
        difficulty=cleaners.whole_number(
            difficulty, field="difficulty", label=_("Difficulty"), low=1, high=5
        ),
        needs_confirmation=bool(needs_confirmation),
    )


def _place_columns(org: OrgUnit, venue: Venue | None) -> dict:
    place = venue.org if venue is not None else org
    chain = {u.kind: u for u in OrgUnit.objects.filter(code__in=place.ancestor_codes())}
    return {
        "place_microgrid": chain.get(OrgKind.MICROGRID),
        "place_estate": chain.get(OrgKind.ESTATE),
        "place_community": chain.get(OrgKind.COMMUNITY),
        "place_area": chain.get(OrgKind.AREA),
    }


def _write_post(post: Post, data: PostData, moment: dt.datetime) -> None:
    post.title, post.aspect, post.org, post.venue = data.title, data.aspect, data.org, data.venue
    post.description, post.weekly_slots = data.description, data.weekly_slots
    post.starts_on, post.ends_on = data.starts_on, data.ends_on
    post.capacity, post.difficulty, post.needs_confirmation = (
        data.capacity,
        data.difficulty,
        data.needs_confirmation,
    )
    post.slot_mask = Schedule(data.weekly_slots, data.starts_on, data.ends_on, data.sessions).mask
    post.last_day = last_day(data)
    for key, value in _place_columns(data.org, data.venue).items():
        setattr(post, key, value)
    post.updated_at = moment
    post.save()
    post.required_skills.set(data.required_skills)
    post.preferred_skills.set(data.preferred_skills)
    post.sessions.all().delete()
    PostSession.objects.bulk_create(
        [PostSession(post=post, starts_at=s, ends_at=e) for s, e in data.sessions]
    )


def last_day(data: PostData) -> dt.date | None:
    """The weekly schedule's end or the last session's (local) day, whichever is later; None if open-ended."""
    days = [timezone.localtime(end).date() for _start, end in data.sessions]
    if data.weekly_slots:
        if data.ends_on is None:
            return None
        days.append(data.ends_on)
    return max(days) if days else None


def _audit_data(data: PostData) -> dict:
    return {
        "title": data.title,
        "aspect": data.aspect.code,
        "org": data.org.code,
        "capacity": data.capacity,
        "difficulty": data.difficulty,
        "weekly_slots": data.weekly_slots,
        "sessions": len(data.sessions),
    }


def post_create(
    *, actor, publish: bool = False, now: dt.datetime | None = None, **fields: Unpack[PostInput]
) -> Post:
    moment = resolve_now(now)
    with transaction.atomic():
        data = clean_post(actor=actor, **fields)
        post = Post(
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
            created_at=moment,
            status=PostStatus.OPEN if publish else PostStatus.DRAFT,
        )
        _write_post(post, data, moment)
        audit.record(actor=actor, verb="post.create", obj=post, details=_audit_data(data), now=moment)
    return post


def post_update(*, actor, post: Post, now: dt.datetime | None = None, **fields: Unpack[PostInput]) -> Post:
    """Edit a post. Capacity cannot drop below the places already claimed."""
    moment = resolve_now(now)
    if not permissions.can_manage_post(actor, post.org):
        raise NotAllowed
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        data = clean_post(actor=actor, **fields)
        if data.capacity < locked.claimed_count:
            raise UserError(
                "capacity_below_claims",
                _("Capacity cannot be lower than the current claims (%(claimed_count)s)"),
                field="capacity",
                status=409,
                claimed_count=locked.claimed_count,
            )
        _write_post(locked, data, moment)
        _sync_full(locked)
        audit.record(actor=actor, verb="post.update", obj=locked, details=_audit_data(data), now=moment)
    return locked


def _sync_full(post: Post) -> None:
    """Open ⇄ full follows the claim count (closed and draft stay as they are)."""
    if post.status == PostStatus.OPEN and post.claimed_count >= post.capacity:
        post.status = PostStatus.FULL
    elif post.status == PostStatus.FULL and post.claimed_count < post.capacity:
        post.status = PostStatus.OPEN
    else:
        return
    Post.objects.filter(pk=post.pk).update(status=post.status)


def post_set_status(*, actor, post: Post, action: str, now: dt.datetime | None = None) -> Post:
    """publish (draft → open), close (→ closed), reopen (closed → open or full)."""
    moment = resolve_now(now)
    if not permissions.can_manage_post(actor, post.org):
        raise NotAllowed
    with transaction.atomic():
        locked = Post.objects.select_for_update().get(pk=post.pk)
        before = locked.status
        if action == "publish" and before == PostStatus.DRAFT:
            locked.status = PostStatus.OPEN
        elif action == "close" and before != PostStatus.CLOSED:
            locked.status = PostStatus.CLOSED
        elif action == "reopen" and before == PostStatus.CLOSED:
            locked.status = PostStatus.OPEN
        else:
            raise UserError(
                "invalid_transition", _("The post's status does not allow this"), field="status", status=409
            )
        locked.updated_at = moment
        locked.save(update_fields=["status", "updated_at"])
        _sync_full(locked)
        audit.record(
            actor=actor,
            verb=f"post.{action}",
            obj=locked,
            details={"from": before, "to": locked.status},
            now=moment,
        )
    return locked


# --- Claims -----------------------------------------------------------------------------------------------
def member_of(user) -> Member | None:
    from kangle.members.selectors import own_file

    return own_file(user)


def _staff_of(post: Post):
    """Secretaries and staff holding the post's owning unit (notified of claims)."""
    return [
        ra.user
        for ra in RoleAssignment.objects.select_related("user").filter(
            org=post.org,
            is_active=True,
            role__in=[Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF, Role.AREA_ADMIN, Role.STREET_ADMIN],
        )
    ]


def _notify_member(member: Member, title, body, link: str, moment, params: dict | None = None) -> None:
    """A notice in the member's language: ``title`` and ``body`` are lazy messages filled from ``params``."""
    if member.user_id:
        after_commit(
            notify_user,
            recipient=member.user,
            title=title,
            body=body,
            params=params,
            link=link,
            sms=True,
            now=moment,
        )


def active_schedules_of(member: Member, *, exclude_post: int | None = None) -> list[tuple[Post, Schedule]]:
    claims = (
        Claim.objects.filter(member=member, status__in=ACTIVE_CLAIM_STATUSES)
        .select_related("post")
        .prefetch_related("post__sessions")
    )
    return [(c.post, Schedule.of(c.post)) for c in claims if c.post_id != exclude_post]


def _check_claimable(actor, member: Member, locked: Post, moment: dt.datetime, *, by_staff: bool) -> None:
    """Refuse a claim the member may not make now (the rows are locked by the caller)."""
    if by_staff and not permissions.can_manage_post(actor, locked.org):
        raise Http404
    if not permissions.member_reaches(member, locked) or locked.status == PostStatus.DRAFT:
        raise Http404
    if member.status != Status.APPROVED:
        raise UserError(
            "member_not_approved", _("Only approved members can claim posts"), field="member", status=403
        )
    if locked.status == PostStatus.CLOSED:
        raise UserError("post_closed", _("This post is closed"), field="post", status=409)
    if Claim.objects.filter(post=locked, member=member, status__in=ACTIVE_CLAIM_STATUSES).exists():
        raise UserError(
            "already_claimed", _("This post is already claimed by this member"), field="post", status=409
        )
    if locked.last_day is not None and locked.last_day < timezone.localtime(moment).date():
        raise UserError("post_ended", _("This post's schedule has ended"), field="post", status=409)
    if locked.claimed_count >= locked.capacity or locked.status == PostStatus.FULL:
        raise UserError("post_full", _("This post is full"), field="post", status=409)
    mine = Schedule.of(locked)
    for other, schedule in active_schedules_of(member, exclude_post=locked.pk):
        if clash(mine, schedule):
            raise UserError(
                "schedule_clash",
                _("The times clash with the claimed post “%(title)s”"),
                field="post",
                status=409,
                title=other.title,
            )


def _announce_claim(
    member: Member, locked: Post, moment: dt.datetime, *, by_staff: bool, confirmed: bool
) -> None:
    """Tell the member (and, for a member's own claim, the post's staff) once the claim commits."""
    link = reverse("posts:phone-detail", args=[locked.pk])
    if by_staff:
        _notify_member(
            member,
            _("You have been assigned to the service post %(title)s"),
            _("See it or leave it under “My posts”"),
            link,
            moment,
            {"title": locked.title},
        )
    else:
        params = {"member": member.name, "title": locked.title}
        body = (
            _("%(member)s claimed %(title)s")
            if confirmed
            else _("%(member)s claimed %(title)s, please confirm")
        )
        for user in _staff_of(locked):
            after_commit(
                notify_user,
                recipient=user,
                title=_("New post claim"),
                body=body,
                params=params,
                link=reverse("posts:detail", args=[locked.pk]),
                now=moment,
            )
        text = (
            _("Claimed: %(title)s") if confirmed else _("Claim submitted, awaiting confirmation: %(title)s")
        )
        _notify_member(member, text, "", link, moment, params)


def claim_create(
    *,
    actor,
    post: Post,
    member: Member | None = None,
    source: str = ClaimSource.SELF,
    score: int | None = None,
    now: dt.datetime | None = None,
) -> Claim:
    """A member claims a place. Staff may place a member (``member``, from an invitation or a bulk proposal).

    The member row and the post row are locked (in that order), so the capacity holds exactly under
    concurrency and one member's two simultaneous claims cannot both pass the clash check."""
    moment = resolve_now(now)
    by_staff = member is not None
    if member is None:
        member = member_of(actor)
        if member is None:
            raise NotAllowed(_("Only members with a file can claim posts"))
    with transaction.atomic():
        member = Member.objects.select_for_update().select_related("community").get(pk=member.pk)
        locked = Post.objects.select_for_update().select_related("org", "aspect").get(pk=post.pk)
        _check_claimable(actor, member, locked, moment, by_staff=by_staff)
        if (
            not by_staff
            and source == ClaimSource.SELF
            and Invitation.objects.filter(post=locked, member=member).exists()
        ):
            source = ClaimSource.INVITATION
        confirmed = by_staff or not locked.needs_confirmation
        claim = Claim.objects.create(
            post=locked,
            member=member,
            status=ClaimStatus.CONFIRMED if confirmed else ClaimStatus.PENDING,
            source=source,
            score=score,
            claimed_at=moment,
            decided_at=moment if confirmed else None,
            decided_by=actor if by_staff else None,
        )
        locked.claimed_count += 1
        Post.objects.filter(pk=locked.pk).update(claimed_count=F("claimed_count") + 1, updated_at=moment)
        _sync_full(locked)
        audit.record(
            actor=actor,
            verb="claim.create",
            obj=claim,
            org_path=locked.org.path,
            details={"post": locked.pk, "member": member.pk, "status": claim.status, "source": source},
            now=moment,
        )
        _announce_claim(member, locked, moment, by_staff=by_staff, confirmed=confirmed)
    return claim


def _release(claim: Claim, moment) -> Post:
    post = Post.objects.select_for_update().get(pk=claim.post_id)
    post.claimed_count -= 1
    Post.objects.filter(pk=post.pk).update(claimed_count=F("claimed_count") - 1, updated_at=moment)
    _sync_full(post)
    return post


def _lock_claim(claim: Claim) -> Claim:
    locked = Claim.objects.select_for_update().select_related("post__org", "member").get(pk=claim.pk)
    if locked.status not in ACTIVE_CLAIM_STATUSES:
        raise UserError("claim_ended", _("This claim has already ended"), field="claim", status=409)
    return locked


def claim_withdraw(*, actor, claim: Claim, reason: str = "", now: dt.datetime | None = None) -> Claim:
    moment = resolve_now(now)
    if claim.member.user_id != getattr(actor, "pk", None):
        raise Http404
    with transaction.atomic():
        claim = _lock_claim(claim)
        claim.status, claim.ended_at, claim.reason = (
            ClaimStatus.WITHDRAWN,
            moment,
            normalise_text(reason)[:300],
        )
        claim.save(update_fields=["status", "ended_at", "reason"])
        post = _release(claim, moment)
        audit.record(
            actor=actor,
            verb="claim.withdraw",
            obj=claim,
            org_path=claim.post.org.path,
            details={"post": post.pk},
            now=moment,
        )
        for user in _staff_of(claim.post):
            after_commit(
                notify_user,
                recipient=user,
                title=_("A member left a post"),
                body=_("%(member)s left %(title)s"),
                params={"member": claim.member.name, "title": post.title},
                link=reverse("posts:detail", args=[post.pk]),
                now=moment,
            )
    return claim


def claim_confirm(*, actor, claim: Claim, now: dt.datetime | None = None) -> Claim:
    moment = resolve_now(now)
    if not permissions.can_manage_post(actor, claim.post.org):
        raise NotAllowed
    with transaction.atomic():
        claim = _lock_claim(claim)
        if claim.status != ClaimStatus.PENDING:
            raise UserError(
                "claim_not_pending", _("This claim is not awaiting confirmation"), field="claim", status=409
            )
        claim.status, claim.decided_at, claim.decided_by = ClaimStatus.CONFIRMED, moment, actor
        claim.save(update_fields=["status", "decided_at", "decided_by"])
        audit.record(actor=actor, verb="claim.confirm", obj=claim, org_path=claim.post.org.path, now=moment)
        _notify_member(
            claim.member,
            _("Claim confirmed: %(title)s"),
            "",
            reverse("posts:phone-detail", args=[claim.post_id]),
            moment,
            {"title": claim.post.title},
        )
    return claim


def claim_remove(*, actor, claim: Claim, reason: str, now: dt.datetime | None = None) -> Claim:
    """Staff take a member off a post (or decline a pending claim); the reason is required and sent."""
    moment = resolve_now(now)
    if not permissions.can_manage_post(actor, claim.post.org):
        raise NotAllowed
    reason = normalise_text(reason)
    if not reason:
        raise UserError("reason_required", _("A reason is required"), field="reason")
    with transaction.atomic():
        claim = _lock_claim(claim)
        claim.status, claim.ended_at, claim.reason = ClaimStatus.REMOVED, moment, reason[:300]
        claim.decided_by, claim.decided_at = actor, moment
        claim.save(update_fields=["status", "ended_at", "reason", "decided_by", "decided_at"])
        _release(claim, moment)
        audit.record(
            actor=actor,
            verb="claim.remove",
            obj=claim,
            org_path=claim.post.org.path,
            details={"reason": reason},
            now=moment,
        )
        _notify_member(
            claim.member,
            _("You have been taken off the post %(title)s"),
            _("Reason: %(reason)s"),
            reverse("posts:phone-detail", args=[claim.post_id]),
            moment,
            {"title": claim.post.title, "reason": reason},
        )
    return claim


# --- Invitations ------------------------------------------------------------------------------------------
def invitation_send(
    *, actor, post: Post, member: Member, reasons: str = "", now: dt.datetime | None = None
) -> Invitation:
    moment = resolve_now(now)
    if not permissions.can_manage_post(actor, post.org):
        raise NotAllowed
    if not permissions.member_reaches(member, post) or member.status != Status.APPROVED:
        raise Http404
    if not post.is_claimable:
        raise UserError("post_not_open", _("The post is not open or is full"), field="post", status=409)
    with transaction.atomic():
        invitation, created = Invitation.objects.get_or_create(
            post=post,
            member=member,
            defaults={"invited_by": actor, "invited_at": moment, "reasons": reasons[:300]},
        )
        if not created:
            raise UserError(
                "already_invited", _("This member has already been invited"), field="member", status=409
            )
        audit.record(
            actor=actor,
            verb="invitation.send",
            obj=invitation,
            org_path=post.org.path,
            details={"post": post.pk, "member": member.pk},
            now=moment,
        )
        _notify_member(
            member,
            _("You are invited to claim the service post %(title)s"),
            "%(reasons)s" if reasons else "",
            reverse("posts:phone-detail", args=[post.pk]),
            moment,
            {"title": post.title, "reasons": reasons},
        )
    return invitation


# --- Bulk proposals ---------------------------------------------------------------------------------------
def proposal_create(
    *, actor, org: OrgUnit, posts: list[Post], now: dt.datetime | None = None
) -> BulkProposal:
    """Compute the score-maximising assignment for ``posts`` and store it as an editable proposal."""
    from kangle.posts.assignment import solve_for_posts

    moment = resolve_now(now)
    if not permissions.can_manage_post(actor, org):
        raise NotAllowed
    posts = [p for p in posts if p.org.path.startswith(org.path)]
    if not posts:
        raise UserError("no_posts", _("Choose at least one open post"), field="posts")
    result = solve_for_posts(posts)
    with transaction.atomic():
        proposal = BulkProposal.objects.create(
            org=org,
            created_by=actor,
            created_at=moment,
            total_score=result.total,
            greedy_score=result.greedy_total,
        )
        proposal.posts.set(posts)
        BulkProposalItem.objects.bulk_create(
            [
                BulkProposalItem(
                    proposal=proposal,
                    post_id=pair.post_id,
                    member_id=pair.member_id,
                    score=pair.score,
                    reasons=pair.reasons[:300],
                )
                for pair in result.pairs
            ]
        )
        audit.record(
            actor=actor,
            verb="proposal.create",
            obj=proposal,
            details={
                "posts": [p.pk for p in posts],
                "items": len(result.pairs),
                "total": result.total,
                "greedy": result.greedy_total,
            },
            now=moment,
        )
    return proposal


def proposal_confirm(
    *, actor, proposal: BulkProposal, pairs: list[tuple[int, int]], now: dt.datetime | None = None
) -> list[Claim]:
    """Turn the kept (post, member) pairs — the proposal as the secretary edited it — into confirmed claims.
    All or nothing: if one pair fails (full, clash, outside reach), nothing is written; the row is named."""
    moment = resolve_now(now)
    if not permissions.can_manage_post(actor, proposal.org):
        raise NotAllowed
    post_ids = set(proposal.posts.values_list("pk", flat=True))
    claims = []
    with transaction.atomic():
        locked = BulkProposal.objects.select_for_update().get(pk=proposal.pk)
        if locked.status != ProposalStatus.DRAFT:
            raise UserError("proposal_done", _("This proposal is already confirmed or discarded"), status=409)
        scores = {(i.post_id, i.member_id): i.score for i in locked.items.all()}
        posts = {p.pk: p for p in Post.objects.filter(pk__in=post_ids).select_related("org")}
        members = {
            m.pk: m for m in Member.objects.filter(pk__in={m for _p, m in pairs}).select_related("community")
        }
        for row, (post_id, member_id) in enumerate(pairs, start=1):
            if post_id not in posts or member_id not in members:
                raise UserError(
                    "invalid_pair",
                    _("Row %(row)s: the post or member is not part of this proposal"),
                    field="items",
                    row=row,
                )
            try:
                claims.append(
                    claim_create(
                        actor=actor,
                        post=posts[post_id],
                        member=members[member_id],
                        source=ClaimSource.BULK,
                        score=scores.get((post_id, member_id)),
                        now=moment,
                    )
                )
            except Http404:
                raise UserError(
                    "invalid_pair",
                    _("Row %(row)s: the member is outside the post's reach"),
                    field="items",
                    row=row,
                ) from None
            except UserError as exc:
                raise UserError(
                    exc.code,
                    _("Row %(row)d (%(member)s → %(title)s): %(problem)s"),
                    field="items",
                    status=exc.status,
                    row=row,
                    member=members[member_id].name,
                    title=posts[post_id].title,
                    problem=lazy(exc.text, str)(),
                ) from None
        locked.status, locked.confirmed_at = ProposalStatus.CONFIRMED, moment
        locked.save(update_fields=["status", "confirmed_at"])
        audit.record(
            actor=actor,
            verb="proposal.confirm",
            obj=locked,
            details={"claims": len(claims)},
            now=moment,
        )
    return claims
