"""The points rules' lifecycle: a street's versioned table (difficulty × duration band → points) and its caps.

A version no award has used may still change; a used version is frozen. A version whose window would cover
services that already earned points under another version is refused (it would rewrite history).
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import Max
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.timeutil import resolve_now
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import in_scope
from kangle.points import permissions
from kangle.points.models import (
    DIFFICULTIES,
    EntryKind,
    LedgerEntry,
    PointsRule,
)
from kangle.points.services.ledger import (
    MAX_MINUTES,
    actor_user,
    require_aware,
)


def _validate_table(band_limits, table, daily_cap, monthly_cap) -> tuple[list[int], list[list[int]]]:
    if (
        not isinstance(band_limits, list)
        or not band_limits
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in band_limits)
        or any(b <= a for a, b in zip(band_limits, band_limits[1:], strict=False))
        or band_limits[-1] > MAX_MINUTES
    ):
        raise UserError(
            "invalid_bands",
            _("Duration band limits must be increasing positive minutes (at most 1440)"),
            field="band_limits",
        )
    columns = len(band_limits) + 1
    if not isinstance(table, list) or len(table) != len(DIFFICULTIES):
        raise UserError("invalid_table", _("The points table needs 5 rows (difficulty 1–5)"), field="table")
    for d, row in enumerate(table, start=1):
        if not isinstance(row, list) or len(row) != columns:
            raise UserError(
                "invalid_table",
                _("Row %(d)s of the points table needs %(columns)s columns"),
                field="table",
                d=d,
                columns=columns,
            )
        for value in row:
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 5:
                raise UserError(
                    "invalid_table",
                    _("Row %(d)s of the points table must hold whole numbers from 1 to 5"),
                    field="table",
                    d=d,
                )
    for name, value in (("daily_cap", daily_cap), ("monthly_cap", monthly_cap)):
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 1000:
            raise UserError("invalid_cap", _("A cap must be a whole number from 1 to 1000"), field=name)
    if monthly_cap < daily_cap:
        raise UserError(
            "invalid_cap", _("The monthly cap cannot be below the daily cap"), field="monthly_cap"
        )
    return band_limits, table


def _refuse_if_changes_past(street: OrgUnit, effective_from: dt.datetime, rule: PointsRule | None) -> None:
    """A version taking over at ``effective_from`` would govern services from then until the next version;
    if awards already exist in that span under another version, the edit would rewrite history: refused."""
    later = PointsRule.objects.filter(org=street, effective_from__gt=effective_from)
    if rule is not None:
        later = later.exclude(pk=rule.pk)
    until = later.order_by("effective_from").values_list("effective_from", flat=True).first()
    affected = LedgerEntry.objects.filter(
        kind=EntryKind.AWARD, rule__org=street, occurred_at__gte=effective_from
    )
    if until is not None:
        affected = affected.filter(occurred_at__lt=until)
    if rule is not None:
        affected = affected.exclude(rule=rule)
    latest = affected.aggregate(m=Max("occurred_at"))["m"]
    if latest is not None:
        when = timezone.localtime(latest).strftime("%Y-%m-%d %H:%M")
        raise UserError(
            "rule_changes_past_awards",
            _(
                "The effective date lies before services that already earned points (latest %(when)s); it would change past awards. Choose a date after %(when)s"
            ),
            field="effective_from",
            when=when,
        )


def rule_create(
    *,
    actor,
    street: OrgUnit,
    effective_from: dt.datetime,
    band_limits: list[int] | None = None,
    table: list[list[int]] | None = None,
    daily_cap: int = 10,
    monthly_cap: int = 60,
    note: str = "",
    now: dt.datetime | None = None,
) -> PointsRule:
    """A new version of the street's table, in force from ``effective_from``."""
    from kangle.points.models import DEFAULT_BAND_LIMITS, default_table

    moment = resolve_now(now)
    if not in_scope(actor, street.path):
        raise Http404
    if not permissions.can_edit_rules(actor, street):
        raise NotAllowed()
    require_aware(effective_from, "effective_from")
    band_limits, table = _validate_table(
        DEFAULT_BAND_LIMITS if band_limits is None else band_limits,
        default_table() if table is None else table,
        daily_cap,
        monthly_cap,
    )
    with transaction.atomic():
        # One editor at a time per street: lock the street's versions.
        list(PointsRule.objects.select_for_update().filter(org=street).values_list("pk", flat=True))
        if PointsRule.objects.filter(org=street, effective_from=effective_from).exists():
            raise UserError(
                "rule_same_moment", _("Another version takes effect at that moment"), field="effective_from"
            )
        _refuse_if_changes_past(street, effective_from, None)
        version = (PointsRule.objects.filter(org=street).aggregate(v=Max("version"))["v"] or 0) + 1
        rule = PointsRule.objects.create(
            org=street,
            version=version,
            effective_from=effective_from,
            band_limits=band_limits,
            table=table,
            daily_cap=daily_cap,
            monthly_cap=monthly_cap,
            note=note[:300],
            created_by=actor_user(actor),
            created_at=moment,
        )
        audit.record(
            actor=actor,
            verb="points_rule.create",
            obj=rule,
            now=moment,
            details={"version": version, "effective_from": effective_from.isoformat()},
        )
    return rule


def rule_update(
    *,
    actor,
    rule: PointsRule,
    effective_from: dt.datetime | None = None,
    band_limits: list[int] | None = None,
    table: list[list[int]] | None = None,
    daily_cap: int | None = None,
    monthly_cap: int | None = None,
    note: str | None = None,
    now: dt.datetime | None = None,
) -> PointsRule:
    """Change a version that no award has used yet; a used version is frozen (make a new version instead).
    An argument left at None keeps the version's value."""
    moment = resolve_now(now)
    if not in_scope(actor, rule.org.path):
        raise Http404
    if not permissions.can_edit_rules(actor, rule.org):
        raise NotAllowed()
    data = {
        name: value
        for name, value in (
            ("effective_from", effective_from),
            ("band_limits", band_limits),
            ("table", table),
            ("daily_cap", daily_cap),
            ("monthly_cap", monthly_cap),
            ("note", note),
        )
        if value is not None
    }
    with transaction.atomic():
        rule = PointsRule.objects.select_for_update().get(pk=rule.pk)
        if rule.entries.exists():
            raise UserError(
                "rule_in_use",
                _(
                    "Rule version v%(version)s has already given points and cannot change; create a new version with an effective date"
                ),
                field="table",
                version=rule.version,
            )
        effective_from = require_aware(data.get("effective_from", rule.effective_from), "effective_from")
        band_limits, table = _validate_table(
            data.get("band_limits", rule.band_limits),
            data.get("table", rule.table),
            data.get("daily_cap", rule.daily_cap),
            data.get("monthly_cap", rule.monthly_cap),
        )
        if (
            PointsRule.objects.filter(org=rule.org, effective_from=effective_from)
            .exclude(pk=rule.pk)
            .exists()
        ):
            raise UserError(
                "rule_same_moment", _("Another version takes effect at that moment"), field="effective_from"
            )
        _refuse_if_changes_past(rule.org, effective_from, rule)
        rule.effective_from, rule.band_limits, rule.table = effective_from, band_limits, table
        rule.daily_cap = data.get("daily_cap", rule.daily_cap)
        rule.monthly_cap = data.get("monthly_cap", rule.monthly_cap)
        rule.note = str(data.get("note", rule.note))[:300]
        rule.save(
            update_fields=["effective_from", "band_limits", "table", "daily_cap", "monthly_cap", "note"]
        )
        audit.record(
            actor=actor, verb="points_rule.update", obj=rule, now=moment, details={"fields": sorted(data)}
        )
    return rule
