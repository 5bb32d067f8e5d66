"""Rankings name only people under the asker's subtree, whatever unit id the request carries."""

from __future__ import annotations

import datetime as dt

import pytest

from kangle.core.roles import Role
from personas import make_user

from .conftest import T0, award, make_member

pytestmark = pytest.mark.django_db


def _ranking(client, user, dimension, unit):
    client.force_login(user)
    return client.get(
        "/api/v1/points/rankings",
        {
            "dimension": dimension,
            "unit": unit,
            "start": (T0 - dt.timedelta(days=1)).date().isoformat(),
            "end": (T0 + dt.timedelta(days=1)).date().isoformat(),
        },
    )


def test_party_org_ranking_shows_staff_only_their_own_members(client, personas, party_org, member_a, rule):
    far = make_member(personas.tree.community_b, name="赵丽", party_org=party_org)
    award(member_a, "a1")
    award(far, "f1")
    street = _ranking(client, personas.street_admin, "party_org", party_org.pk)
    assert sorted(row["name"] for row in street.json()) == ["王建华", "赵丽"]
    community_b = _ranking(client, personas.secretary_b, "party_org", party_org.pk)
    assert [row["name"] for row in community_b.json()] == ["赵丽"]
    other_street = make_user("hn_admin", Role.STREET_ADMIN, personas.tree.other_street)
    refused = _ranking(client, other_street, "party_org", party_org.pk)
    missing = _ranking(client, other_street, "party_org", 999999)
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["code"] == missing.json()["code"] == "not_found"
