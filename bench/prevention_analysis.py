"""Period analysis of termite warnings over 1,000,000 warnings at city scale (PostgreSQL).

Builds the city-scale demo tree (``kangle demo --scale city``'s org, account and prevention steps) if the
database is empty, then adds synthetic warnings with COPY until there are ``--warnings`` of them, spread
over three years and every estate of the city. It times ``kangle.prevention.analysis.analyse`` (the
aggregation in SQL: period counts, 环比 and 同比, place types, communities, trend, clusters) and, in the
same process, the same aggregation done in Python over the same rows, checks that both agree, and prints
one JSON line.

    KANGLE_DATABASE_URL=postgresql://… python bench/prevention_analysis.py [--warnings 1000000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import time
from collections import Counter

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kangle.settings")
django.setup()

from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from kangle.orgs.models import OrgKind, OrgUnit  # noqa: E402
from kangle.prevention import analysis  # noqa: E402
from kangle.prevention.models import PlaceType, Warning, grid_cell  # noqa: E402

BENCH_NOTE = "bench"
FIRST_DAY = dt.date(2024, 1, 1)
DAYS = 3 * 365
PLACES = [PlaceType.OLD_HOUSE] * 5 + [PlaceType.GREEN_BELT] * 3 + [PlaceType.SHOP, PlaceType.OTHER]


# The demo steps this bench needs: the city-scale tree, the demo accounts and 湖南街道's prevention records.
STEPS = ["kangle.demo.orgs.build", "kangle.demo.accounts.build", "kangle.demo.prevention.build"]


def ensure_city() -> None:
    if not OrgUnit.objects.filter(kind=OrgKind.DISTRICT).count() > 1:
        from kangle import demo

        demo.build(scale="city", seed=2024, steps=STEPS)


def fill(target: int, seed: int = 7) -> int:
    """COPY synthetic warnings in until there are ``target`` rows (estates of the whole city)."""
    have = Warning.objects.count()
    missing = target - have
    if missing <= 0:
        return 0
    rng = random.Random(seed)
    estates = list(
        OrgUnit.objects.filter(kind=OrgKind.ESTATE).values_list("id", "path", "parent_id", "parent__kind")
    )
    centres = {}
    rows_written = 0
    tz = timezone.get_current_timezone()
    with connection.cursor() as cursor:
        copy_sql = (
            "COPY prevention_warning (source, place_type, org_id, org_path, community_id, occurred_at, "
            "occurred_on, latitude, longitude, cell_lat, cell_lng, description, created_at) FROM STDIN"
        )
        with cursor.cursor.copy(copy_sql) as copy:
            for _ in range(missing):
                org_id, path, parent_id, parent_kind = estates[rng.randrange(len(estates))]
                community_id = parent_id if parent_kind == OrgKind.COMMUNITY else None
                centre = centres.get(parent_id)
                if centre is None:
                    centre = centres[parent_id] = (30.9 + rng.random() * 0.6, 121.1 + rng.random() * 0.8)
                day = FIRST_DAY + dt.timedelta(days=rng.randrange(DAYS))
                moment = dt.datetime.combine(day, dt.time(rng.randrange(24), rng.randrange(60)), tzinfo=tz)
                latitude = round(centre[0] + rng.uniform(-0.004, 0.004), 6)
                longitude = round(centre[1] + rng.uniform(-0.004, 0.004), 6)
                copy.write_row(
                    (
                        "patrol",
                        rng.choice(PLACES),
                        org_id,
                        path,
                        community_id,
                        moment,
                        day,  # occurred_on: the local date (moment is built in the local zone)
                        latitude,
                        longitude,
                        grid_cell(latitude),
                        grid_cell(longitude),
                        BENCH_NOTE,
                        moment,
                    )
                )
                rows_written += 1
    with connection.cursor() as cursor:  # autocommit: VACUUM sets the visibility map for index-only scans
        cursor.execute("VACUUM ANALYZE prevention_warning")
    return rows_written


def python_analysis(org: OrgUnit | None, period: analysis.Period) -> dict:
    """The baseline: fetch the rows of the three periods and aggregate them in Python."""
    previous, last_year = period.previous(), period.last_year()
    rows = analysis.warnings_under(org).filter(period.q() | previous.q() | last_year.q())
    cur_start, cur_end = period.bounds()
    prev_start, prev_end = previous.bounds()
    ly_start, ly_end = last_year.bounds()
    counts = Counter()
    places, communities, trend, clusters = Counter(), Counter(), Counter(), Counter()
    scale = analysis.cluster_scale(org)
    for occurred, day, place, community, cell_lat, cell_lng in rows.values_list(
        "occurred_at", "occurred_on", "place_type", "community_id", "cell_lat", "cell_lng"
    ).iterator(chunk_size=20000):
        if cur_start <= occurred < cur_end:
            counts["current"] += 1
            places[place] += 1
            communities[community] += 1
            trend[day] += 1
            if cell_lat is not None and cell_lng is not None:
                clusters[
                    (cell_lat, cell_lng) if scale == 1000 else (int(cell_lat / 10), int(cell_lng / 10))
                ] += 1
        if prev_start <= occurred < prev_end:
            counts["previous"] += 1
        if ly_start <= occurred < ly_end:  # for a one-year period this is the previous period too
            counts["last_year"] += 1
    return {
        "count": counts["current"],
        "previous": counts["previous"],
        "last_year": counts["last_year"],
        "places": dict(places),
        "communities": len(communities),
        "trend_days": len(trend),
        "clusters": len(clusters),
    }


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--warnings", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("set KANGLE_DATABASE_URL to a PostgreSQL database", file=sys.stderr)
        return 2
    ensure_city()
    added = fill(args.warnings)
    total = Warning.objects.count()
    district = OrgUnit.objects.filter(kind=OrgKind.DISTRICT).exclude(code="XH").order_by("code").first()
    street = (
        OrgUnit.objects.filter(kind=OrgKind.STREET, path__startswith=district.path).order_by("code").first()
    )
    scenarios = [
        ("city, 61 days", None, analysis.Period(dt.date(2026, 5, 1), dt.date(2026, 6, 30))),
        ("district, 61 days", district, analysis.Period(dt.date(2026, 5, 1), dt.date(2026, 6, 30))),
        ("street, one year", street, analysis.Period(dt.date(2025, 7, 1), dt.date(2026, 6, 30))),
    ]
    out = []
    for name, org, period in scenarios:
        sql_ms, result = timed(lambda org=org, period=period: analysis.analyse(org, period), args.repeat)
        py_ms, baseline = timed(
            lambda org=org, period=period: python_analysis(org, period), max(1, args.repeat // 2)
        )
        same = (
            baseline["count"] == result.count
            and baseline["previous"] == result.mom.earlier
            and baseline["last_year"] == result.yoy.earlier
            and baseline["places"] == {k: n for k, n in result.by_place if n}
        )
        out.append(
            {
                "scenario": name,
                "warnings_in_period": result.count,
                "sql_ms": round(sql_ms, 1),
                "python_ms": round(py_ms, 1),
                "ratio_python_over_sql": round(py_ms / sql_ms, 1) if sql_ms else None,
                "agree": same,
            }
        )
    print(
        json.dumps(
            {
                "bench": "prevention_analysis",
                "scale": "city",
                "warnings": total,
                "added": added,
                "repeat": args.repeat,
                "scenarios": out,
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
