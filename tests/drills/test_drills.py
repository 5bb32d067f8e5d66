"""The drill register (平安守护): care homes, plans with teams and assignments, drills with observers and
timings, findings with follow-ups, contest results, figures; pages and API with the outsider and wrong role."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.http import Http404

from kangle.core.errors import NotAllowed, UserError
from kangle.drills import selectors, services
from kangle.drills.models import Assignment, CareHome, DrillFinding, FollowUp, Mobility, TeamKind
from kangle.orgs.models import Venue, VenueKind

pytestmark = pytest.mark.django_db

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.date(2026, 6, 18)
ALARM = dt.datetime(2026, 6, 18, 9, 30, tzinfo=SH)
NOW = dt.datetime(2026, 6, 18, 12, 0, tzinfo=SH)
TEAMS = [
    (TeamKind.COMMS, "张主任", "值班室 2 人"),
    (TeamKind.MICRO_STATION, "李队长", "队员 4 人"),
    (TeamKind.ESCORT, "王社工", "社工 3 人、护理员 8 人"),
    (TeamKind.MEDICAL, "赵医生", "医生 1 人、护士 2 人"),
]


def _venue(org, name="康健养老院"):
    return Venue.objects.create(org=org, kind=VenueKind.CARE_HOME, name=name, address="康健路 1 号")


@pytest.fixture
def home(personas):
    return services.care_home_save(
        actor=personas.secretary_a,
        venue=_venue(personas.tree.community_a),
        walks=40,
        needs_help=20,
        wheelchair=12,
        stretcher=4,
        now=NOW,
    )


@pytest.fixture
def plan(personas, home):
    return services.plan_create(
        actor=personas.secretary_a,
        home=home,
        title="火灾疏散预案",
        scenario="二楼配电间起火",
        teams=TEAMS,
        now=NOW,
    )


@pytest.fixture
def drill(personas, plan):
    return services.drill_record(
        actor=personas.secretary_a,
        plan=plan,
        held_on=DAY,
        observers=[("civil_affairs", "区民政局"), ("emergency", "区应急管理局"), ("fire", "区消防救援局")],
        now=NOW,
    )


def _timings(**override):
    values = {
        "alarm_at": ALARM,
        "first_response_at": ALARM + dt.timedelta(seconds=50),
        "last_out_at": ALARM + dt.timedelta(minutes=6),
        "roll_call_at": ALARM + dt.timedelta(minutes=8),
    }
    return {**values, **override}


def test_home_plan_assignment_drill_timings_findings_and_figures(personas, home, plan, drill):
    assert home.residents == 76
    group = services.resident_group_create(
        actor=personas.secretary_a,
        home=home,
        name="二楼卧床长者",
        mobility=Mobility.STRETCHER,
        count=4,
        now=NOW,
    )
    escort = plan.teams.get(kind=TeamKind.ESCORT)
    services.assignment_add(
        actor=personas.secretary_a,
        plan=plan,
        team=escort,
        person="护理员陈某",
        group=group,
        route="东侧安全通道",
        now=NOW,
    )
    services.drill_set_timings(actor=personas.secretary_a, drill=drill, now=NOW, **_timings())
    drill.refresh_from_db()
    assert drill.evacuation_seconds == 360
    services.finding_add(
        actor=personas.secretary_a,
        drill=drill,
        text="担架转移在楼梯转角处耗时较长",
        follow_ups=[("增配折叠担架两副", "院长王某", DAY + dt.timedelta(days=30))],
        now=NOW,
    )
    services.contest_result_add(
        actor=personas.secretary_a,
        drill=drill,
        team="康健养老院微型消防站",
        event="一带一枪",
        seconds="35.2",
        rank=1,
        now=NOW,
    )
    data = selectors.figures(personas.street_admin)
    assert data["drills_per_home_per_year"] == [{"home": "康健养老院", "year": 2026, "drills": 1}]
    assert data["evacuation_trend"][0]["evacuation_seconds"] == 360
    assert data["open_follow_ups"] == 1
    assert selectors.figures(personas.secretary_b)["open_follow_ups"] == 0
    follow_up = FollowUp.objects.get()
    services.follow_up_done(actor=personas.secretary_a, follow_up=follow_up, now=NOW)
    assert selectors.figures(personas.street_admin)["open_follow_ups"] == 0


def test_timings_out_of_order_are_refused(personas, drill):
    with pytest.raises(UserError) as error:
        services.drill_set_timings(
            actor=personas.secretary_a,
            drill=drill,
            now=NOW,
            **_timings(last_out_at=ALARM + dt.timedelta(seconds=30)),  # before the first response
        )
    assert error.value.code == "timings_out_of_order" and error.value.field == "last_out_at"
    assert "不能早于" in error.value.zh
    drill.refresh_from_db()
    assert drill.alarm_at is None


def test_assignment_of_residents_of_another_home_is_refused(personas, home, plan):
    other = services.care_home_save(
        actor=personas.secretary_a,
        venue=_venue(personas.tree.community_a, "第二养老院"),
        walks=1,
        needs_help=0,
        wheelchair=0,
        stretcher=0,
        now=NOW,
    )
    strangers = services.resident_group_create(
        actor=personas.secretary_a,
        home=other,
        name="一楼长者",
        mobility=Mobility.WHEELCHAIR,
        count=3,
        now=NOW,
    )
    with pytest.raises(UserError) as error:
        services.assignment_add(
            actor=personas.secretary_a,
            plan=plan,
            team=plan.teams.get(kind=TeamKind.ESCORT),
            person="护理员陈某",
            group=strangers,
            route="东侧安全通道",
            now=NOW,
        )
    assert error.value.code == "group_not_in_home" and error.value.field == "group"
    assert not Assignment.objects.exists()


@pytest.mark.parametrize(
    ("follow_up", "field"),
    [(("增配担架", "", DAY), "owner"), (("增配担架", "院长王某", None), "due_on")],
)
def test_follow_up_without_owner_or_due_date_is_refused(personas, drill, follow_up, field):
    with pytest.raises(UserError) as error:
        services.finding_add(
            actor=personas.secretary_a, drill=drill, text="担架不足", follow_ups=[follow_up], now=NOW
        )
    assert error.value.field == field
    assert not DrillFinding.objects.exists() and not FollowUp.objects.exists()


def test_plan_needs_comms_and_micro_station_and_home_a_care_home_venue(personas, home):
    with pytest.raises(UserError) as error:
        services.plan_create(
            actor=personas.secretary_a, home=home, title="x", scenario="y", teams=TEAMS[2:], now=NOW
        )
    assert error.value.code == "teams_missing"
    plain = Venue.objects.create(
        org=personas.tree.community_a, kind=VenueKind.LIVING_ROOM, name="会客厅", address="x"
    )
    with pytest.raises(UserError) as not_home:
        services.care_home_save(
            actor=personas.secretary_a, venue=plain, walks=1, needs_help=0, wheelchair=0, stretcher=0, now=NOW
        )
    assert not_home.value.field == "venue"


def test_outsider_is_404_and_wrong_role_403(personas, home, plan):
    with pytest.raises(Http404):
        services.plan_create(
            actor=personas.secretary_b, home=home, title="x", scenario="y", teams=TEAMS, now=NOW
        )
    with pytest.raises(NotAllowed):  # a grid leader is no keeper of the register
        services.care_home_save(
            actor=personas.grid_leader,
            venue=_venue(personas.tree.grid_a, "网格内养老点"),
            walks=1,
            needs_help=0,
            wheelchair=0,
            stretcher=0,
            now=NOW,
        )


# --- pages -----------------------------------------------------------------------------------------------
def test_pages(client, personas, home, drill):
    services.finding_add(
        actor=personas.secretary_a, drill=drill, text="x", follow_ups=[("y", "院长王某", DAY)], now=NOW
    )
    follow_up = FollowUp.objects.get()
    for url in ("/drills/", f"/drills/{drill.pk}/"):
        assert client.get(url).status_code == 302  # anonymous: to the login page
    client.force_login(personas.member)
    assert client.get("/drills/").status_code == 403
    assert client.get(f"/drills/{drill.pk}/").status_code == 404
    client.force_login(personas.secretary_b)
    assert client.get(f"/drills/{drill.pk}/").status_code == 404
    assert client.post(f"/drills/follow-ups/{follow_up.pk}/done/").status_code == 404
    assert "康健养老院" not in client.get("/drills/").content.decode()
    client.force_login(personas.secretary_a)
    listing = client.get("/drills/").content.decode()
    assert f'data-home="{home.pk}"' in listing
    detail = client.get(f"/drills/{drill.pk}/").content.decode()
    assert "区消防救援局" in detail and f'data-follow-up="{follow_up.pk}"' in detail
    assert client.post(f"/drills/follow-ups/{follow_up.pk}/done/").status_code == 302
    follow_up.refresh_from_db()
    assert follow_up.done_at is not None


# --- API -------------------------------------------------------------------------------------------------
def test_api(client, api, personas, home, plan, time_machine):
    time_machine.move_to(NOW, tick=False)
    assert api.get("/drills/homes").status_code == 401
    client.force_login(personas.member)
    assert api.get("/drills/homes").status_code == 403
    client.force_login(personas.secretary_b)
    assert api.get("/drills/homes").json()["items"] == []
    assert api.post("/drills/", {"plan": plan.pk, "held_on": "2026-06-18"}).status_code == 404
    client.force_login(personas.secretary_a)
    made = api.post(
        "/drills/",
        {
            "plan": plan.pk,
            "held_on": "2026-06-18",
            "observers": [{"department": "fire", "name": "区消防救援局"}],
        },
    )
    assert made.status_code == 201
    pk = made.json()["id"]
    bad = api.post(
        f"/drills/{pk}/timings",
        {
            "alarm_at": "2026-06-18T09:30:00+08:00",
            "first_response_at": "2026-06-18T09:29:00+08:00",
            "last_out_at": "2026-06-18T09:36:00+08:00",
            "roll_call_at": "2026-06-18T09:38:00+08:00",
        },
    )
    assert bad.status_code == 400 and bad.json()["field"] == "first_response_at"
    good = api.post(
        f"/drills/{pk}/timings",
        {
            "alarm_at": "2026-06-18T09:30:00+08:00",
            "first_response_at": "2026-06-18T09:31:00+08:00",
            "last_out_at": "2026-06-18T09:36:00+08:00",
            "roll_call_at": "2026-06-18T09:38:00+08:00",
        },
    )
    assert good.json()["evacuation_seconds"] == 360
    no_owner = api.post(
        f"/drills/{pk}/findings", {"text": "x", "follow_ups": [{"action": "y", "due_on": "2026-07-01"}]}
    )
    assert no_owner.status_code == 400 and no_owner.json()["field"] == "owner"
    group = api.post(
        f"/drills/homes/{home.pk}/groups", {"name": "二楼", "mobility": "wheelchair", "count": 5}
    )
    assert group.status_code == 201
    team = plan.teams.get(kind=TeamKind.ESCORT).pk
    assigned = api.post(
        f"/drills/plans/{plan.pk}/assignments",
        {"team": team, "person": "护理员陈某", "group": group.json()["id"], "route": "东侧通道"},
    )
    assert assigned.status_code == 201 and assigned.json()["assignments"][0]["person"] == "护理员陈某"
    assert api.get("/drills/figures").json()["evacuation_trend"][0]["evacuation_seconds"] == 360


def test_drill_page_forms(client, personas, drill, time_machine):
    time_machine.move_to(NOW, tick=False)
    timings = {
        "alarm_at": "2026-06-18T09:30:00",
        "first_response_at": "2026-06-18T09:31:00",
        "last_out_at": "2026-06-18T09:36:00",
        "roll_call_at": "2026-06-18T09:38:00",
    }
    url = f"/drills/{drill.pk}/timings/"
    assert client.post(url, timings).status_code == 302
    drill.refresh_from_db()
    assert drill.alarm_at is None  # anonymous: sent to the login page, nothing saved
    client.force_login(personas.secretary_b)
    assert client.post(url, timings).status_code == 404
    client.force_login(personas.member)
    assert client.post(url, timings).status_code == 404
    client.force_login(personas.secretary_a)
    client.post(url, {**timings, "roll_call_at": "2026-06-18T09:35:00"})  # before the last resident out
    drill.refresh_from_db()
    assert drill.alarm_at is None
    assert client.post(url, timings).status_code == 302
    drill.refresh_from_db()
    assert drill.evacuation_seconds == 360
    finding = f"/drills/{drill.pk}/finding/"
    client.post(finding, {"text": "担架不足", "action": "增配担架", "owner": "", "due_on": "2026-07-18"})
    assert not DrillFinding.objects.exists()  # no owner: refused
    client.post(
        finding, {"text": "担架不足", "action": "增配担架", "owner": "院长王某", "due_on": "2026-07-18"}
    )
    assert FollowUp.objects.get().owner == "院长王某"
    assert client.post(f"/drills/{drill.pk}/nonsense/").status_code == 404


def test_care_home_page_form(client, personas):
    venue = _venue(personas.tree.community_a, name="康乐敬老院")
    counts = {"walks": "30", "needs_help": "10", "wheelchair": "5", "stretcher": "2"}
    client.force_login(personas.secretary_b)  # outside community A: the venue does not exist for them
    assert client.post("/drills/homes/save/", {"venue": venue.pk, **counts}).status_code == 404
    assert "康乐敬老院" not in client.get("/drills/").content.decode()
    assert not CareHome.objects.exists()
    client.force_login(personas.member)
    assert client.post("/drills/homes/save/", {"venue": venue.pk, **counts}).status_code == 403
    client.force_login(personas.secretary_a)
    assert 'id="home-save"' in client.get("/drills/").content.decode()
    bad = client.post("/drills/homes/save/", {"venue": venue.pk, **counts, "wheelchair": "很多"}, follow=True)
    page = bad.content.decode()
    assert "轮椅人数必须是整数" in page and "Residents in wheelchairs must be a whole number" in page
    client.post("/drills/homes/save/", {"venue": venue.pk, **counts, "stretcher": "-1"})
    assert not CareHome.objects.exists()
    client.post("/drills/homes/save/", {"venue": "x", **counts})
    assert not CareHome.objects.exists()
    saved = client.post("/drills/homes/save/", {"venue": venue.pk, **counts}, follow=True)
    home = CareHome.objects.get(venue=venue)
    assert (home.walks, home.needs_help, home.wheelchair, home.stretcher) == (30, 10, 5, 2)
    assert f'data-home="{home.pk}"' in saved.content.decode()
