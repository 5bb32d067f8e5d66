"""Reads of cases shared by pages, the API, Open311 and the figures."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from django.db.models import Exists, F, OuterRef, Prefetch, Q, QuerySet, prefetch_related_objects

from kangle.cases.models import (
    OPEN_STATUSES,
    Appointment,
    AppointmentStatus,
    Case,
    CaseEvent,
    CaseMilestone,
    CasePhoto,
    CaseStatus,
    EventKind,
    ExtensionRequest,
    ExtensionStatus,
    Feedback,
    MilestoneState,
)
from kangle.core.rawrows import bound_rows, bound_rows_of_each, values_at
from kangle.core.roles import person_key
from kangle.core.timeutil import humanise_duration
from kangle.orgs.scope import scope_counted, scope_queryset
from kangle.orgs.selectors import paths_q


@dataclass
class ClockView:
    """One milestone's clock as a page shows it."""

    name: str
    code: str
    deadline: dt.datetime
    state: str
    colour: str  # ok | warn | bad | paused | done | late | off
    met_at: dt.datetime | None
    # Time left on a running clock, or past the deadline on a breached one; None for any other state.
    span: dt.timedelta | None = None

    @property
    def remaining(self) -> str:
        """``span`` in words, made only when asked: a list reads four clocks a case and shows one at most."""
        return self.remaining_in(None)

    def remaining_in(self, words: Mapping[str, str] | None) -> str:
        """``span`` in words, with a page's ``timeutil.duration_words()`` resolved once for all its clocks."""
        return "" if self.span is None else humanise_duration(self.span, words)


def clock_view(row, now: dt.datetime) -> ClockView:
    """One clock from a CaseMilestone (with its milestone) or from a dict of ``CLOCK_FIELDS``."""
    get = row.get if isinstance(row, dict) else None
    if get is None:
        name, code = row.milestone.name, row.milestone.code
        state, deadline, warned_at, warn_at, met_at = (
            row.state,
            row.deadline,
            row.warned_at,
            row.warn_at,
            row.met_at,
        )
    else:
        name, code = get("milestone__name"), get("milestone__code")
        state, deadline, warned_at, warn_at, met_at = (
            get("state"),
            get("deadline"),
            get("warned_at"),
            get("warn_at"),
            get("met_at"),
        )
    span = None
    if state == MilestoneState.RUNNING:
        if now >= deadline:
            colour = "bad"
        elif warned_at is not None or (warn_at is not None and now >= warn_at):
            colour = "warn"
        else:
            colour = "ok"
        span = deadline - now
    elif state == MilestoneState.BREACHED:
        colour, span = "bad", now - deadline
    elif state == MilestoneState.PAUSED:
        colour = "paused"
    elif state == MilestoneState.MET:
        colour = "done"
    elif state == MilestoneState.MET_LATE:
        colour = "late"
    else:
        colour = "off"
    return ClockView(name, code, deadline, state, colour, met_at, span)


def clock_views(case: Case, now: dt.datetime) -> list[ClockView]:
    return [clock_view(row, now) for row in case.milestones.all()]  # prefetched in order


CLOCK_FIELDS = (
    "case_id",
    "milestone__name",
    "milestone__code",
    "state",
    "deadline",
    "warned_at",
    "warn_at",
    "met_at",
)


def clocks_by_case(case_ids: list[int], now: dt.datetime) -> dict[int, list[ClockView]]:
    """The clocks of a page of cases, round by round in milestone order, from one query on the (case,
    milestone, round) index."""
    clocks: dict[int, list[ClockView]] = {pk: [] for pk in case_ids}
    if not case_ids:
        return clocks

    def build(*ids) -> QuerySet[CaseMilestone]:
        return (
            CaseMilestone.objects.filter(case_id__in=ids)
            .order_by("case_id", "round", "milestone__order", "milestone_id")
            .values(*CLOCK_FIELDS)
        )

    ids = tuple(case_ids)
    for row in bound_rows(("cases.clocks", len(ids)), build, ids):
        clocks[row["case_id"]].append(clock_view(row, now))
    return clocks


def worst_of(views: list[ClockView]) -> ClockView | None:
    live = [view for view in views if view.colour in ("bad", "warn", "ok", "paused")]
    if not live:
        return None
    return min(live, key=lambda view: (COLOUR_ORDER[view.colour], view.deadline))


COLOUR_ORDER = {"bad": 0, "warn": 1, "paused": 2, "ok": 3, "late": 4, "done": 5, "off": 6}


def worst_clock(case: Case, now: dt.datetime) -> ClockView | None:
    return worst_of(clock_views(case, now))


def with_clocks(queryset: QuerySet[Case]) -> QuerySet[Case]:
    return queryset.select_related("category", "org", "contractor").prefetch_related(
        Prefetch(
            "milestones",
            queryset=CaseMilestone.objects.select_related("milestone").order_by("milestone__order"),
        )
    )


def prefetch_clocks(case: Case) -> Case:
    """Load the clocks of an already loaded case (one query), in milestone order, for ``clock_views``."""
    prefetch_related_objects(
        [case],
        Prefetch(
            "milestones",
            queryset=CaseMilestone.objects.select_related("milestone").order_by("milestone__order"),
        ),
    )
    return case


def late_clock_q(now: dt.datetime) -> Q:
    """A clock that makes its case late: breached by the sweep, or running past its deadline before the sweep
    came."""
    return Q(state=MilestoneState.BREACHED) | Q(state=MilestoneState.RUNNING, deadline__lte=now)


def overdue_q(now: dt.datetime) -> Q:
    late = CaseMilestone.objects.filter(case=OuterRef("pk")).filter(late_clock_q(now))
    return Q(Exists(late), status__in=OPEN_STATUSES)


def warning_q(now: dt.datetime) -> Q:
    soon = CaseMilestone.objects.filter(
        case=OuterRef("pk"), state=MilestoneState.RUNNING, deadline__gt=now
    ).filter(Q(warned_at__isnull=False) | Q(warn_at__lte=now))
    return Q(Exists(soon), status__in=OPEN_STATUSES) & ~overdue_q(now)


# The to-do home's clock lines stop counting at this many cases ("100+"); the desk queue they link to has the
# full list. Each line reads at most ATTENTION_ROWS clocks per index (and of an index read in order after
# the cap is reached, only its most pressing deadline), so the home costs about the same at 1,000 cases as
# at 1,000,000, however many of them are late.
ATTENTION_CAP = 100
ATTENTION_ROWS = 2 * ATTENTION_CAP


@dataclass(frozen=True)
class Attention:
    """How many cases a clock line counts (at least, when ``capped``) and its most pressing deadline."""

    count: int
    capped: bool
    oldest: dt.datetime | None


@dataclass(frozen=True)
class _ClockPart:
    """One index's share of a clock line: the clocks it holds (``clocks(now)``) and its order. An ``ordered``
    part is read in that order, so its first row is its most pressing deadline; the others are read in no
    order, and their earliest deadline is read apart when the rows were cut short."""

    clocks: Callable[[dt.datetime], Q]
    order: str
    ordered: bool


def _attention(actor, name: str, now: dt.datetime, parts: list[_ClockPart], *, on_time: bool) -> Attention:
    """Cases with a clock of any of ``parts`` in the actor's part of the tree; with ``on_time``, only cases
    none of whose clocks is late. Each part reads up to ATTENTION_ROWS clocks; when cut short the count is a
    lower bound. A case may have several matching clocks, so cases are counted once. Each query is compiled
    once per person (``rawrows.values_at``): building it cost more than running it.

    The clocks are tested on themselves, not on their case: a clock carries its case's unit, and a clock is
    running or breached only while its case is open (closing a case meets its clocks, cancelling stops them;
    the sweep relies on the same). Reading each clock's case cost 7-9 microseconds a clock, most of a line.
    One query per part, not one for all: with their OR, the planner's cost estimate crosses PostgreSQL's JIT
    threshold and compiling the query costs 20 ms."""

    def matching(moment: dt.datetime, part: _ClockPart) -> QuerySet[CaseMilestone]:
        clocks = scope_queryset(actor, CaseMilestone.objects.filter(part.clocks(moment)))
        if on_time:
            late = CaseMilestone.objects.filter(case_id=OuterRef("case_id")).filter(late_clock_q(moment))
            clocks = clocks.filter(~Exists(late))
        return clocks.order_by(part.order) if part.ordered else clocks.order_by()

    def first_rows(moment: dt.datetime, part: _ClockPart):
        return matching(moment, part).values_list("case_id", "deadline")[:ATTENTION_ROWS]

    def earliest(moment: dt.datetime, part: _ClockPart):
        return matching(moment, part).order_by(part.order).values_list("deadline")[:1]

    person = person_key(actor)
    found: set[int] = set()
    cut, deadlines = False, []
    for index, part in enumerate(parts):
        key = (person, name, index, ATTENTION_ROWS)
        if part.ordered and len(found) >= ATTENTION_CAP:
            # Counted to the cap already: this part only adds its most pressing deadline, its first row in
            # its index's order. (A part read in no order keeps its read: the earliest of a part with few
            # clocks would walk the due-time index through every running clock to find them.)
            deadlines += [
                row[0] for row in values_at((*key, "earliest"), lambda m, p=part: earliest(m, p), now)
            ]
            continue
        rows = values_at((*key, "rows"), lambda moment, p=part: first_rows(moment, p), now)
        found.update(case_id for case_id, _deadline in rows)
        if part.ordered:
            deadlines += [deadline for _case, deadline in rows[:1]]
        elif len(rows) < ATTENTION_ROWS:
            deadlines += [deadline for _case, deadline in rows]
        else:
            deadlines += [
                row[0] for row in values_at((*key, "earliest"), lambda m, p=part: earliest(m, p), now)
            ]
        cut = cut or len(rows) >= ATTENTION_ROWS
    capped = cut or len(found) >= ATTENTION_CAP
    return Attention(min(len(found), ATTENTION_CAP), capped, min(deadlines, default=None))


# A running clock's due time is its deadline (the sweep breaches on it), and it has one only while running,
# so the running parts read the due-time indexes; breached clocks have their own small partial index.
_LATE_CLOCKS = [
    _ClockPart(lambda now: Q(state=MilestoneState.BREACHED), "deadline", ordered=True),
    _ClockPart(lambda now: Q(state=MilestoneState.RUNNING, due_at__lte=now), "due_at", ordered=True),
]
# The warned part asks no time: a warned clock past its deadline makes its case late, and the test for
# "none of its clocks late" leaves that case out anyway. Without a time in it, its plan does not hang on a
# value: PostgreSQL keeps one plan for the prepared statement instead of planning it anew on every visit.
# The part of clocks in their warning window that the sweep has not warned yet is read in no order: the
# warning index answers "warning time passed, due time not" inside the index, and reading it in due order
# would test the clocks of late cases first.
_WARNING_CLOCKS = [
    _ClockPart(lambda now: Q(state=MilestoneState.RUNNING, warned_at__isnull=False), "due_at", ordered=True),
    _ClockPart(
        lambda now: Q(state=MilestoneState.RUNNING, due_at__gt=now, warn_at__lte=now), "due_at", ordered=False
    ),
]


def overdue_attention(actor, now: dt.datetime) -> Attention:
    """The to-do line of ``overdue_q``: open cases with a breached clock or a running one past its deadline."""
    return _attention(actor, "late", now, _LATE_CLOCKS, on_time=False)


def warning_attention(actor, now: dt.datetime) -> Attention:
    """The to-do line of ``warning_q``: open cases, none of whose clocks is late (``late_clock_q``, the queue's
    own test, so the line and the queue cannot disagree), with a running clock in its warning window (warned
    by the sweep, or its warning time passed before the sweep came)."""
    return _attention(actor, "warning", now, _WARNING_CLOCKS, on_time=True)


def staff_cases(actor, *, counting: bool = False) -> QuerySet[Case]:
    """The cases of the actor's subtree, joined on the org path (the path index serves it); ``counting``:
    the same cases tested on their unit's id, as a capped count reads them best (``scope_counted``)."""
    if counting:
        return scope_counted(actor, Case.objects.all())
    return scope_queryset(actor, Case.objects.all())


def visible_parts(actor, *, counting: bool = False) -> list[QuerySet[Case]]:
    """What an actor may see, as disjoint querysets each served by its own index: the staff subtree (joined
    on the org path), then the cases dispatched to the actor's contractors or reported by the actor that lie
    outside it (contractor and reporter indexes). A single ``pk IN (subtree) OR …`` filter would make the
    database walk the whole subtree on every request. ``counting``: the parts as a capped count reads them
    (``staff_cases``)."""
    if not getattr(actor, "is_authenticated", False):
        return []
    if actor.is_superuser:
        return [Case.objects.all()]
    from kangle.cases.permissions import contractor_ids

    parts = []
    paths = actor.scope_paths
    if paths:
        parts.append(staff_cases(actor, counting=counting))
    own = Q(reporter_id=actor.pk)
    ids = contractor_ids(actor)
    if ids:
        own |= Q(contractor_id__in=ids)
    own_cases = Case.objects.filter(own)
    if paths:
        own_cases = own_cases.exclude(paths_q(paths, "org__path"))
    parts.append(own_cases)
    return parts


# What a list row shows, read with one query (no model instances, no decryption).
LIST_FIELDS = (
    "id",
    "number",
    "category__code",
    "category__name",
    "org__code",
    "org__name",
    "status",
    "channel",
    "title",
    "description",
    "phone_mask",
    "address_mask",
    "contractor__name",
    "reported_at",
    "closed_at",
    "paused_at",
)
LIST_ORDER = ("-reported_at", "-id")
# What a desk queue row shows.
QUEUE_FIELDS = (
    "id",
    "number",
    "category__name",
    "title",
    "org__name",
    "status",
    "contractor__name",
    "reported_at",
)


def list_shape(
    actor,
    params,
    now: dt.datetime,
    *,
    name: str = "cases.list",
    parts: Callable[..., list[QuerySet[Case]]] = visible_parts,
    fields: tuple[str, ...] = LIST_FIELDS,
    order: tuple[str, ...] = LIST_ORDER,
) -> tuple[tuple, Callable, tuple] | None:
    """A case list as (key, build, values) for ``Listing.shaped``: compiled once per person and shape of
    filters, the status, category, contractor and moment bound into it; ``parts`` gives the cases the list
    starts from (``name`` tells lists apart). None when the filters need the ORM on every request (a unit
    looked up by its code, a number searched by its digits)."""
    if params.get("org") or params.get("q") or not getattr(actor, "is_authenticated", False):
        return None
    from kangle.cases.permissions import contractor_ids

    contractor = str(params.get("contractor") or "")
    if len(contractor) >= 18:
        return None
    status = params.get("status") or ""
    # Values bound into the SQL; the filters that choose a branch are the key's.
    named = {
        "status": "" if status == "open" else status,
        "category": params.get("category") or "",
        "contractor": int(contractor) if contractor.isdigit() else "",
    }
    given = tuple(name for name, value in named.items() if value != "")
    key = (
        name,
        fields,
        order,
        person_key(actor),
        tuple(contractor_ids(actor)),
        status == "open",
        params.get("sla") if params.get("sla") in ("overdue", "warning") else "",
        params.get("stage") if params.get("stage") in STAGES else "",
        given,
    )

    def build(moment: dt.datetime, *values, fields: tuple[str, ...] = fields) -> list[QuerySet[Case]]:
        # The filters as plain text (a QueryDict's own storage holds lists), those bound left blank.
        # ``fields=KEY_FIELDS`` gives the count's reads (``Listing.shaped``'s ``counted``).
        bound = {name: params.get(name) or "" for name in ("sla", "stage")}
        bound["status"] = "open" if status == "open" else ""
        bound.update(zip(given, values, strict=True))
        return list_reads(actor, bound, moment, parts=parts, fields=fields, order=order)

    return key, build, (now, *(named[name] for name in given))


# What a list's count selects: its key alone, so the count joins only what the filters need.
KEY_FIELDS = ("id",)


def list_reads(
    actor,
    params,
    now: dt.datetime,
    *,
    parts: Callable[..., list[QuerySet[Case]]] = visible_parts,
    fields: tuple[str, ...] = LIST_FIELDS,
    order: tuple[str, ...] = LIST_ORDER,
) -> list[QuerySet]:
    """A case list's filtered, ordered ``values()`` reads, one per part (what ``list_shape`` compiles); read for
    their keys alone (``KEY_FIELDS``), the parts are asked for as a capped count reads them."""
    chosen = parts(actor, counting=fields == KEY_FIELDS)
    return [filter_cases(part, params, now).order_by(*order).values(*fields) for part in chosen]


def filter_cases(queryset: QuerySet[Case], params, now: dt.datetime) -> QuerySet[Case]:
    status = params.get("status") or ""
    if status == "open":
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    elif status:
        queryset = queryset.filter(status=status)
    if params.get("category"):
        queryset = queryset.filter(category__code=params["category"])
    contractor = str(params.get("contractor") or "")
    if contractor.isdigit():
        # A number no key can hold is no contractor's: nothing, rather than an error from the database.
        queryset = queryset.filter(contractor_id=int(contractor)) if len(contractor) < 19 else queryset.none()
    if params.get("org"):
        from kangle.orgs.models import OrgUnit
        from kangle.orgs.selectors import subtree_q

        unit = OrgUnit.objects.filter(code=params["org"]).only("path").first()
        queryset = queryset.filter(subtree_q(unit.path, "org__path")) if unit else queryset.none()
    sla = params.get("sla") or ""
    if sla == "overdue":
        queryset = queryset.filter(overdue_q(now))
    elif sla == "warning":
        queryset = queryset.filter(warning_q(now))
    stage = params.get("stage") or ""
    if stage in STAGES:
        queryset = queryset.filter(STAGES[stage]())
    if params.get("q"):
        queryset = queryset.filter(number__icontains=str(params["q"]).strip()[:20])
    return queryset


def _returned_q() -> Q:
    """Back at the desk after a contractor's 退单, waiting to be dispatched again."""
    handed_back = CaseEvent.objects.filter(case=OuterRef("pk"), kind=EventKind.RETURNED)
    return Q(Exists(handed_back), status=CaseStatus.ACCEPTED)


def _dispatch_q() -> Q:
    """New cases to accept, and accepted ones still waiting for a contractor (returned ones excepted)."""
    return Q(status__in=(CaseStatus.REPORTED, CaseStatus.ACCEPTED)) & ~_returned_q()


def _extension_q() -> Q:
    pending = ExtensionRequest.objects.filter(
        case_milestone__case=OuterRef("pk"), status=ExtensionStatus.PENDING
    )
    return Q(Exists(pending))


# The desk queue's ``stage`` filter: the to-do home links each of its lines to one of these.
STAGES = {"returned": _returned_q, "dispatch": _dispatch_q, "extension": _extension_q}


# A timeline entry as the API and the pages give it (the pages find its photos by its id); the actor's name as
# ``User.__str__`` gives it.
TIMELINE_FIELDS = (
    "id",
    "at",
    "kind",
    "step",
    "note",
    "actor_id",
    "actor__display_name",
    "actor__username",
    "from_status",
    "to_status",
)


def _timeline_read(pk: int, public_only: bool) -> QuerySet[CaseEvent]:
    events = CaseEvent.objects.filter(case_id=pk).order_by("at", "id").values(*TIMELINE_FIELDS)
    return events.filter(public=True) if public_only else events


def _timeline_photos_read(pk: int, public_only: bool) -> QuerySet:
    photos = CasePhoto.objects.filter(case_id=pk, event__isnull=False)
    if public_only:
        photos = photos.filter(event__public=True)
    return photos.order_by(*CasePhoto._meta.ordering).values("pk", "event_id")


def _photos_by_event(rows: list[dict]) -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    for row in rows:
        found.setdefault(row["event_id"], []).append(row["pk"])
    return found


@dataclass(frozen=True)
class CaseRecord:
    """What a case's pages show around the case itself. ``appointment`` (the booked visit: its slot) and
    ``feedback`` are None when there is none; the parts not asked for are empty."""

    clocks: list[ClockView]
    events: list[dict]
    photos: dict[int, list[int]]
    appointment: dict | None
    extensions: list[dict]
    feedback: dict | None


# What ``case_record`` can read, by name: each a ``values()`` read of one case, in its order.
_RECORD_READS: dict[str, Callable[[int, bool], QuerySet]] = {
    "clocks": lambda pk, _public: (
        CaseMilestone.objects.filter(case_id=pk)
        .order_by("round", "milestone__order", "milestone_id")
        .values(*CLOCK_FIELDS)
    ),
    "events": _timeline_read,
    "photos": _timeline_photos_read,
    "appointment": lambda pk, _public: (
        Appointment.objects.filter(case_id=pk, status=AppointmentStatus.BOOKED)
        .order_by(*Appointment._meta.ordering)
        .values("slot_start", "slot_end")[:1]
    ),
    "extensions": lambda pk, _public: (
        ExtensionRequest.objects.filter(case_milestone__case_id=pk)
        .order_by(*ExtensionRequest._meta.ordering, "pk")
        .values("pk", "hours", "reason", "status", milestone_name=F("case_milestone__milestone__name"))
    ),
    "feedback": lambda pk, _public: (
        Feedback.objects.filter(case_id=pk)
        .order_by(*Feedback._meta.ordering, "pk")
        .values("rating", "satisfied", "comment")[:1]
    ),
}
API_RECORD = ("clocks", "events")
VISIT_RECORD = ("clocks", "events", "photos", "appointment")
DESK_RECORD = tuple(_RECORD_READS)


def case_record(
    case_id: int, now: dt.datetime, parts: tuple[str, ...], *, public_only: bool = False
) -> CaseRecord:
    """The ``parts`` of a case's record (names of ``_RECORD_READS``; only public events and their photos with
    ``public_only``), each read compiled once and all read by one statement (``rawrows.rows_of_each``): a
    case's page read them one round trip each."""

    def build(pk: int) -> list[QuerySet]:
        return [_RECORD_READS[name](pk, public_only) for name in parts]

    found = dict(
        zip(parts, bound_rows_of_each(("cases.record", parts, public_only), build, (case_id,)), strict=True)
    )
    labels = dict(ExtensionStatus.choices)
    extensions = [
        {**row, "status_label": labels.get(row["status"], row["status"])}
        for row in found.get("extensions", [])
    ]
    return CaseRecord(
        clocks=[clock_view(row, now) for row in found.get("clocks", [])],
        events=found.get("events", []),
        photos=_photos_by_event(found.get("photos", [])),
        appointment=next(iter(found.get("appointment", [])), None),
        extensions=extensions,
        feedback=next(iter(found.get("feedback", [])), None),
    )


def contractor_cases(actor) -> QuerySet[Case]:
    from kangle.cases.permissions import contractor_ids

    return Case.objects.filter(contractor_id__in=contractor_ids(actor))
