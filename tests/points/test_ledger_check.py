"""`kangle ledger-check`: passes on a sound ledger, fails (exit 1) on each kind of corruption."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import connection

from kangle.points import services
from kangle.points.models import Balance, LedgerEntry

from .conftest import T0, award

pytestmark = pytest.mark.django_db


def run_check(capsys) -> tuple[int, str]:
    try:
        call_command("ledger_check")
        code = 0
    except SystemExit as stop:
        code = stop.code
    return code, capsys.readouterr().out


def raw(sql: str, params=()) -> None:
    """Corrupt a row behind the services' back (on PostgreSQL the append-only trigger is lifted first)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = replica")
        cursor.execute(sql, params)
        if connection.vendor == "postgresql":
            cursor.execute("SET session_replication_role = DEFAULT")


@pytest.fixture
def sound_ledger(personas, member_a, member_b, rule):
    award(member_a, "1", difficulty=5, minutes=600)
    award(member_a, "2", at=T0 + dt.timedelta(days=1))
    award(member_b, "3")
    services.reverse_award(
        actor=None, source_type="test", source_id="2", reason="撤销", now=T0 + dt.timedelta(days=2)
    )
    services.points_adjust(actor=personas.street_admin, member=member_b, points=2, reason="补录", now=T0)
    return member_a


def test_sound_ledger_passes(sound_ledger, capsys):
    code, out = run_check(capsys)
    assert code == 0, out
    assert "ledger check passed" in out and "FAIL" not in out


def test_changed_points_are_caught(sound_ledger, capsys):
    entry = LedgerEntry.objects.filter(kind="award").order_by("id").first()
    raw("UPDATE points_ledgerentry SET points = 4 WHERE id = %s", [entry.pk])
    code, out = run_check(capsys)
    assert code == 1
    assert "FAIL cached balance = sum" in out


def test_changed_base_points_are_caught(sound_ledger, capsys):
    entry = LedgerEntry.objects.filter(kind="award").order_by("id").first()
    raw("UPDATE points_ledgerentry SET base_points = 1, points = 1 WHERE id = %s", [entry.pk])
    code, out = run_check(capsys)
    assert code == 1 and "FAIL award = rule table value" in out


def test_broken_reversal_is_caught(sound_ledger, capsys):
    reversal = LedgerEntry.objects.get(kind="reversal")
    raw("UPDATE points_ledgerentry SET points = -1 WHERE id = %s", [reversal.pk])
    Balance.objects.filter(member_id=reversal.member_id).update(total=services.balance_of(reversal.member))
    code, out = run_check(capsys)
    assert code == 1 and "FAIL reversals and refunds" in out and "ok   cached balance = sum" in out


def test_deleted_entry_is_caught(sound_ledger, capsys):
    entry = LedgerEntry.objects.filter(kind="adjustment").get()
    raw("DELETE FROM points_ledgerentry WHERE id = %s", [entry.pk])
    code, out = run_check(capsys)
    assert code == 1 and "FAIL cached balance = sum" in out


def test_cap_breach_is_caught(sound_ledger, capsys):
    entry = LedgerEntry.objects.filter(kind="award").order_by("id").first()
    raw("UPDATE points_ledgerentry SET occurred_on = %s WHERE id > 0", [entry.occurred_on])
    raw("UPDATE points_ledgerentry SET member_id = %s WHERE kind = 'award'", [entry.member_id])
    code, out = run_check(capsys)
    assert code == 1 and "FAIL" in out


def test_caps_breach_is_named(sound_ledger, capsys):
    raw("UPDATE points_pointsrule SET daily_cap = 1, monthly_cap = 1")
    code, out = run_check(capsys)
    assert code == 1 and "FAIL daily and monthly caps" in out
    assert "exceed the daily cap" in out and "exceed the monthly cap" in out


def test_overspend_is_caught(sound_ledger, member_b, capsys):
    raw(
        "INSERT INTO points_ledgerentry (member_id, kind, points, idempotency_key, source_type, source_id, "
        "occurred_at, occurred_on, recorded_at, reason, evidence, org_path) VALUES "
        "(%s, 'spend', -500, 'spend:forged', 'benefit', 'forged', %s, %s, %s, '', '{}', '')",
        [member_b.pk, T0, T0.date(), T0],
    )
    Balance.objects.filter(member=member_b).update(total=services.balance_of(member_b), entries=3)
    code, out = run_check(capsys)
    assert code == 1 and "FAIL spending within the balance" in out


def test_wrong_version_is_caught(personas, sound_ledger, capsys):
    v2 = services.rule_create(
        actor=personas.street_admin,
        street=personas.tree.street,
        effective_from=T0 + dt.timedelta(days=30),
        now=T0,
    )
    entry = LedgerEntry.objects.filter(kind="award").order_by("id").first()
    raw("UPDATE points_ledgerentry SET rule_id = %s, rule_version = 2 WHERE id = %s", [v2.pk, entry.pk])
    code, out = run_check(capsys)
    assert code == 1 and "FAIL rule version in force" in out


def test_malformed_kind_is_caught(sound_ledger, capsys):
    entry = LedgerEntry.objects.filter(kind="adjustment").get()
    raw("UPDATE points_ledgerentry SET kind = 'bonus' WHERE id = %s", [entry.pk])
    code, out = run_check(capsys)
    assert code == 1 and "FAIL entry kinds and signs" in out
    assert f"entry {entry.pk}: malformed bonus (+2)" in out and "ok   cached balance = sum" in out


def test_award_without_version_is_caught(sound_ledger, capsys):
    entry = LedgerEntry.objects.filter(kind="award").order_by("id").first()
    raw("UPDATE points_ledgerentry SET rule_version = 7 WHERE id = %s", [entry.pk])
    code, out = run_check(capsys)
    assert code == 1 and "FAIL entry kinds and signs" in out and f"entry {entry.pk}: malformed award" in out


def test_each_invariant_is_reported_once_on_a_sound_ledger(sound_ledger, capsys):
    from kangle.points.checks import INVARIANTS

    code, out = run_check(capsys)
    assert code == 0
    for name in INVARIANTS:
        assert out.count(f"ok   {name}") == 1


@pytest.mark.postgres
def test_duplicate_idempotency_key_is_caught_without_the_unique_index(sound_ledger, capsys):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conrelid = 'points_ledgerentry'::regclass AND contype = 'u' "
            "AND conkey = ARRAY[(SELECT attnum FROM pg_attribute WHERE attrelid = 'points_ledgerentry'::regclass "
            "AND attname = 'idempotency_key')]"
        )
        (name,) = cursor.fetchone()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the fixture's deferred foreign-key checks, now
        cursor.execute(f"ALTER TABLE points_ledgerentry DROP CONSTRAINT {name}")
    entry = LedgerEntry.objects.filter(kind="adjustment").get()
    raw(
        "INSERT INTO points_ledgerentry (member_id, kind, points, idempotency_key, source_type, source_id, "
        "occurred_at, occurred_on, recorded_at, reason, evidence, org_path) SELECT member_id, kind, points, "
        "idempotency_key, source_type, source_id, occurred_at, occurred_on, recorded_at, reason, evidence, "
        "org_path FROM points_ledgerentry WHERE id = %s",
        [entry.pk],
    )
    code, out = run_check(capsys)
    assert code == 1 and "FAIL one entry per idempotency key" in out
    assert "the unique index on idempotency_key is missing" in out
    assert f"idempotency key {entry.idempotency_key} used 2 times" in out


@pytest.mark.postgres
def test_database_refuses_update_and_delete(sound_ledger):
    from django.db import DatabaseError, transaction

    entry = LedgerEntry.objects.first()
    for sql in (
        "UPDATE points_ledgerentry SET points = 0 WHERE id = %s",
        "DELETE FROM points_ledgerentry WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [entry.pk])
