"""core.rawrows: rows written by ``insert_rows`` read back through the ORM exactly as written, on SQLite and
PostgreSQL (texts with quotes, braces, commas and Chinese; NULLs; booleans; times; an encrypted column)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from kangle.core.rawrows import insert_rows
from kangle.notify.models import Channel, OutboxMessage, OutboxStatus

pytestmark = pytest.mark.django_db

AWKWARD = ['白蚁 "急" {a,b}', "100% 'quoted' \\ back\\slash", "", "line\nbreak", "NULL"]


def test_inserted_rows_read_back_as_written(personas):
    moment = dt.datetime(2026, 6, 20, 12, 0, 0, 123456, tzinfo=dt.UTC)
    users = [personas.secretary_a.pk, None, personas.street_admin.pk, None, personas.secretary_b.pk]
    rows = [
        (user, text[:200], f"正文 {index} {text}", f"/cases/desk/X{index}/", index % 2 == 0, f"ref:{index}")
        for index, (user, text) in enumerate(zip(users, AWKWARD, strict=True))
    ]
    written = insert_rows(
        OutboxMessage,
        ("recipient_id", "subject", "body", "link", "also_sms", "reference"),
        rows,
        channel=Channel.SMS,
        to="13912345678",
        created_at=moment,
        next_attempt_at=moment,
    )
    assert written == len(rows)
    stored = list(OutboxMessage.objects.order_by("reference"))
    assert [(m.recipient_id, m.subject, m.body, m.link, m.also_sms, m.reference) for m in stored] == sorted(
        rows, key=lambda row: row[5]
    )
    for message in stored:
        assert message.channel == Channel.SMS and message.to == "13912345678"
        assert message.created_at == moment and message.next_attempt_at == moment
        # Every field not given took its model default.
        assert message.status == OutboxStatus.PENDING and message.attempts == 0
        assert message.attachment is None and message.attachment_name == "" and message.sent_at is None
    with connection.cursor() as cursor:  # the number is stored encrypted, as the ORM stores it
        cursor.execute('SELECT "to" FROM notify_outboxmessage')
        assert all(value and "13912345678" not in value for (value,) in cursor.fetchall())


def test_varying_values_are_prepared_unless_already_as_stored(personas):
    """Plain values of plain fields go in as they are; an encrypted field's values, and a value of another
    type than its field's, still pass through the field's preparation."""
    moment = dt.datetime(2026, 6, 20, 12, 0, tzinfo=dt.UTC)
    rows = [
        ("13912345678", str(personas.secretary_a.pk), "subject", 1),  # a key given as text, a flag as 1
        ("13812345678", personas.street_admin.pk, "标题", False),
    ]
    insert_rows(
        OutboxMessage,
        ("to", "recipient_id", "subject", "also_sms"),
        rows,
        channel=Channel.SMS,
        created_at=moment,
        next_attempt_at=moment,
    )
    stored = list(
        OutboxMessage.objects.order_by("subject").values_list("to", "recipient_id", "subject", "also_sms")
    )
    assert stored == [
        ("13912345678", personas.secretary_a.pk, "subject", True),
        ("13812345678", personas.street_admin.pk, "标题", False),
    ]
    with connection.cursor() as cursor:
        cursor.execute('SELECT "to" FROM notify_outboxmessage')
        assert all(
            value and "1381234" not in value and "1391234" not in value for (value,) in cursor.fetchall()
        )


def test_nothing_to_insert_writes_nothing():
    assert insert_rows(OutboxMessage, ("subject",), []) == 0
    assert not OutboxMessage.objects.exists()


def test_insert_one_writes_what_save_would_and_gives_back_the_key(personas):
    from kangle.core.models import AuditEvent
    from kangle.core.rawrows import insert_one

    moment = dt.datetime(2026, 6, 20, 12, 0, 0, 654321, tzinfo=dt.UTC)
    values = {
        "actor": personas.street_admin,
        "verb": "case.report",
        "object_type": "cases.case",
        "object_id": "17",
        "object_repr": '白蚁 "急" {a,b}',
        "org_path": "/HN/",
        "at": moment,
        "details": {"channel": "walk_in", "nested": [1, "二", None], "quote": "it's"},
    }
    event = insert_one(AuditEvent(**values))
    assert event.pk and not event._state.adding
    stored = AuditEvent.objects.get(pk=event.pk)
    for name, value in values.items():
        assert getattr(stored, name) == value, name
    second = insert_one(AuditEvent(**{**values, "actor": None, "details": {}}))
    assert second.pk > event.pk and AuditEvent.objects.get(pk=second.pk).actor_id is None


def test_a_prepared_read_gives_what_the_queryset_gives(personas):
    from kangle.accounts.models import RoleAssignment
    from kangle.core.rawrows import Prepared

    def build(user_id):
        return (
            RoleAssignment.objects.filter(user_id=user_id)
            .select_related("org", "user")
            .only("pk", "role", "org__path", "org__code", "user__username")
            .order_by("pk")
        )

    prepared = Prepared(build)
    for user in (personas.street_admin, personas.secretary_a, personas.secretary_b):
        expected = list(build(user.pk))
        got = prepared.all(user.pk)
        assert [row.pk for row in got] == [row.pk for row in expected] and got
        for row, want in zip(got, expected, strict=True):
            assert (row.role, row.org.path, row.org.code, row.user.username) == (
                want.role,
                want.org.path,
                want.org.code,
                want.user.username,
            )
            assert row.get_deferred_fields() == want.get_deferred_fields()
    assert prepared.first(10**12) is None


def test_a_prepared_read_that_matches_nothing_by_its_shape_reads_nothing(personas, django_assert_num_queries):
    # A person with no part of the tree scopes every read to none(): the read has no SQL, and answers no
    # rows as the queryset would, instead of failing.
    from kangle.accounts.models import RoleAssignment
    from kangle.core.rawrows import Prepared

    nothing = Prepared(lambda user_id: RoleAssignment.objects.filter(user_id=user_id).none())
    with django_assert_num_queries(0):
        assert nothing.all(personas.street_admin.pk) == [] and nothing.first(1) is None


def test_a_read_at_a_moment_that_matches_nothing_by_its_shape_reads_nothing(django_assert_num_queries):
    from kangle.core.models import AuditEvent
    from kangle.core.rawrows import values_at

    def none_at(moment):
        return AuditEvent.objects.filter(at__lte=moment).none().values_list("pk")

    moment = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)
    with django_assert_num_queries(0):
        assert values_at(("test.none_at",), none_at, moment) == []
        assert values_at(("test.none_at",), none_at, moment + dt.timedelta(days=1)) == []


def test_numbers_compared_with_a_small_integer_field_are_bound(personas):
    """A read compiled once binds each call's number even into a comparison with a small integer field.
    PostgreSQL's backend writes a comparison with a number such a field cannot hold as no rows at all: a
    marker of that size was compiled into a read that found nothing for any year."""
    from kangle.core.models import CalendarSource, CalendarYear
    from kangle.core.rawrows import Prepared, bound_counts, bound_rows

    for year in (2031, 2033):
        CalendarYear.objects.create(
            year=year, source=CalendarSource.MANUAL, updated_at=dt.datetime.now(dt.UTC)
        )

    def entered(year):
        return CalendarYear.objects.filter(year=year).values("year")

    for asked, found in ((2031, 1), (2032, 0), (2033, 1)):
        assert bound_counts(("test.years",), lambda y: [entered(y)], (asked,)) == [found]
        assert bound_rows(("test.year_rows",), entered, (asked,)) == [{"year": asked}] * found
    after = Prepared(lambda year: CalendarYear.objects.filter(year__gt=year).order_by("year"))
    assert [row.year for row in after.all(2030)] == [2031, 2033]
    assert [row.year for row in after.all(2032)] == [2033]


def test_a_parameter_that_does_not_reach_the_sql_is_refused():
    from kangle.accounts.models import RoleAssignment
    from kangle.core.rawrows import Prepared

    never_used = Prepared(lambda user_id: RoleAssignment.objects.filter(is_active=True))
    with pytest.raises(ValueError, match="once"):
        never_used.first(1)


def test_insert_one_computes_fields_in_the_statement_and_skips_a_row_already_there(personas):
    from kangle.accounts.models import User
    from kangle.core.models import AuditEvent
    from kangle.core.rawrows import insert_one

    event = insert_one(
        AuditEvent(verb="case.report", object_type="cases.case", object_id="1", at=dt.datetime.now(dt.UTC)),
        computed={"object_repr": ("UPPER(%s)", ["termites 白蚁"])},
    )
    assert AuditEvent.objects.get(pk=event.pk).object_repr == "TERMITES 白蚁"

    taken = personas.street_admin.username
    before = User.objects.count()
    assert insert_one(User(username=taken), unless_present=("username",)) is None
    assert User.objects.count() == before  # nothing written, and no error left in the transaction
    fresh = insert_one(User(username="rawrows-new"), unless_present=("username",))
    assert fresh is not None and User.objects.get(pk=fresh.pk).username == "rawrows-new"
    with pytest.raises(ValueError, match="no field"):
        insert_one(AuditEvent(verb="x"), computed={"nonsense": ("1", [])})


def test_update_one_sets_the_named_fields_of_one_row(personas):
    from kangle.accounts.models import User
    from kangle.core.rawrows import update_one

    admin, other = personas.street_admin, personas.secretary_a
    moment = dt.datetime(2026, 6, 20, 8, 30, 0, 250000, tzinfo=dt.UTC)
    assert update_one(User, admin.pk, last_login=moment, display_name='王 "阿姨"') == 1
    admin.refresh_from_db()
    assert admin.last_login == moment and admin.display_name == '王 "阿姨"'
    assert User.objects.get(pk=other.pk).display_name != '王 "阿姨"'  # only that row
    assert update_one(User, 10**12, display_name="nobody") == 0


def test_a_row_followed_by_its_event_writes_both_or_neither(personas):
    from kangle.accounts.models import User
    from kangle.core import audit
    from kangle.core.models import AuditEvent
    from kangle.core.rawrows import insert_one

    def attempt(username):
        user = User(username=username, display_name="张 '三'")
        event = audit.event(actor=personas.street_admin, verb="user.create", obj=user, details={"n": 1})
        return user, event, insert_one(user, unless_present=("username",), followed_by=(event, "object_id"))

    user, event, written = attempt("rawrows-pair")
    assert written is user and user.pk and event.pk
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.object_id == str(user.pk) == event.object_id
    assert (stored.verb, stored.object_type, stored.actor_id) == (
        "user.create",
        "accounts.user",
        personas.street_admin.pk,
    )
    assert stored.object_repr == str(user) and stored.details == {"n": 1}
    assert User.objects.get(pk=user.pk).display_name == "张 '三'"

    events = AuditEvent.objects.count()
    _user, again, written = attempt("rawrows-pair")  # the username is taken: neither row is written
    assert written is None and again.pk is None and AuditEvent.objects.count() == events


def test_a_read_at_a_moment_is_built_once_and_bound_to_each_new_moment(personas):
    from kangle.core.rawrows import values_at

    t0 = dt.datetime(2026, 6, 20, 12, 0, 0, 250000, tzinfo=dt.UTC)
    for hours in range(4):
        OutboxMessage.objects.create(
            channel=Channel.INBOX,
            subject=f"s{hours}",
            created_at=t0,
            next_attempt_at=t0 + dt.timedelta(hours=hours),
        )
    built = []

    def due(moment):
        built.append(moment)
        return (
            OutboxMessage.objects.filter(next_attempt_at__lte=moment)
            .order_by("pk")
            .values_list("subject", "next_attempt_at")
        )

    key = ("test-due", personas.secretary_a.pk)
    assert values_at(key, due, t0) == [("s0", t0)]
    assert len(built) == 2  # compiled at two moments, never at the one asked about
    later = t0 + dt.timedelta(hours=2)
    assert [subject for subject, _at in values_at(key, due, later)] == ["s0", "s1", "s2"]
    assert len(built) == 2  # later moments only run the SQL
    # Times come back as the ORM gives them: aware, on SQLite as on PostgreSQL.
    assert values_at(key, due, later)[-1][1] == t0 + dt.timedelta(hours=2)


def test_a_read_with_values_computed_from_the_moment_is_refused():
    from kangle.core.rawrows import values_at

    def day_before(moment):
        return OutboxMessage.objects.filter(next_attempt_at__lte=moment - dt.timedelta(days=1)).values_list(
            "pk"
        )

    with pytest.raises(ValueError, match="computed from it"):
        values_at(("test-day-before",), day_before, dt.datetime(2026, 6, 20, tzinfo=dt.UTC))

    def shape_changes(moment):
        rows = OutboxMessage.objects.filter(next_attempt_at__lte=moment)
        return (rows.filter(subject="x") if moment.year == 2000 else rows).values_list("pk")

    with pytest.raises(ValueError, match="SQL changes"):
        values_at(("test-shape",), shape_changes, dt.datetime(2026, 6, 20, tzinfo=dt.UTC))
