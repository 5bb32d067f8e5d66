"""The staff to-do home (待办): its lines, their links, their order, and a query count flat in the items."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.todo_items import cases, kangle_items, member
from kangle.core import todo
from kangle.members import services as member_services
from kangle.members.constants import Status


def _home_queries(client, user) -> tuple[int, str]:
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert response.status_code == 200
    return len(queries), response.content.decode()


@pytest.mark.django_db
def test_home_query_count_is_flat_in_the_items(client, personas, termite):
    now = timezone.now()
    kangle_items(personas, 1, now=now)
    cases(personas, termite, 1, now=now)
    one, page = _home_queries(client, personas.street_admin)
    for key in ("members.pending", "posts.claims", "activities.records", "activities.calls"):
        assert f'data-todo="{key}"' in page
    for key in ("cases.breached", "cases.due_soon", "cases.extensions", "cases.returned", "cases.dispatch"):
        assert f'data-todo="{key}"' in page
    kangle_items(personas, 2, now=now)
    cases(personas, termite, 2, now=now)
    three, page = _home_queries(client, personas.street_admin)
    assert three == one
    lines = {line.key: line.count for line in todo.lines_for(personas.street_admin, now=now)}
    assert lines["members.pending"] == 3
    assert lines["posts.claims"] == 3
    assert lines["activities.records"] == 3
    assert lines["activities.calls"] == 3
    assert lines["cases.extensions"] == 3
    assert lines["cases.returned"] == 3
    assert lines["cases.dispatch"] == 3


@pytest.mark.django_db
def test_lines_are_ordered_by_urgency_and_scoped(personas, termite):
    now = timezone.now()
    kangle_items(personas, 1, now=now)
    cases(personas, termite, 1, now=now)
    keys = [line.key for line in todo.lines_for(personas.secretary_a, now=now)]
    assert keys[0] == "cases.breached"
    assert keys.index("cases.due_soon") < keys.index("cases.dispatch")
    # Extensions are the area's and the street's decision; nominations pass the area first.
    assert "cases.extensions" not in keys
    assert "recognition.nominations" not in keys
    area_keys = [line.key for line in todo.lines_for(personas.area_admin, now=now)]
    assert "cases.extensions" in area_keys and "recognition.nominations" in area_keys
    # The outsider (community B) has nothing waiting from community A.
    assert todo.lines_for(personas.secretary_b, now=now) == []


@pytest.mark.django_db
def test_each_line_links_to_a_list_filtered_to_its_items(client, personas, termite):
    now = timezone.now()
    kangle_items(personas, 1, now=now)
    cases(personas, termite, 1, now=now)
    member(personas.tree.community_a, Status.APPROVED, at=now)  # not waiting: must not show
    client.force_login(personas.street_admin)
    for line in todo.lines_for(personas.street_admin, now=now):
        response = client.get(line.url)
        assert response.status_code == 200, line.url
    members = client.get("/members/?status=pending").content.decode()
    assert members.count('data-member="') == 1
    records = client.get("/activities/records/?status=pending").content.decode()
    assert records.count('data-record="') == 1
    posts = client.get("/posts/?claims=pending").content.decode()
    assert posts.count('data-post="') == 1
    queue = client.get("/cases/desk/?stage=returned").context["page"]
    assert queue.count == 1
    queue = client.get("/cases/desk/?stage=extension").context["page"]
    assert queue.count == 1


@pytest.mark.django_db
def test_polling_fragment_and_outsiders(client, personas):
    client.force_login(personas.secretary_a)
    response = client.get("/accounts/todo/")
    assert response.status_code == 200
    assert b'hx-trigger="every 60s"' in response.content
    client.force_login(personas.member)
    assert client.get("/accounts/todo/").status_code == 403
    client.logout()
    assert client.get("/accounts/todo/").status_code == 302


def test_age_label_says_waiting_or_due():
    now = timezone.now()
    assert "3" in todo.age_label(now - dt.timedelta(days=3), now)
    assert todo.age_label(None, now) == ""
    assert todo.age_label(now + dt.timedelta(hours=2), now) != todo.age_label(
        now - dt.timedelta(hours=2), now
    )


@pytest.mark.django_db
def test_a_line_followed_after_the_work_was_done_shows_it_handled(client, personas):
    now = timezone.now()
    waiting = member(personas.tree.community_a, Status.PENDING, at=now - dt.timedelta(hours=3))
    (line,) = [x for x in todo.lines_for(personas.secretary_a, now=now) if x.key == "members.pending"]
    # Someone else approves it before this person follows the link.
    member_services.member_approve(actor=personas.street_admin, member=waiting)
    client.force_login(personas.secretary_a)
    listing = client.get(line.url)
    assert listing.status_code == 200
    assert 'data-member="' not in listing.content.decode()
    assert 'id="list-empty"' in listing.content.decode()
    item = client.get(f"/members/{waiting.pk}/")
    assert item.status_code == 200
    assert 'data-status="approved"' in item.content.decode()
    assert todo.lines_for(personas.secretary_a, now=now) == []


@pytest.mark.django_db
def test_tallies_are_read_in_one_statement_with_the_figures_of_separate_queries(personas, termite):
    from django.db.models import Count, F, Min, Sum

    from kangle.activities.models import WhistleCall
    from kangle.members.models import Member
    from kangle.orgs.scope import scope_queryset

    now = timezone.now()
    kangle_items(personas, 2, now=now)
    pending = scope_queryset(personas.secretary_a, Member.objects.filter(status=Status.PENDING))
    calls = WhistleCall.objects.all()
    missing = Sum(F("people_needed") - F("responded_count"))
    tallies = [
        todo.Tally(pending, "registered_at", dict),
        todo.Tally(Member.objects.none(), "registered_at", dict),  # none by construction: not asked
        todo.Tally(calls, "created_at", dict, sums={"missing": missing}),
        todo.Tally(Member.objects.filter(pk__in=[]), "registered_at", dict),
    ]
    with CaptureQueriesContext(connection) as queries:
        figures = todo.read_tallies(tallies)
    assert len(queries) == 1
    expected_pending = pending.aggregate(n=Count("pk"), oldest=Min("registered_at"))
    expected_calls = calls.aggregate(n=Count("pk"), oldest=Min("created_at"), missing=missing)
    assert expected_pending["n"] == 2 and expected_calls["n"] >= 2
    assert figures == [
        expected_pending,
        {"n": 0, "oldest": None},
        expected_calls,
        {"n": 0, "oldest": None},
    ]
    # Times come back as the ORM gives them: aware, on SQLite as on PostgreSQL.
    assert figures[0]["oldest"].tzinfo is not None
    with CaptureQueriesContext(connection) as queries:
        assert todo.read_tallies([]) == []
    assert len(queries) == 0


@pytest.mark.django_db
def test_the_home_reads_its_counted_lines_in_one_statement(personas, termite):
    now = timezone.now()
    kangle_items(personas, 1, now=now)
    cases(personas, termite, 1, now=now)
    with CaptureQueriesContext(connection) as queries:
        lines = todo.lines_for(personas.street_admin, now=now)
    counted = [query["sql"] for query in queries if "CROSS JOIN" in query["sql"]]
    assert len(counted) == 1
    # The two clock lines read their clocks themselves; every other line is in the one statement.
    for table in ("members_member", "posts_claim", "activities_servicerecord", "activities_whistlecall"):
        assert table in counted[0]
    assert {line.key for line in lines} >= {"members.pending", "cases.dispatch", "cases.breached"}


@pytest.fixture
def compiles(monkeypatch):
    """How many times the to-do tallies were compiled (the person cache starts empty)."""
    monkeypatch.setattr(todo, "_PERSON_STATEMENTS", {})
    made = []
    original = todo.TallyStatement.compile

    def counted(tallies):
        made.append(len(tallies))
        return original(tallies)

    monkeypatch.setattr(todo.TallyStatement, "compile", counted)
    return made


def _count(user, key, now) -> int:
    return {line.key: line.count for line in todo.lines_for(user, now=now)}.get(key, 0)


@pytest.mark.django_db
def test_a_persons_lines_are_compiled_once_and_always_read_fresh(personas, compiles):
    from kangle.accounts.models import User
    from kangle.accounts.services import role_assign
    from kangle.core.roles import Role

    now = timezone.now()
    member(personas.tree.community_a, Status.PENDING, at=now)
    assert _count(personas.secretary_a, "members.pending", now) == 1
    assert len(compiles) == 1
    # Later visits run the same statement on the data of the moment.
    member(personas.tree.community_a, Status.PENDING, at=now)
    assert _count(personas.secretary_a, "members.pending", now) == 2
    assert len(compiles) == 1
    # Another person has a statement of their own, scoped to their own part of the tree.
    assert _count(personas.secretary_b, "members.pending", now) == 0
    assert len(compiles) == 2
    # A new role widens the person's part of the tree: their statement is compiled again.
    role_assign(
        actor=None, user=personas.secretary_b, role=Role.COMMUNITY_SECRETARY, org=personas.tree.community_a
    )
    secretary_b = User.objects.get(pk=personas.secretary_b.pk)
    assert _count(secretary_b, "members.pending", now) == 2
    assert len(compiles) == 3


@pytest.mark.django_db
def test_a_person_only_source_must_give_a_tally(personas, monkeypatch):
    monkeypatch.setattr(todo, "_PERSON_STATEMENTS", {})
    monkeypatch.setattr(
        todo,
        "_sources",
        [
            todo.TodoSource(
                "odd", lambda user, now: None, frozenset({"community_secretary"}), person_only=True
            )
        ],
    )
    with pytest.raises(TypeError):
        todo.lines_for(personas.secretary_a, now=timezone.now())


@pytest.mark.django_db
def test_home_rows_built_in_python_carry_the_links_kinds_and_escaped_words(client, personas, termite):
    """The to-do lines and a section's child units are built in Python: each link is the route's own, each
    kind its label, and every word escaped."""
    from django.urls import reverse
    from django.utils.html import escape

    from kangle.orgs.models import OrgKind
    from kangle.orgs.selectors import unit_summary

    now = timezone.now()
    kangle_items(personas, 1, now=now)
    street = personas.tree.street
    child = unit_summary(street)[1][0][0]
    child.name = "<b>角楼 & 园</b>"
    child.save(update_fields=["name"])
    _count, page = _home_queries(client, personas.street_admin)
    expected = f'<td><a href="{reverse("orgs:unit", args=[child.code])}">{escape(child.name)}</a></td>'
    assert expected in page
    assert f"<td>{OrgKind(child.kind).label}</td>" in page
    assert "<b>角楼" not in page
    for line in todo.lines_for(personas.street_admin, now=now):
        assert f'<li class="todo-line urgency-{line.urgency}" data-todo="{line.key}">' in page
        assert (
            f'<a href="{escape(line.url)}"><b class="todo-count">{line.count_text}</b> {line.label}</a>'
            in page
        )
