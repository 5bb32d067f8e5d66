"""社区吹哨: a call is blown (the members it asks are notified), answered by members themselves, collectively
by their employer Party organisation or by a grid leader for the group, and closed with its outcome."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kangle.activities import permissions, selectors
from kangle.activities.models import CallStatus, ResponseChannel, WhistleCall, WhistleResponse
from kangle.activities.services.shared import member_approved_of, member_notify, reaches, user_notify
from kangle.activities.services.signups import party_org_of
from kangle.core import audit, cleaners
from kangle.core.errors import CHINESE, ENGLISH, NotAllowed, UserError, render
from kangle.core.text import normalise_text
from kangle.core.timeutil import resolve_now
from kangle.members.access import access_members, refused
from kangle.members.constants import Status
from kangle.members.models import EmployerPartyOrg, Member, Skill
from kangle.notify.services import after_commit, day_time, notify_user
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import in_scope
from kangle.posts.models import ServiceAspect

CALL_TITLE = _("Community call: %(title)s")


def _check_call_times(starts_at, ends_at, deadline, moment) -> tuple:
    starts_at = cleaners.aware_datetime(starts_at, field="starts_at", label=_("Starts"))
    ends_at = cleaners.aware_datetime(ends_at, field="ends_at", label=_("Ends"))
    deadline = cleaners.aware_datetime(deadline, field="deadline", label=_("Answer by"))
    if ends_at <= starts_at:
        raise UserError("ends_before_start", _("The end must be after the start"), field="ends_at")
    if deadline <= moment:
        raise UserError("deadline_past", _("The deadline must be in the future"), field="deadline")
    if deadline > ends_at:
        raise UserError("deadline_after_end", _("The deadline cannot be after the end"), field="deadline")
    return starts_at, ends_at, deadline


def _check_grids(org: OrgUnit, grids: list[OrgUnit]) -> None:
    for grid in grids:
        if grid.kind not in (OrgKind.GRID, OrgKind.MICROGRID) or not grid.path.startswith(org.path):
            raise UserError(
                "grid_outside",
                _("Grid %(grid)s is not inside %(unit)s"),
                field="grids",
                grid=grid.name,
                unit=org.name,
            )


def call_create(
    *,
    actor,
    org: OrgUnit,
    title: str,
    place: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    people_needed: int,
    deadline: dt.datetime,
    description: str = "",
    skills: Iterable[Skill] = (),
    grids: Iterable[OrgUnit] = (),
    aspect: ServiceAspect | None = None,
    now: dt.datetime | None = None,
) -> WhistleCall:
    """社区吹哨. Matching members (approved, living in the targeted grids or the unit, holding one of the
    skills when skills are named) and their employer Party organisations are notified after the commit."""
    moment = resolve_now(now)
    if not in_scope(actor, org.path):
        raise Http404
    if not permissions.can_blow_whistle(actor, org):
        raise NotAllowed()
    title = cleaners.text(title, field="title", label=_("What is needed"), max_length=100)
    place = cleaners.text(place, field="place", label=_("Where"), max_length=200)
    starts_at, ends_at, deadline = _check_call_times(starts_at, ends_at, deadline, moment)
    people_needed = cleaners.whole_number(
        people_needed, field="people_needed", label=_("People needed"), low=1, high=1000
    )
    grids, skills = list(grids), list(skills)
    _check_grids(org, grids)
    with transaction.atomic():
        call = WhistleCall.objects.create(
            org=org,
            aspect=aspect,
            title=title,
            description=description,
            place=place,
            starts_at=starts_at,
            ends_at=ends_at,
            people_needed=people_needed,
            deadline=deadline,
            created_by=actor,
            created_at=moment,
        )
        call.skills.set(skills)
        call.grids.set(grids)
        audit.record(
            actor=actor,
            verb="call.create",
            obj=call,
            now=moment,
            details={
                "title": title,
                "people_needed": people_needed,
                "grids": [g.code for g in grids],
                "skills": [s.code for s in skills],
            },
        )
        _notify_call(call, grids, skills, moment)
    return call


def _notify_call(call: WhistleCall, grids, skills, moment) -> None:
    link = reverse("activities:phone-call", args=[call.pk])
    params = {
        "title": call.title,
        "place": call.place,
        "starts": day_time(call.starts_at),
        "people": call.people_needed,
        "deadline": day_time(call.deadline),
    }
    members = list(
        selectors.matching_members(call, grids, skills).select_related("user").filter(user__isnull=False)
    )
    for member in members:
        after_commit(
            notify_user,
            recipient=member.user,
            title=CALL_TITLE,
            body=_("%(place)s, %(starts)s, %(people)s people needed, report by %(deadline)s"),
            params=params,
            link=link,
            sms=True,
            now=moment,
        )
    party_orgs = EmployerPartyOrg.objects.filter(
        pk__in={m.party_org_id for m in members if m.party_org_id}, account__isnull=False
    ).select_related("account")
    collective_link = reverse("activities:collective", args=[call.pk])
    for party_org in party_orgs:
        after_commit(
            notify_user,
            recipient=party_org.account,
            title=CALL_TITLE,
            body=_(
                "%(place)s, %(starts)s, %(people)s people needed, report by %(deadline)s. "
                "Your organisation can report its members together"
            ),
            params=params,
            link=collective_link,
            sms=False,
            now=moment,
        )


def _lock_open_call(call: WhistleCall, moment) -> WhistleCall:
    locked = WhistleCall.objects.select_for_update().get(pk=call.pk)
    if locked.status != CallStatus.OPEN or moment > locked.deadline:
        raise UserError("call_closed", _("This call is closed for answers"), status=409)
    return locked


def _write_responses(
    locked: WhistleCall, members: list[Member], *, actor, channel, party_org, moment
) -> list:
    already = set(
        WhistleResponse.objects.filter(call=locked, member__in=members).values_list("member_id", flat=True)
    )
    batch = uuid.uuid4().hex if len(members) > 1 or channel != ResponseChannel.INDIVIDUAL else ""
    seconds = max(0, int((moment - locked.created_at).total_seconds()))
    fresh = [
        WhistleResponse(
            call=locked,
            member=m,
            channel=channel,
            party_org=party_org,
            batch=batch,
            responded_by=actor,
            responded_at=moment,
            response_seconds=seconds,
        )
        for m in members
        if m.pk not in already
    ]
    WhistleResponse.objects.bulk_create(fresh)
    WhistleCall.objects.filter(pk=locked.pk).update(responded_count=F("responded_count") + len(fresh))
    locked.responded_count += len(fresh)
    return fresh


def _tell_answered(responses: list[WhistleResponse], call: WhistleCall, title, moment) -> None:
    params = {"title": call.title, "place": call.place, "starts": day_time(call.starts_at)}
    for response in responses:
        member_notify(
            response.member,
            title,
            _("%(place)s, %(starts)s"),
            reverse("activities:phone-call", args=[call.pk]),
            moment,
            params,
        )


def response_create(*, actor, call: WhistleCall, now: dt.datetime | None = None) -> WhistleResponse:
    """A member reports for a call (党员报到)."""
    moment = resolve_now(now)
    member = member_approved_of(actor)
    if not reaches(member, call.org):
        raise Http404
    with transaction.atomic():
        locked = _lock_open_call(call, moment)
        if WhistleResponse.objects.filter(call=locked, member=member).exists():
            raise UserError("already_responded", _("You have already answered this call"), status=409)
        (response,) = _write_responses(
            locked, [member], actor=actor, channel=ResponseChannel.INDIVIDUAL, party_org=None, moment=moment
        )
        audit.record(
            actor=actor,
            verb="call.respond",
            obj=locked,
            now=moment,
            details={"member": member.pk, "seconds": response.response_seconds},
        )
        user_notify(
            locked.created_by,
            _("Member reported: %(title)s"),
            _("%(member)s has reported (%(count)s/%(needed)s)"),
            reverse("activities:call-detail", args=[locked.pk]),
            moment,
            {
                "title": locked.title,
                "member": member.name,
                "count": locked.responded_count,
                "needed": locked.people_needed,
            },
        )
    return response


class _ListProblems:
    """The failing rows of a collective list, rendered in the language active when the message is."""

    def __init__(self, rows: list[dict]):
        self.rows = rows

    def __str__(self) -> str:
        line = _("row %(row)d “%(name)s”: %(reason)s")
        return "; ".join(
            render(line, {"row": r["row"], "name": r["name"], "reason": r["reason"]}) for r in self.rows
        )


class CollectiveListError(UserError):
    """A collective list with names that cannot be accepted; ``rows`` names each one and why (``message``
    in Chinese and ``message_en`` in English, as the API returns them)."""

    def __init__(self, problems: list[dict]):
        self.rows = [
            {
                "row": p["row"],
                "name": p["name"],
                "message": render(p["reason"], language=CHINESE),
                "message_en": render(p["reason"], language=ENGLISH),
            }
            for p in problems
        ]
        super().__init__(
            "collective_list_invalid",
            _(
                "%(count)d name(s) cannot be accepted; nothing was submitted, correct the list and send it "
                "again. %(rows)s"
            ),
            field="names",
            count=len(problems),
            rows=_ListProblems(problems),
        )

    def as_dict(self) -> dict:
        body = super().as_dict()
        body["rows"] = self.rows
        return body


def _parse_names(names) -> list[str]:
    if isinstance(names, str):
        names = names.replace("，", ",").replace("、", ",").replace(";", ",").replace("；", ",").splitlines()
        names = [part for line in names for part in line.split(",")]
    return [normalise_text(n) for n in names]


def _name_problem(found: list[Member], call: WhistleCall, seen: set):
    """Why one name of a collective list cannot be accepted (a lazy message), or None."""
    if not found:
        return _("not an approved member of this organisation")
    if len(found) > 1:
        return _("several members share this name; ask the community")
    if not reaches(found[0], call.org):
        return _("does not live where this call is")
    if found[0].pk in seen:
        return _("listed twice")
    return None


def _collective_members(party_org, names: list[str], call: WhistleCall) -> list[Member]:
    """The members named in a collective list; any name that cannot be accepted fails the whole list."""
    if not any(names):
        raise UserError("empty_list", _("The list is empty: name at least one member"), field="names")
    candidates: dict[str, list[Member]] = {}
    for member in Member.objects.filter(party_org=party_org, status=Status.APPROVED).select_related(
        "community"
    ):
        candidates.setdefault(normalise_text(member.name), []).append(member)
    chosen, problems, seen = [], [], set()
    for row, name in enumerate(names, start=1):
        if not name:
            continue
        found = candidates.get(name, [])
        problem = _name_problem(found, call, seen)
        if problem is not None:
            problems.append({"row": row, "name": name, "reason": problem})
        else:
            seen.add(found[0].pk)
            chosen.append(found[0])
    if problems:
        raise CollectiveListError(problems)
    return chosen


def response_collective(
    *, actor, call: WhistleCall, names, party_org_id: int | None = None, now: dt.datetime | None = None
) -> list[WhistleResponse]:
    """集体报到 by an employer Party organisation with a named list.

    Each name must be one approved member of this organisation living where the call reaches. If any name
    fails, every failing name is reported (row, name, reason) and **none** is accepted: the organisation sends
    the corrected list again (names already reported are skipped then, so resending is harmless)."""
    moment = resolve_now(now)
    party_org = party_org_of(actor, party_org_id)
    chosen = _collective_members(party_org, _parse_names(names), call)
    with transaction.atomic():
        locked = _lock_open_call(call, moment)
        fresh = _write_responses(
            locked, chosen, actor=actor, channel=ResponseChannel.PARTY_ORG, party_org=party_org, moment=moment
        )
        audit.record(
            actor=actor,
            verb="call.respond_collective",
            obj=locked,
            now=moment,
            details={"party_org": party_org.pk, "members": [m.pk for m in chosen], "new": len(fresh)},
        )
        _tell_answered(fresh, locked, _("Your organisation reported you for: %(title)s"), moment)
        user_notify(
            locked.created_by,
            _("Collective report: %(title)s"),
            _("%(org)s reported %(number)s people (%(count)s/%(needed)s)"),
            reverse("activities:call-detail", args=[locked.pk]),
            moment,
            {
                "title": locked.title,
                "org": party_org.name,
                "number": len(fresh),
                "count": locked.responded_count,
                "needed": locked.people_needed,
            },
        )
    return fresh


def response_grid(
    *, actor, call: WhistleCall, member_ids: Iterable[int], now: dt.datetime | None = None
) -> list[WhistleResponse]:
    """A grid leader reports for their group: members living in the leader's grid."""
    moment = resolve_now(now)
    if not in_scope(actor, call.org.path) and not any(
        call.org.path.startswith(p) or p.startswith(call.org.path) for p in actor.scope_paths
    ):
        raise Http404
    # Ids come from the request body: only approved members under the actor's scope, whom the actor may
    # report for and the call reaches; any other id gets one answer that names and counts nobody.
    members = access_members(actor, member_ids, field="member_ids")
    if any(not permissions.can_report_for_group(actor, m.org) or not reaches(m, call.org) for m in members):
        raise refused("member_ids")
    ids = [m.pk for m in members]
    with transaction.atomic():
        locked = _lock_open_call(call, moment)
        fresh = _write_responses(
            locked, members, actor=actor, channel=ResponseChannel.GRID, party_org=None, moment=moment
        )
        audit.record(
            actor=actor,
            verb="call.respond_grid",
            obj=locked,
            now=moment,
            details={"members": ids, "new": len(fresh)},
        )
        _tell_answered(fresh, locked, _("Your grid leader reported you for: %(title)s"), moment)
    return fresh


def call_close(*, actor, call: WhistleCall, outcome: str, now: dt.datetime | None = None) -> WhistleCall:
    moment = resolve_now(now)
    if not in_scope(actor, call.org.path):
        raise Http404
    if not (permissions.can_blow_whistle(actor, call.org) or call.created_by_id == actor.pk):
        raise NotAllowed()
    outcome = cleaners.text(outcome, field="outcome", label=_("Outcome"), max_length=2000)
    with transaction.atomic():
        locked = WhistleCall.objects.select_for_update().get(pk=call.pk)
        if locked.status == CallStatus.CLOSED:
            raise UserError("call_closed", _("This call is already closed"), status=409)
        locked.status = CallStatus.CLOSED
        locked.outcome = outcome
        locked.closed_at = moment
        locked.closed_by = actor
        locked.save(update_fields=["status", "outcome", "closed_at", "closed_by"])
        audit.record(
            actor=actor,
            verb="call.close",
            obj=locked,
            now=moment,
            details={"outcome": outcome, "responded": locked.responded_count},
        )
    return locked
