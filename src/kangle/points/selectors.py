"""Reads of points: a member's history and balance, rankings, benefits open to a person, evidence totals."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, QuerySet, Sum

from kangle.core.masking import mask_name
from kangle.members.models import Member
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import scope_queryset
from kangle.points.models import Balance, Benefit, Booking, EntryKind, LedgerEntry, PointsRule, Slot

DIMENSIONS = {"community": "community_id", "grid": "grid_id", "party_org": "party_org_id"}


def history(member: Member) -> QuerySet[LedgerEntry]:
    """Entries newest first, each with the rule that gave it (one query with the join)."""
    return (
        LedgerEntry.objects.filter(member=member)
        .select_related("rule", "reverses")
        .order_by("-recorded_at", "-id")
    )


def cached_balance(member: Member) -> int:
    return Balance.objects.filter(member=member).values_list("total", flat=True).first() or 0


def ranking(
    *,
    actor,
    dimension: str,
    unit_id: int,
    start: dt.datetime,
    end: dt.datetime,
    limit: int = 20,
    public: bool = True,
) -> list[dict]:
    """Members by points earned in [start, end) within one community, grid or employer Party organisation.

    One GROUP BY over the ranking index (dimension, occurred_at, member, points); only earning entries
    carry the dimension, so spending does not count. ``public`` drops members who opted out and masks names.

    With full names (``public=False``, staff) only members under the actor's own subtree are counted: an
    employer Party organisation spans streets, and a unit id is no licence to see people elsewhere.
    """
    column = DIMENSIONS[dimension]
    entries = LedgerEntry.objects.filter(**{column: unit_id}, occurred_at__gte=start, occurred_at__lt=end)
    if not public:
        entries = scope_queryset(actor, entries, "member__org__path")
    query = (
        entries.values("member_id")
        .annotate(total=Sum("points"))
        .filter(total__gt=0)
        .order_by("-total", "member_id")
    )
    if not public:
        rows = list(query[:limit])
    else:
        # Opting out is rare: drop hidden members from the top rows (one small IN query per chunk) rather
        # than anti-joining every balance row.
        rows, offset = [], 0
        while len(rows) < limit:
            chunk = list(query[offset : offset + limit * 2])
            if not chunk:
                break
            hidden = set(
                Balance.objects.filter(
                    member_id__in=[r["member_id"] for r in chunk], hide_from_rankings=True
                ).values_list("member_id", flat=True)
            )
            rows += [r for r in chunk if r["member_id"] not in hidden]
            offset += len(chunk)
        rows = rows[:limit]
    names = dict(Member.objects.filter(pk__in=[r["member_id"] for r in rows]).values_list("pk", "name"))
    result, previous, rank = [], None, 0
    for index, row in enumerate(rows, start=1):
        if row["total"] != previous:
            rank, previous = index, row["total"]
        name = names.get(row["member_id"], "")
        result.append(
            {
                "rank": rank,
                "member_id": row["member_id"],
                "points": row["total"],
                "name": mask_name(name) if public else name,
            }
        )
    return result


def service_summary(member: Member) -> dict:
    """What the ledger records about a member's verified service: the evidence a reviewer sees.

    Counts awards that were not reversed; hours, beneficiaries and residents' ratings come from the award
    evidence (activities store them there)."""
    awards = list(
        LedgerEntry.objects.filter(member=member, kind=EntryKind.AWARD, reversed_by__isnull=True)
        .order_by("occurred_at")
        .values("occurred_at", "points", "duration_minutes", "evidence", "source_type")
    )
    ratings = [
        a["evidence"].get("rating") for a in awards if isinstance(a["evidence"].get("rating"), int | float)
    ]
    beneficiaries = sum(
        int(a["evidence"].get("beneficiaries") or 0)
        for a in awards
        if str(a["evidence"].get("beneficiaries") or "0").isdigit()
    )
    titles: dict[str, int] = {}
    for a in awards:
        title = str(a["evidence"].get("title") or "").strip()
        if title:
            titles[title] = titles.get(title, 0) + 1
    balance = LedgerEntry.objects.filter(member=member).aggregate(s=Sum("points"))["s"] or 0
    earned = (
        LedgerEntry.objects.filter(
            member=member, kind__in=(EntryKind.AWARD, EntryKind.REVERSAL, EntryKind.ADJUSTMENT)
        ).aggregate(s=Sum("points"))["s"]
        or 0
    )
    return {
        "services": len(awards),
        "first": awards[0]["occurred_at"] if awards else None,
        "last": awards[-1]["occurred_at"] if awards else None,
        "hours": round(sum(a["duration_minutes"] or 0 for a in awards) / 60, 1),
        "beneficiaries": beneficiaries,
        "ratings": len(ratings),
        "approval": round(sum(ratings) / len(ratings), 2) if ratings else None,
        "points_earned": earned,
        "balance": balance,
        "titles": sorted(titles.items(), key=lambda item: (-item[1], item[0]))[:8],
    }


def benefits_for(member: Member, moment: dt.datetime) -> QuerySet[Benefit]:
    """Open benefits that apply to the member's community (defined at it or above)."""
    return (
        Benefit.objects.filter(org__code__in=member.community.ancestor_codes(), is_active=True)
        .filter(Q(active_from__isnull=True) | Q(active_from__lte=moment))
        .filter(Q(active_until__isnull=True) | Q(active_until__gt=moment))
        .select_related("venue")
        .order_by("kind", "min_points", "name")
    )


def upcoming_slots(benefit: Benefit, moment: dt.datetime) -> QuerySet[Slot]:
    return benefit.slots.filter(starts_at__gt=moment).order_by("starts_at")


def bookings_of(member: Member) -> QuerySet[Booking]:
    return (
        Booking.objects.filter(member=member)
        .select_related("slot__benefit", "household_member")
        .order_by("-created_at", "-id")
    )


def totals_by_kind(member: Member) -> dict[str, int]:
    return dict(
        LedgerEntry.objects.filter(member=member).values_list("kind").annotate(n=Count("pk")).order_by()
    )


def balance_of(member: Member) -> int:
    """The balance as the sum of the ledger (the cached total is only checked against it)."""
    return LedgerEntry.objects.filter(member=member).aggregate(total=Sum("points"))["total"] or 0


def rule_in_force(street: OrgUnit, moment: dt.datetime) -> PointsRule | None:
    return (
        PointsRule.objects.filter(org=street, effective_from__lte=moment).order_by("-effective_from").first()
    )


def benefits_applying(unit: OrgUnit):
    """Benefits defined at ``unit`` or one of its ancestors."""
    return Benefit.objects.filter(org__code__in=unit.ancestor_codes())
