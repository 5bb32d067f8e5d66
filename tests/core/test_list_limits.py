"""Every list the pagination helper serves reads its rows with a LIMIT, whatever the page asked for."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cases.helpers import report
from kangle.cases.defaults import seed
from kangle.cases.models import CaseCategory, Milestone, SlaPolicy
from kangle.members import services as member_services
from kangle.members.constants import Channel

pytestmark = pytest.mark.django_db

# (endpoint, the table whose rows it lists)
LISTS = [
    ("/api/v1/cases/", "cases_case"),
    ("/api/v1/cases/?status=open", "cases_case"),
    ("/api/v1/members/", "members_member"),
    ("/api/v1/orgs/units", "orgs_orgunit"),
    ("/api/v1/orgs/venues", "orgs_venue"),
    ("/api/v1/orgs/registration-points", "orgs_registrationpoint"),
]


@pytest.fixture
def data(personas):
    seed(SlaPolicy, Milestone, CaseCategory)
    report(personas, CaseCategory.objects.get(code="termite"))
    member_services.member_register(
        actor=personas.street_admin,
        channel=Channel.DESK,
        data={
            "name": "成员",
            "phone": "13800001111",
            "political_status": "full",
            "community": personas.tree.community_a,
        },
    )
    return personas


@pytest.mark.parametrize("query", ["", "limit=1000", "page=2", "offset=5&limit=3"])
@pytest.mark.parametrize(("endpoint", "table"), LISTS)
def test_list_sql_carries_a_limit(client, data, endpoint, table, query):
    client.force_login(data.street_admin)
    url = endpoint + ("&" if "?" in endpoint else "?") + query if query else endpoint
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, response.content[:200]
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].lstrip().upper().startswith("SELECT") and re.search(rf'FROM "{table}"', q["sql"])
    ]
    assert reads, f"no query read {table}"
    for sql in reads:
        assert re.search(r"\bLIMIT\b", sql), sql
    body = response.json()
    assert len(body["items"]) <= 100 and isinstance(body["count"], int) and "count_capped" in body
