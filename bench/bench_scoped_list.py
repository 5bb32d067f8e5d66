"""A scoped list endpoint's throughput against a bare one-query view, served the same way in the same run.

    python bench/bench_scoped_list.py --database postgres --scale city

Data: `kangle demo --scale <scale>`. The endpoint: GET /api/v1/orgs/units?under=<community>&page=1 as a
street admin (bearer token), i.e. authentication, the scope filter, a subtree filter, pagination and
serialisation. The baseline: a view running `SELECT 1` behind the same gunicorn, middleware and database.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--scale", choices=("street", "district", "city"), default="city")
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()

    env = harness.prepare_environment(args.database, "scoped")
    env["DJANGO_SETTINGS_MODULE"] = os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    harness.setup_django()
    from kangle import demo
    from kangle.accounts.models import User
    from kangle.accounts.services import token_issue
    from kangle.orgs.models import OrgKind, OrgUnit

    started = time.monotonic()
    demo.build(scale=args.scale, seed=7)
    build_seconds = time.monotonic() - started
    admin = User.objects.get(username="kj_admin")
    _row, token = token_issue(actor=admin, user=admin, name="bench")
    units = OrgUnit.objects.count()
    communities = OrgUnit.objects.filter(kind=OrgKind.COMMUNITY).count()
    headers = {"Authorization": f"Bearer {token}"}

    with harness.gunicorn(env) as base:
        harness.wrk(base + "/bench/bare", seconds=2)  # warm up both paths
        harness.wrk(base + "/api/v1/orgs/units?under=KJ-C01&page=1", seconds=2, headers=headers)
        bare = harness.wrk(base + "/bench/bare", seconds=args.seconds)
        scoped = harness.wrk(
            base + "/api/v1/orgs/units?under=KJ-C01&page=1", seconds=args.seconds, headers=headers
        )
        whole = harness.wrk(
            base + "/api/v1/orgs/units?under=XH-KJ&page=3", seconds=args.seconds, headers=headers
        )

    harness.emit(
        {
            "bench": "scoped_list",
            "database": args.database,
            "scale": args.scale,
            "org_units": units,
            "communities": communities,
            "demo_build_s": round(build_seconds, 1),
            "bare_rps": bare["rps"],
            "scoped_community_rps": scoped["rps"],
            "scoped_street_page3_rps": whole["rps"],
            "ratio_community_vs_bare": round(scoped["rps"] / bare["rps"], 3),
            "ratio_street_vs_bare": round(whole["rps"] / bare["rps"], 3),
            "p50_ms": {"bare": bare["p50"], "community": scoped["p50"], "street_page3": whole["p50"]},
            "p99_ms": {"bare": bare["p99"], "community": scoped["p99"], "street_page3": whole["p99"]},
            "errors": bare["non_2xx"] + scoped["non_2xx"] + whole["non_2xx"],
        }
    )


if __name__ == "__main__":
    main()
