"""Member list of one community at city scale: ms per page and queries per page (flat from 1 to 3 rows).

    KANGLE_HOME=<dir> python bench/bench_members_list.py [--repeat 30]
    KANGLE_DATABASE_URL=postgresql://… KANGLE_HOME=<dir> python bench/bench_members_list.py

Builds the city-scale demo (`kangle demo --scale city`: ~62,000 org units, ~54,000 member files) if the
database holds no members yet. A community secretary opens the workbench list of their community (50 rows a
page) and the API list; the street admin of 康健街道 (kj_admin) opens both lists of the whole street. Baselines, in the same process: a minimal Django view behind the same middleware
returning the same page (count + 50 rows by raw SQL) as JSON, and the raw SQL alone. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import types
from importlib import import_module

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kangle.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.http import JsonResponse
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import path

    from kangle import demo
    from kangle.accounts.models import User
    from kangle.accounts.services import role_assign, user_create
    from kangle.core.roles import Role
    from kangle.members.models import Member
    from kangle.orgs.models import OrgUnit

    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    if not Member.objects.exists():
        demo.build(scale="city")
    members = Member.objects.count()
    units = OrgUnit.objects.count()
    community = OrgUnit.objects.get(code="KJ-C01")
    user = User.objects.filter(username="bench_secretary").first()
    if user is None:
        user = user_create(actor=None, username="bench_secretary", password=None, check_password=False)
        role_assign(actor=None, user=user, role=Role.COMMUNITY_SECRETARY, org=community)
    client = Client()
    client.force_login(user)
    street_client = Client()
    street_client.force_login(User.objects.get(username="kj_admin"))

    def timed(function) -> float:
        function()  # warm
        samples = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            function()
            samples.append((time.perf_counter() - started) * 1000)
        return statistics.median(samples)

    def page():
        response = client.get("/members/", {"community": community.code})
        assert response.status_code == 200

    def api_page():
        assert client.get("/api/v1/members/", {"community": community.code, "limit": 50}).status_code == 200

    def street_page():
        assert street_client.get("/members/").status_code == 200

    def street_api_page():
        assert street_client.get("/api/v1/members/", {"limit": 50}).status_code == 200

    def raw_page():
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM members_member WHERE community_id = %s", [community.pk])
            cursor.fetchone()
            cursor.execute(
                "SELECT m.id, m.name, m.phone, m.status, m.channel, c.name FROM members_member m "
                "JOIN orgs_orgunit c ON c.id = m.community_id WHERE m.community_id = %s "
                "ORDER BY m.name, m.id LIMIT 50",
                [community.pk],
            )
            cursor.fetchall()

    # The baseline view: the same page (count + 50 rows) by raw SQL behind the same middleware, as JSON.
    def minimal_view(request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM members_member WHERE community_id = %s", [community.pk])
            count = cursor.fetchone()[0]
            cursor.execute(
                "SELECT m.id, m.name, m.status FROM members_member m WHERE m.community_id = %s "
                "ORDER BY m.name, m.id LIMIT 50",
                [community.pk],
            )
            rows = cursor.fetchall()
        return JsonResponse({"count": count, "rows": rows})

    urlconf = types.ModuleType("bench_urls")
    urlconf.urlpatterns = [
        path("bench-minimal/", minimal_view),
        *import_module(settings.ROOT_URLCONF).urlpatterns,
    ]
    sys.modules["bench_urls"] = urlconf
    settings.ROOT_URLCONF = "bench_urls"

    def minimal():
        assert client.get("/bench-minimal/").status_code == 200

    queries = {}
    for limit in (1, 3):
        with CaptureQueriesContext(connection) as captured:
            client.get("/api/v1/members/", {"community": community.code, "limit": limit})
        queries[f"api_limit_{limit}"] = len(captured)
    with CaptureQueriesContext(connection) as captured:
        page()
    queries["page_50_rows"] = len(captured)

    page_ms, api_ms, raw_ms, view_ms = timed(page), timed(api_page), timed(raw_page), timed(minimal)
    street_page_ms, street_api_ms = timed(street_page), timed(street_api_page)
    print(
        json.dumps(
            {
                "bench": "members_list",
                "database": connection.vendor,
                "scale": "city",
                "org_units": units,
                "members": members,
                "community_members": Member.objects.filter(community=community).count(),
                "page_ms": round(page_ms, 2),
                "api_ms": round(api_ms, 2),
                "street_members": Member.objects.filter(org__path__startswith="/XH/XH-KJ/").count(),
                "street_page_ms": round(street_page_ms, 2),
                "street_api_ms": round(street_api_ms, 2),
                "baseline_raw_sql_ms": round(raw_ms, 2),
                "baseline_minimal_view_ms": round(view_ms, 2),
                "ratio_page_vs_minimal_view": round(page_ms / view_ms, 1),
                "ratio_api_vs_minimal_view": round(api_ms / view_ms, 1),
                "ratio_page_vs_raw_sql": round(page_ms / raw_ms, 1),
                "ratio_api_vs_raw_sql": round(api_ms / raw_ms, 1),
                "queries": queries,
            }
        )
    )


if __name__ == "__main__":
    main()
