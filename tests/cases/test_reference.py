"""Reference data from the workbench: categories, SLA policy versions, contractors and their staff."""

from __future__ import annotations

import datetime as dt

import pytest

from cases.helpers import T0, report
from kangle.accounts.models import User
from kangle.cases import reference, services
from kangle.cases.models import CaseCategory, CaseMilestone, Contractor, SlaPolicy
from kangle.core.errors import UserError
from kangle.core.models import AuditEvent
from kangle.core.roles import Role
from kangle.notify.models import Notification
from personas import make_user

pytestmark = pytest.mark.django_db
H = dt.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _admin_over_every_street(personas):
    """Categories, policies and the calendar are shared by both streets of the personas' tree: the street
    admin in these tests is one whose role sits above every street (orgs.permissions.covers_every_street)."""
    personas.street_admin = make_user("xh_admin", Role.STREET_ADMIN, personas.tree.district)


def spec(code, name, hours, met_on):
    return reference.MilestoneSpec(code=code, name=name, hours=hours, met_on=met_on)


def revise(personas, policy, **extra):
    fields = {
        "name": "白蚁防治 12/36 小时",
        "clock_type": "natural",
        "warn_percent": 50,
        "escalation_chain": [{"role": "area_admin", "after_hours": 0}],
        "milestones": [
            spec("on_site", "12小时内上门", 12, "on_site"),
            spec("completed", "36小时内完成", 36, "work_done"),
        ],
    }
    fields.update(extra)
    return reference.sla_policy_revise(actor=personas.street_admin, policy=policy, **fields)


def due_times(case):
    return {
        row.milestone.code: row.due_at
        for row in CaseMilestone.objects.filter(case=case).select_related("milestone")
    }


def test_a_policy_revision_applies_to_new_cases_and_never_to_running_clocks(personas, termite):
    old_case = report(personas, termite, now=T0)
    assert due_times(old_case) == {"on_site": T0 + 24 * H, "completed": T0 + 48 * H}
    revised = revise(personas, termite.policy, now=T0 + H)
    termite.refresh_from_db()
    assert termite.policy_id == revised.pk and revised.version == 2
    assert CaseCategory.objects.get(code="pests").policy_id == revised.pk
    new_case = report(personas, termite, now=T0 + 2 * H, address="康健路 1 号")
    assert due_times(new_case) == {"on_site": T0 + 14 * H, "completed": T0 + 38 * H}
    assert due_times(old_case) == {"on_site": T0 + 24 * H, "completed": T0 + 48 * H}
    # Pausing and resuming the old case keeps counting on its own (old) policy: 24 h, warned at 75 %.
    services.case_pause(actor=personas.secretary_a, case=old_case, reason="等待居民", now=T0 + 3 * H)
    services.case_resume(actor=personas.secretary_a, case=old_case, now=T0 + 5 * H)
    rows = {
        r.milestone.code: r
        for r in CaseMilestone.objects.filter(case=old_case).select_related("milestone__policy")
    }
    assert rows["on_site"].due_at == T0 + 26 * H
    assert rows["on_site"].milestone.policy.version == 1
    assert rows["on_site"].warn_at == T0 + 20 * H  # 18 h (75 % of 24) + the 2 h paused
    assert AuditEvent.objects.filter(verb="sla_policy.revise", details__to_version=2).exists()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"milestones": [spec("on_site", "x", 0, "on_site")]}, "milestones.1"),
        ({"milestones": [spec("on_site", "x", -4, "on_site")]}, "milestones.1"),
        ({"warn_percent": 100}, "warn_percent"),
        ({"warn_percent": 120}, "warn_percent"),
        ({"warn_percent": 0}, "warn_percent"),
        ({"escalation_chain": [{"role": "area_admin", "after_hours": -1}]}, "escalation_chain"),
        ({"escalation_chain": [{"role": "member", "after_hours": 1}]}, "escalation_chain"),
        ({"milestones": []}, "milestones"),
    ],
)
def test_bad_policies_are_refused_and_nothing_is_written(personas, termite, changes, field):
    with pytest.raises(UserError) as refused:
        revise(personas, termite.policy, **changes)
    assert refused.value.field == field
    assert SlaPolicy.objects.filter(code="termite").count() == 1
    termite.refresh_from_db()
    assert termite.policy.version == 1


def test_deleting_a_category_with_cases_retires_it(personas, termite):
    report(personas, termite, now=T0)
    assert reference.category_delete(actor=personas.street_admin, category=termite) == "retired"
    assert not CaseCategory.objects.get(pk=termite.pk).is_active
    unused = CaseCategory.objects.get(code="greenery")
    assert reference.category_delete(actor=personas.street_admin, category=unused) == "deleted"
    assert not CaseCategory.objects.filter(code="greenery").exists()
    assert AuditEvent.objects.filter(verb="category.retire").exists()


def test_contractor_with_a_staff_account(personas, termite):
    # Contractors belong to a part of the tree: this is 康健's own street admin, not the shared-data admin.
    street_admin = User.objects.get(username="street_admin")
    contractor = reference.contractor_create(
        actor=street_admin,
        name="康健白蚁防治站",
        org=personas.tree.street,
        categories=[termite],
        priority=5,
    )
    issued = reference.contractor_staff_create(
        actor=street_admin,
        contractor=contractor,
        username="ant_1",
        display_name="李师傅",
        phone="13977778888",
    )
    user = User.objects.get(username="ant_1")
    assert user.has_role(Role.CONTRACTOR) and user.must_change_password and user.check_password(issued.code)
    assert list(contractor.users.all()) == [user]
    assert Notification.objects.filter(recipient=user).exists()
    case = report(personas, termite, now=T0)
    assert services.default_contractor(case) == contractor
    with pytest.raises(UserError) as outside:
        reference.contractor_create(
            actor=street_admin, name="x", org=personas.tree.other_street, categories=[termite]
        )
    assert outside.value.status == 404
    with pytest.raises(UserError) as none:
        reference.contractor_create(actor=street_admin, name="x", org=personas.tree.street, categories=[])
    assert none.value.field == "categories"


# --- pages and API ------------------------------------------------------------------------------------------
def test_pages_happy_path(client, personas, termite):
    client.force_login(personas.street_admin)
    assert client.get("/cases/reference/categories/").status_code == 200
    response = client.post(
        "/cases/reference/categories/termite/",
        {
            "name": "白蚁",
            "policy": termite.policy_id,
            "precautions": "<script>alert(1)</script>请勿喷药",
            "prevention_tips": "",
            "description": "",
            "sort_order": 11,
        },
    )
    assert response.status_code == 302
    page = client.get("/cases/reference/categories/termite/").content.decode()
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    response = client.get("/cases/reference/policies/termite/")
    assert response.status_code == 200
    form = response.context["form"].initial
    response = client.post(
        "/cases/reference/policies/termite/",
        {
            "name": form["name"],
            "clock_type": "natural",
            "work_start": "09:00",
            "work_end": "17:00",
            "warn_percent": "80",
            "milestones": "on_site | 上门 | 12 | on_site\ncompleted | 完成 | 36 | work_done",
            "escalation": "area_admin | 0\nstreet_admin | 24",
        },
    )
    assert response.status_code == 302
    assert SlaPolicy.objects.get(code="termite", is_current=True).version == 2
    response = client.post(
        "/cases/reference/policies/termite/",
        {
            "name": "x",
            "clock_type": "natural",
            "work_start": "09:00",
            "work_end": "17:00",
            "warn_percent": "100",
            "milestones": "on_site | 上门 | 0 | on_site",
            "escalation": "",
        },
    )
    assert response.status_code == 400 and response.context["form"].errors
    response = client.post(
        "/cases/reference/contractors/",
        {
            "name": "防治站",
            "org": "KJ",
            "categories": [termite.pk],
            "phone": "",
            "priority": 1,
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    contractor = Contractor.objects.get(name="防治站")
    response = client.post(
        f"/cases/reference/contractors/{contractor.pk}/",
        {"add_staff": "1", "display_name": "周师傅", "username": "zhou", "phone": ""},
    )
    assert response.status_code == 200 and b'data-testid="one-time-code"' in response.content
    assert contractor.users.filter(username="zhou").exists()


def test_api_happy_path_and_field_errors(client, api, personas, termite):
    client.force_login(personas.street_admin)
    assert any(c["code"] == "termite" for c in api.get("/reference/categories").json()["items"])
    policy = api.get("/reference/policies/termite").json()
    policy["milestones"][0]["hours"] = 0
    response = client.put("/api/v1/reference/policies/termite", policy, content_type="application/json")
    assert response.status_code == 400 and response.json()["field"] == "milestones.1"
    policy["milestones"][0]["hours"] = 12
    response = client.put("/api/v1/reference/policies/termite", policy, content_type="application/json")
    assert response.status_code == 200 and response.json()["version"] == 2
    response = api.post("/reference/contractors", {"name": "站", "org_code": "KJ", "categories": ["termite"]})
    assert response.status_code == 201
    pk = response.json()["id"]
    response = api.post(f"/reference/contractors/{pk}/staff", {"username": "member", "display_name": "x"})
    assert response.status_code == 400 and response.json()["field"] == "username"
    response = api.post(f"/reference/contractors/{pk}/staff", {"username": "wu", "display_name": "吴"})
    assert response.status_code == 201 and response.json()["one_time_code"]
    assert api.post("/reference/categories/greenery/delete").json() == {"outcome": "deleted"}


@pytest.mark.parametrize("who", ["anonymous", "member", "secretary_a", "area_admin"])
def test_wrong_roles_get_nothing(client, api, personas, termite, who):
    if who != "anonymous":
        client.force_login(getattr(personas, who))
    for url in [
        "/cases/reference/categories/",
        "/cases/reference/categories/termite/",
        "/cases/reference/policies/termite/",
        "/cases/reference/contractors/",
    ]:
        assert client.get(url).status_code == (302 if who == "anonymous" else 404), url
    expected = 401 if who == "anonymous" else 404
    assert api.get("/reference/categories").status_code == expected
    assert api.get("/reference/policies/termite").status_code == expected
    assert api.post("/reference/categories/greenery/delete").status_code == expected
    assert CaseCategory.objects.filter(code="greenery").exists()


def test_another_streets_admin_cannot_reach_this_streets_contractor(
    client, api, personas, termite, contractor_org
):
    other = make_user("hn_admin", Role.STREET_ADMIN, personas.tree.other_street)
    client.force_login(other)
    assert client.get(f"/cases/reference/contractors/{contractor_org.pk}/").status_code == 404
    assert api.get(f"/reference/contractors/{contractor_org.pk}").status_code == 404
    response = api.post(
        f"/reference/contractors/{contractor_org.pk}/staff", {"username": "sneak", "display_name": "x"}
    )
    assert response.status_code == 404
    assert contractor_org.name not in [c["name"] for c in api.get("/reference/contractors").json()["items"]]
    assert not User.objects.filter(username="sneak").exists()


def test_a_street_admin_among_several_cannot_change_what_every_street_uses(client, personas, termite):
    """康健's street admin reads the shared categories and policies but cannot change them for 湖南 too."""
    kangjian_admin = make_user("kj_only_admin", Role.STREET_ADMIN, personas.tree.street)
    policy = termite.policy
    with pytest.raises(UserError) as refused:
        reference.sla_policy_revise(
            actor=kangjian_admin,
            policy=policy,
            name=policy.name,
            clock_type=policy.clock_type,
            warn_percent=75,
            escalation_chain=[],
            milestones=[spec("contact", "联系", 12, "contacted")],
        )
    assert refused.value.status == 403 and "各街道共用" in str(refused.value)
    with pytest.raises(UserError):
        reference.category_update(actor=kangjian_admin, category=termite, name="白蚁（改）")
    assert SlaPolicy.objects.filter(code=policy.code).count() == 1
    client.force_login(kangjian_admin)
    assert client.get("/cases/reference/categories/").status_code == 200
