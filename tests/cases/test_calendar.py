"""The public-holiday calendar: published years from the package, others entered by hand, never a silent
Monday–Friday fallback (an uncovered year is the street admin's warning on the home page)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from kangle.cases import clock
from kangle.core import workcalendar
from kangle.core.errors import UserError
from kangle.core.models import AuditEvent, CalendarYear
from kangle.core.roles import Role
from personas import make_user

pytestmark = pytest.mark.django_db
UNPUBLISHED = max(workcalendar.package_years()) + 1
SH = dt.timezone(dt.timedelta(hours=8))


@pytest.fixture(autouse=True)
def _admin_over_every_street(personas):
    """Categories, policies and the calendar are shared by both streets of the personas' tree: the street
    admin in these tests is one whose role sits above every street (orgs.permissions.covers_every_street)."""
    personas.street_admin = make_user("xh_admin", Role.STREET_ADMIN, personas.tree.district)


@pytest.fixture(autouse=True)
def _fresh_cache():
    workcalendar.forget_cache()
    yield
    workcalendar.forget_cache()


def test_published_years_come_from_the_package():
    assert not clock.is_workday(dt.date(2026, 10, 1))  # National Day
    assert workcalendar.is_covered(2026)


def test_a_year_entered_by_hand_drives_the_working_hour_clock(personas):
    days = [dt.date(UNPUBLISHED, 5, 1) + dt.timedelta(days=i) for i in range(7)]
    weekday = next(d for d in days if d.weekday() < 5)
    saturday = next(d for d in days if d.weekday() == 5)
    # Uncovered: counted Monday to Friday for now (and flagged, see the home page test).
    assert workcalendar.uncovered_years(dt.date(UNPUBLISHED, 3, 1)) == [UNPUBLISHED]
    assert clock.is_workday(weekday) and not clock.is_workday(saturday)
    workcalendar.calendar_year_set(
        actor=personas.street_admin,
        year=UNPUBLISHED,
        holidays=f"{weekday.isoformat()} 劳动节",
        workdays=f"{saturday.isoformat()} 调休",
    )
    workcalendar.forget_cache()
    assert workcalendar.uncovered_years(dt.date(UNPUBLISHED, 3, 1)) == []
    assert not clock.is_workday(weekday)
    assert clock.is_workday(saturday)
    assert AuditEvent.objects.filter(verb="calendar.set_year").exists()


@pytest.mark.parametrize(
    ("holidays", "workdays", "field"),
    [
        ("2099-13-01", "", "holidays"),
        (f"{UNPUBLISHED - 1}-05-01", "", "holidays"),
        (f"{UNPUBLISHED}-05-01", f"{UNPUBLISHED}-05-01", "workdays"),
    ],
)
def test_bad_entries_are_refused(personas, holidays, workdays, field):
    with pytest.raises(UserError) as refused:
        workcalendar.calendar_year_set(
            actor=personas.street_admin, year=UNPUBLISHED, holidays=holidays, workdays=workdays
        )
    assert refused.value.field == field
    assert not CalendarYear.objects.exists()


def test_a_published_year_is_not_entered_by_hand(personas):
    with pytest.raises(UserError) as refused:
        workcalendar.calendar_year_set(actor=personas.street_admin, year=2026, holidays="", workdays="")
    assert refused.value.code == "published_year"


def test_the_street_admin_sees_the_uncovered_year_on_the_home_page(client, personas):
    with time_machine.travel(dt.datetime(UNPUBLISHED - 1, 11, 20, 10, tzinfo=SH), tick=False):
        client.force_login(personas.street_admin)
        page = client.get("/")
        assert page.status_code == 200 and b'data-testid="calendar-warning"' in page.content
        assert str(UNPUBLISHED).encode() in page.content
        client.force_login(personas.secretary_a)
        assert b'data-testid="calendar-warning"' not in client.get("/").content
    with time_machine.travel(dt.datetime(UNPUBLISHED - 1, 6, 1, 10, tzinfo=SH), tick=False):
        client.force_login(personas.street_admin)
        assert b'data-testid="calendar-warning"' not in client.get("/").content


def test_the_home_names_only_the_years_nobody_has_entered(client, personas):
    """From November two unpublished years can be needed at once: each is counted with the home's own
    figures, and the warning follows an entry at once (no cache in between)."""
    workcalendar.calendar_year_set(
        actor=personas.street_admin, year=UNPUBLISHED + 1, holidays="", workdays=""
    )
    with time_machine.travel(dt.datetime(UNPUBLISHED, 11, 20, 10, tzinfo=SH), tick=False):
        client.force_login(personas.street_admin)
        page = client.get("/").content.decode()
        assert page.count('data-testid="calendar-warning"') == 1
        assert f"reference/calendar/{UNPUBLISHED}/" in page
        assert f"reference/calendar/{UNPUBLISHED + 1}/" not in page
        workcalendar.calendar_year_set(
            actor=personas.street_admin, year=UNPUBLISHED, holidays="", workdays=""
        )
        assert 'data-testid="calendar-warning"' not in client.get("/").content.decode()


def test_pages_and_api(client, api, personas):
    client.force_login(personas.street_admin)
    assert client.get("/cases/reference/calendar/").status_code == 200
    response = client.post(
        f"/cases/reference/calendar/{UNPUBLISHED}/",
        {"holidays": f"{UNPUBLISHED}-01-01 元旦\n{UNPUBLISHED}-10-01 国庆节", "workdays": ""},
    )
    assert response.status_code == 302
    body = api.get(f"/reference/calendar/{UNPUBLISHED}").json()
    assert [d["day"] for d in body["holidays"]] == [f"{UNPUBLISHED}-01-01", f"{UNPUBLISHED}-10-01"]
    response = client.put(
        f"/api/v1/reference/calendar/{UNPUBLISHED}",
        {"holidays": [{"day": f"{UNPUBLISHED}-05-01", "name": "劳动节"}], "workdays": []},
        content_type="application/json",
    )
    assert response.status_code == 200 and len(response.json()["holidays"]) == 1
    response = client.post(
        f"/cases/reference/calendar/{UNPUBLISHED}/", {"holidays": "tomorrow", "workdays": ""}
    )
    assert response.status_code == 400 and "holidays" in response.context["form"].errors
    assert UNPUBLISHED in api.get("/reference/calendar").json()["manual_years"]


@pytest.mark.parametrize("who", ["anonymous", "member", "secretary_a", "area_admin"])
def test_wrong_roles_get_nothing(client, api, personas, who):
    if who != "anonymous":
        client.force_login(getattr(personas, who))
    assert client.get("/cases/reference/calendar/").status_code == (302 if who == "anonymous" else 404)
    response = client.post(
        f"/cases/reference/calendar/{UNPUBLISHED}/", {"holidays": f"{UNPUBLISHED}-01-01", "workdays": ""}
    )
    assert response.status_code == (302 if who == "anonymous" else 404)
    response = client.put(
        f"/api/v1/reference/calendar/{UNPUBLISHED}",
        {"holidays": [], "workdays": []},
        content_type="application/json",
    )
    assert response.status_code == (401 if who == "anonymous" else 404)
    assert not CalendarYear.objects.exists()


def test_another_streets_admin_may_keep_the_shared_calendar(client, personas):
    """The calendar is national: any street admin keeps it (like the case categories)."""
    client.force_login(make_user("hn_admin", Role.STREET_ADMIN, personas.tree.other_street))
    assert client.get("/cases/reference/calendar/").status_code == 200
