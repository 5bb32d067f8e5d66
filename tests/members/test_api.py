import pytest

from kangle.members import services
from kangle.members.constants import Channel, Status
from kangle.members.models import Member

pytestmark = pytest.mark.django_db


def make(personas, n=1, community=None, prefix="1380000", **extra):
    return [
        services.member_register(
            actor=personas.street_admin,
            channel=Channel.DESK,
            data={
                "name": f"成员{i}",
                "phone": f"{prefix}{i:04d}",
                "political_status": "full",
                "community": community or personas.tree.community_a,
                **extra,
            },
        ).member
        for i in range(n)
    ]


def test_list_filters_and_masks(client, api, personas):
    make(personas, 2, skills="医疗")
    make(personas, 1, community=personas.tree.community_b, prefix="1370000")
    client.force_login(personas.street_admin)
    body = api.get("/members/").json()
    assert body["count"] == 3 and body["items"][0]["phone"].count("*") == 4
    assert api.get("/members/", community="KJ-C08").json()["count"] == 1
    assert api.get("/members/", skill="medical").json()["count"] == 2
    assert api.get("/members/", status="approved").json()["count"] == 0
    assert api.get("/members/", channel="desk").json()["count"] == 3
    assert api.get("/members/", phone="13800000001").json()["items"][0]["name"] == "成员1"
    client.force_login(personas.secretary_b)
    assert api.get("/members/").json()["count"] == 1


@pytest.mark.parametrize("rows", [1, 3])
def test_list_query_count_is_flat(client, api, personas, django_assert_num_queries, rows):
    make(personas, rows)
    client.force_login(personas.secretary_a)
    with django_assert_num_queries(2):  # session + user + roles, page (not full: its rows are the count)
        body = api.get("/members/").json()
    assert len(body["items"]) == rows


def test_create_detail_and_the_whole_flow(client, api, personas):
    client.force_login(personas.secretary_a)
    response = api.post(
        "/members/",
        {
            "name": "赵六",
            "phone": "138 1234 5678",
            "political_status": "full",
            "community": "KJ-C01",
            "point": "P-A",
            "availability": ["sat_am"],
            "willingness": ["convenience"],
            "skills": ["legal"],
            "household": [{"name": "王芳", "relation": "spouse"}],
        },
    )
    assert response.status_code == 201, response.content
    pk = response.json()["id"]
    detail = api.get(f"/members/{pk}").json()
    assert (
        detail["phone"] == "138****5678"
        and detail["availability"] == ["sat_am"]
        and detail["skills"] == ["legal"]
    )
    assert detail["household"] == [{"name": "王芳", "relation": "spouse", "birth_year": None}]
    duplicate = api.post(
        "/members/",
        {"name": "赵六", "phone": "13812345678", "political_status": "full", "community": "KJ-C01"},
    )
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate_member"
    merged = api.post(
        "/members/",
        {
            "name": "赵六",
            "phone": "13812345678",
            "political_status": "full",
            "community": "KJ-C01",
            "position": "律师",
            "merge_into": pk,
        },
    )
    assert merged.status_code == 201 and merged.json()["id"] == pk and merged.json()["position"] == "律师"
    bad = api.post(f"/members/{pk}/return", {"reason": ""})
    assert bad.status_code == 400 and bad.json()["field"] == "reason"
    assert api.post(f"/members/{pk}/return", {"reason": "补充单位"}).json()["status"] == Status.RETURNED
    assert (
        api.post(f"/members/{pk}/approve").status_code == 409
    )  # returned files are fixed by the member first
    Member.objects.filter(pk=pk).update(status=Status.PENDING)
    assert api.post(f"/members/{pk}/approve").json()["status"] == Status.APPROVED
    moved = api.post(f"/members/{pk}/transfer", {"to_community": "KJ-C08"})
    assert moved.status_code == 200 and moved.json()["community"] == "KJ-C08"
    assert api.get(f"/members/{pk}").status_code == 404  # now outside the secretary's community
    client.force_login(personas.secretary_b)
    assert api.post(f"/members/{pk}/approve").json()["status"] == Status.APPROVED
    assert api.post(f"/members/{pk}/leave", {"reason": "搬离"}).json()["status"] == Status.LEFT


@pytest.mark.parametrize(
    ("field", "value", "expected_field"),
    [
        ("phone", "123", "phone"),
        ("community", "NOPE", "community"),
        ("political_status", "x", "political_status"),
    ],
)
def test_create_bad_input(client, api, personas, field, value, expected_field):
    client.force_login(personas.secretary_a)
    payload = {
        "name": "赵六",
        "phone": "13812345678",
        "political_status": "full",
        "community": "KJ-C01",
        field: value,
    }
    response = api.post("/members/", payload)
    assert response.status_code == 400 and response.json()["field"] == expected_field
    assert response.json()["message"] and response.json()["message_en"]


def test_anonymous_outsider_and_wrong_role(client, api, personas):
    pk = make(personas)[0].pk
    assert api.get("/members/").status_code == 401
    assert api.get(f"/members/{pk}").status_code == 401
    client.force_login(personas.secretary_b)
    assert api.get(f"/members/{pk}").status_code == 404
    for action in ("approve", "return", "leave"):
        assert api.post(f"/members/{pk}/{action}", {"reason": "x"}).status_code == 404
    assert api.post(f"/members/{pk}/transfer", {"to_community": "KJ-C08"}).status_code == 404
    assert (
        api.post(
            "/members/",
            {"name": "x", "phone": "13812345678", "political_status": "full", "community": "KJ-C01"},
        ).status_code
        == 404
    )
    client.force_login(personas.resident)
    assert api.get("/members/").status_code == 403
    assert api.get(f"/members/{pk}").status_code == 403
    grid_pk = make(personas, 1, prefix="1360000", microgrid=personas.tree.microgrid_a.code)[0].pk
    client.force_login(personas.grid_leader)
    assert api.get(f"/members/{grid_pk}").status_code == 200
    assert api.post(f"/members/{grid_pk}/approve").status_code == 403
    assert Member.objects.get(pk=grid_pk).status == Status.PENDING
