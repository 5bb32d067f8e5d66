"""Rules, awards, caps, reversals, adjustments and the append-only ledger."""

from __future__ import annotations

import datetime as dt

import pytest
from django.http import Http404

from kangle.core.errors import NotAllowed, UserError
from kangle.points import services
from kangle.points.models import Balance, EntryKind, LedgerEntry, PointsRule, default_table

from .conftest import T0, award

pytestmark = pytest.mark.django_db


def test_default_table_is_documented_formula():
    assert default_table() == [
        [1, 1, 2, 2, 3],
        [1, 2, 2, 3, 3],
        [2, 2, 3, 3, 4],
        [2, 3, 3, 4, 4],
        [3, 3, 4, 4, 5],
    ]


@pytest.mark.parametrize(
    ("difficulty", "minutes", "expected"),
    [
        (1, 1, 1),
        (1, 59, 1),
        (1, 60, 1),
        (3, 119, 2),
        (3, 120, 3),
        (5, 479, 4),
        (5, 480, 5),
        (5, 1440, 5),
    ],
)
def test_award_uses_table_and_bands(member_a, rule, difficulty, minutes, expected):
    entry = award(member_a, f"{difficulty}-{minutes}", difficulty=difficulty, minutes=minutes)
    assert (entry.points, entry.base_points, entry.rule_id, entry.rule_version) == (
        expected,
        expected,
        rule.pk,
        1,
    )
    assert entry.community_id == member_a.community_id and entry.party_org_id == member_a.party_org_id
    assert entry.grid_id == rule.org.pk or entry.grid.kind == "grid"
    assert services.balance_of(member_a) == expected == Balance.objects.get(member=member_a).total


def test_award_twice_returns_the_same_entry(member_a, rule):
    first = award(member_a, "r1")
    second = award(member_a, "r1")
    assert first.pk == second.pk
    assert LedgerEntry.objects.count() == 1 and services.balance_of(member_a) == first.points


def test_same_source_for_another_member_refused(member_a, member_b, rule):
    award(member_a, "r1")
    with pytest.raises(UserError) as caught:
        award(member_b, "r1")
    assert caught.value.code == "source_awarded_elsewhere"


def test_award_under_no_valid_rule(member_a, rule):
    before = rule.effective_from - dt.timedelta(minutes=1)
    with pytest.raises(UserError) as caught:
        award(member_a, "early", at=before)
    assert caught.value.code == "no_rule" and caught.value.field == "occurred_at"
    assert "没有生效的积分规则" in caught.value.zh and "No points rule" in caught.value.en
    assert not LedgerEntry.objects.exists()
    assert award(member_a, "at", at=rule.effective_from).rule_id == rule.pk


@pytest.mark.parametrize(
    ("field", "kwargs"),
    [
        ("difficulty", {"difficulty": 0}),
        ("difficulty", {"difficulty": 6}),
        ("difficulty", {"difficulty": "3"}),
        ("duration_minutes", {"duration_minutes": 0}),
        ("duration_minutes", {"duration_minutes": 1441}),
        ("source_type", {"source_type": ""}),
        ("source_id", {"source_id": " "}),
        ("evidence", {"evidence": ["not", "a", "dict"]}),
        ("occurred_at", {"occurred_at": T0 + dt.timedelta(hours=4)}),
        ("occurred_at", {"occurred_at": dt.datetime(2026, 3, 2, 9, 0)}),
    ],
)
def test_award_bad_input(member_a, rule, field, kwargs):
    args = {
        "actor": None,
        "member": member_a,
        "source_type": "test",
        "source_id": "x",
        "difficulty": 3,
        "duration_minutes": 60,
        "occurred_at": T0,
        "evidence": {},
        "now": T0 + dt.timedelta(hours=3),
    }
    args.update(kwargs)
    with pytest.raises(UserError) as caught:
        services.award_for_service(**args)
    assert caught.value.field == field
    assert not LedgerEntry.objects.exists()


def test_version_in_force_at_occurred_at(personas, member_a, rule):
    new_from = T0 + dt.timedelta(days=1)
    table = [[5] * 5 for _ in range(5)]
    v2 = services.rule_create(
        actor=personas.street_admin, street=personas.tree.street, effective_from=new_from, table=table, now=T0
    )
    minute_before = award(member_a, "before", at=new_from - dt.timedelta(minutes=1), difficulty=1, minutes=30)
    at = award(member_a, "at", at=new_from, difficulty=1, minutes=30)
    after = award(member_a, "after", at=new_from + dt.timedelta(minutes=1), difficulty=1, minutes=30)
    assert (minute_before.rule_version, minute_before.points) == (1, 1)
    assert (at.rule_version, at.points) == (2, 5) and at.rule_id == v2.pk
    assert after.rule_version == 2


def test_rule_edit_that_would_change_past_awards_is_refused(personas, member_a, rule):
    award(member_a, "past", at=T0)
    with pytest.raises(UserError) as caught:
        services.rule_create(
            actor=personas.street_admin,
            street=personas.tree.street,
            effective_from=T0,
            table=[[5] * 5] * 5,
            now=T0 + dt.timedelta(days=1),
        )
    assert caught.value.code == "rule_changes_past_awards" and caught.value.field == "effective_from"
    with pytest.raises(UserError) as caught:
        services.rule_update(actor=personas.street_admin, rule=rule, table=[[5] * 5] * 5)
    assert caught.value.code == "rule_in_use"
    assert PointsRule.objects.count() == 1 and PointsRule.objects.get().table == default_table()
    # A minute after the last award is fine, and the past entry keeps its version.
    services.rule_create(
        actor=personas.street_admin,
        street=personas.tree.street,
        effective_from=T0 + dt.timedelta(minutes=1),
        table=[[5] * 5] * 5,
        now=T0,
    )
    assert LedgerEntry.objects.get().rule_version == 1


def test_unused_future_version_can_be_edited_but_not_moved_over_awards(personas, member_a, rule):
    v2 = services.rule_create(
        actor=personas.street_admin,
        street=personas.tree.street,
        effective_from=T0 + dt.timedelta(days=10),
        now=T0,
    )
    services.rule_update(actor=personas.street_admin, rule=v2, daily_cap=4, now=T0)
    award(member_a, "p", at=T0)
    with pytest.raises(UserError) as caught:
        services.rule_update(actor=personas.street_admin, rule=v2, effective_from=T0, now=T0)
    assert caught.value.code == "rule_changes_past_awards"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"table": [[1] * 5] * 4}, "table"),
        ({"table": [[0] * 5] * 5}, "table"),
        ({"table": [[6] * 5] * 5}, "table"),
        ({"table": [[1] * 4] * 5}, "table"),
        ({"band_limits": [60, 30]}, "band_limits"),
        ({"band_limits": []}, "band_limits"),
        ({"daily_cap": 0}, "daily_cap"),
        ({"daily_cap": 20, "monthly_cap": 10}, "monthly_cap"),
    ],
)
def test_rule_bad_input(personas, data, field):
    with pytest.raises(UserError) as caught:
        services.rule_create(
            actor=personas.street_admin, street=personas.tree.street, effective_from=T0, now=T0, **data
        )
    assert caught.value.field == field
    assert not PointsRule.objects.exists()


def test_rule_permissions(personas):
    # Only street admins hold the street in scope: an area admin gets the outsider's 404.
    with pytest.raises(Http404):
        services.rule_create(
            actor=personas.area_admin, street=personas.tree.street, effective_from=T0, now=T0
        )
    with pytest.raises(Http404):
        services.rule_create(
            actor=personas.secretary_b, street=personas.tree.street, effective_from=T0, now=T0
        )
    with pytest.raises(Http404):
        services.rule_create(
            actor=personas.contractor, street=personas.tree.street, effective_from=T0, now=T0
        )


def test_daily_cap_counts_local_day(personas, member_a):
    services.rule_create(
        actor=personas.street_admin,
        street=personas.tree.street,
        effective_from=T0 - dt.timedelta(days=30),
        daily_cap=5,
        monthly_cap=60,
        now=T0,
    )
    day = T0.replace(hour=8)
    first = award(member_a, "a", difficulty=5, minutes=600, at=day)  # 5
    capped = award(member_a, "b", difficulty=5, minutes=600, at=day + dt.timedelta(hours=2))
    assert (first.points, capped.points, capped.base_points, capped.reason) == (5, 0, 5, "capped:daily")
    # 23:59 local the same day is still capped; 00:00 the next day is not.
    late = award(member_a, "c", difficulty=1, minutes=10, at=day.replace(hour=23, minute=59))
    next_day = award(
        member_a, "d", difficulty=1, minutes=10, at=day.replace(hour=23, minute=59) + dt.timedelta(minutes=1)
    )
    assert (late.points, next_day.points) == (0, 1)


def test_monthly_cap_partial(personas, member_a):
    services.rule_create(
        actor=personas.street_admin,
        street=personas.tree.street,
        effective_from=T0 - dt.timedelta(days=30),
        daily_cap=5,
        monthly_cap=7,
        now=T0,
    )
    award(member_a, "a", difficulty=5, minutes=600, at=T0)
    second = award(member_a, "b", difficulty=5, minutes=600, at=T0 + dt.timedelta(days=1))
    assert (second.points, second.reason) == (2, "capped:monthly")
    april = award(member_a, "c", difficulty=5, minutes=600, at=T0.replace(month=4, day=1, hour=0, minute=0))
    assert april.points == 5


def test_reversal(personas, member_a, rule):
    entry = award(member_a, "r1")
    reversal = services.reverse_award(
        actor=personas.secretary_a,
        source_type="test",
        source_id="r1",
        reason="记录有误",
        now=T0 + dt.timedelta(days=1),
    )
    assert (reversal.kind, reversal.points, reversal.reverses_id) == (
        EntryKind.REVERSAL,
        -entry.points,
        entry.pk,
    )
    again = services.reverse_award(actor=None, source_type="test", source_id="r1", reason="x")
    assert again.pk == reversal.pk
    assert services.balance_of(member_a) == 0
    # The reversal frees the day's cap room; a replay of the award does not award again.
    assert award(member_a, "r1").pk == entry.pk


def test_reversal_bad_input(personas, member_a, rule):
    award(member_a, "r1")
    with pytest.raises(UserError) as caught:
        services.reverse_award(actor=None, source_type="test", source_id="nope", reason="x")
    assert caught.value.code == "no_award"
    with pytest.raises(UserError) as caught:
        services.reverse_award(actor=None, source_type="test", source_id="r1", reason=" ")
    assert caught.value.field == "reason"
    with pytest.raises(Http404):
        services.reverse_award(actor=personas.secretary_b, source_type="test", source_id="r1", reason="x")
    with pytest.raises(Http404):
        services.reverse_award(actor=personas.member, source_type="test", source_id="r1", reason="x")


def test_award_permissions(personas, member_a, rule):
    with pytest.raises(Http404):
        award(member_a, "s", actor=personas.secretary_b)
    with pytest.raises(Http404):
        award(member_a, "s", actor=personas.member)
    assert award(member_a, "s", actor=personas.grid_leader).actor_id == personas.grid_leader.pk


def test_adjustment(personas, member_a, rule):
    entry = services.points_adjust(
        actor=personas.street_admin, member=member_a, points=7, reason="补录2025年服务", now=T0
    )
    assert (entry.kind, entry.points, entry.reason) == (EntryKind.ADJUSTMENT, 7, "补录2025年服务")
    with pytest.raises(UserError) as caught:
        services.points_adjust(actor=personas.street_admin, member=member_a, points=-8, reason="扣减", now=T0)
    assert caught.value.code == "insufficient_points"
    with pytest.raises(UserError) as caught:
        services.points_adjust(actor=personas.street_admin, member=member_a, points=3, reason="", now=T0)
    assert caught.value.field == "reason"
    with pytest.raises(UserError):
        services.points_adjust(actor=personas.street_admin, member=member_a, points=0, reason="x", now=T0)
    with pytest.raises(NotAllowed):
        services.points_adjust(actor=personas.secretary_a, member=member_a, points=3, reason="x", now=T0)
    with pytest.raises(Http404):
        services.points_adjust(actor=personas.secretary_b, member=member_a, points=3, reason="x", now=T0)
    assert services.balance_of(member_a) == 7


def test_ledger_rows_cannot_be_changed_through_the_model(member_a, rule):
    entry = award(member_a, "r1")
    entry.points = 5
    with pytest.raises(RuntimeError):
        entry.save()
    with pytest.raises(RuntimeError):
        entry.delete()
