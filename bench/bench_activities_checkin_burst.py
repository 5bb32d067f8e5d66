"""A burst of 500 QR check-ins at one venue in 10 s through the HTTP API, against a bare view in the same run.

    python bench/bench_activities_checkin_burst.py --database postgres --scale street [--label after]

Builds the demo data at the stated scale, gives 500 approved members of 康健街道 a login and an API token,
opens one activity at 康乐会客厅 and starts the server the way `kangle up` does (gunicorn, 2 gthread workers
× 4 threads). The load is paced (open loop): the 500 check-ins of distinct members are sent at an even rate
over 10 s (each with the venue screen's current token, refreshed every 20 s as the screen does), then 50
repeated scans by people already checked in over 1 s; the same schedule of requests goes to a bare one-query
view in a window before and a window after the burst. Latency counts from the moment a request was due, so
a server that falls behind shows it. It checks: no error, exactly 500 attendances, no member twice, every
repeat answered (200 with the existing row; 409 from servers before the repeat scan became idempotent).
Prints one JSON line with p50 / p95 / p99 and their ratios to the bare view.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402

PEOPLE = 500
REPEATS = 50
BURST_SECONDS = 10.0
CLIENT_THREADS = 32


def build_data(scale: str) -> dict:
    from django.utils import timezone

    from kangle import demo
    from kangle.accounts.models import User
    from kangle.accounts.services import token_issue
    from kangle.activities import services
    from kangle.members.models import Member
    from kangle.orgs.models import OrgUnit, Venue
    from kangle.posts.models import ServiceAspect

    started = time.monotonic()
    demo.build(scale=scale, seed=7)
    built = time.monotonic() - started
    street = OrgUnit.objects.get(code=demo.STREET_CODE)
    admin = User.objects.get(username="kj_admin")
    root = User.objects.create(username="bench-root", is_superuser=True, is_staff=True)
    members = list(
        Member.objects.filter(
            community__path__startswith=street.path, status="approved", user__isnull=True
        ).order_by("pk")[:PEOPLE]
    )
    assert len(members) == PEOPLE, len(members)
    tokens = []
    for index, member in enumerate(members):
        user = User.objects.create(username=f"bench-member-{index}")
        Member.objects.filter(pk=member.pk).update(user=user)
        tokens.append(token_issue(actor=root, user=user, name="bench")[1])
    staff_token = token_issue(actor=root, user=admin, name="bench-screen")[1]
    now = timezone.now()
    venue = Venue.objects.filter(org__path__startswith=street.path, kind="living_room").first()
    activity = services.activity_create(
        actor=admin,
        org=street,
        aspect=ServiceAspect.objects.get(code="convenience"),
        title="爱心益剪（压测）",
        venue=venue,
        starts_at=now - dt.timedelta(minutes=5),
        ends_at=now + dt.timedelta(hours=2),
        capacity=PEOPLE,
    )
    return {"activity": activity.pk, "tokens": tokens, "staff": staff_token, "build_seconds": round(built, 1)}


class Client:
    """One keep-alive connection per thread."""

    def __init__(self, base: str):
        parsed = urlparse(base)
        self.connection = http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=30)

    def request(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        started = time.perf_counter()
        self.connection.request(
            method, path, body=json.dumps(body) if body is not None else None, headers=headers
        )
        response = self.connection.getresponse()
        payload = response.read()
        return response.status, payload, time.perf_counter() - started


def run(
    base: str, jobs: list[tuple[str, str, dict | None, str | None]], seconds: float
) -> tuple[list, float]:
    """Send ``jobs`` at an even rate over ``seconds`` from CLIENT_THREADS threads (open loop).

    Returns (status, payload, seconds from when the request was due) per job — status 0 for a transport
    error — and the wall time."""
    results = [None] * len(jobs)
    cursor = iter(range(len(jobs)))
    lock = threading.Lock()
    step = seconds / len(jobs)
    started = time.perf_counter()

    def worker():
        client = Client(base)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                return
            due = started + index * step
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            method, path, body, token = jobs[index]
            try:
                if callable(body):
                    body = body()
                status, payload, _ = client.request(method, path, body, token)
                results[index] = (status, payload, time.perf_counter() - due)
            except (OSError, http.client.HTTPException) as exc:
                results[index] = (0, repr(exc).encode(), time.perf_counter() - due)
                client = Client(base)

    threads = [threading.Thread(target=worker) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results, time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="postgres")
    parser.add_argument("--scale", choices=("street", "district", "city"), default="street")
    parser.add_argument("--label", default="", help="a name for this run in the output (before / after)")
    args = parser.parse_args()
    env = harness.prepare_environment(args.database, "activities")
    harness.setup_django()
    data = build_data(args.scale)
    server_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings_bench"}
    activity = data["activity"]
    with harness.gunicorn(server_env) as base:
        token_state = {"token": None, "at": 0.0}
        token_lock = threading.Lock()

        def current_token() -> dict:
            with token_lock:
                if time.monotonic() - token_state["at"] > 20:  # the screen page refreshes about this often
                    _, payload, _ = Client(base).request(
                        "GET", f"/api/v1/activities/{activity}/qr-token", token=data["staff"]
                    )
                    token_state.update(token=json.loads(payload)["token"], at=time.monotonic())
                return {"token": token_state["token"]}

        current_token()
        # Warm both paths on every worker (imports, connections) before measuring.
        run(base, [("GET", "/bench/bare", None, None)] * 64, 1.0)
        bare_job = ("GET", "/bench/bare", None, None)
        bare_before, _ = run(base, [bare_job] * PEOPLE, BURST_SECONDS)
        checkins = [
            ("POST", f"/api/v1/activities/{activity}/check-in", current_token, t) for t in data["tokens"]
        ]
        repeats = [
            ("POST", f"/api/v1/activities/{activity}/check-in", current_token, t)
            for t in data["tokens"][:REPEATS]
        ]
        burst, burst_seconds = run(base, checkins, BURST_SECONDS)
        repeated, _ = run(base, repeats, REPEATS * BURST_SECONDS / PEOPLE)
        bare_after, _ = run(base, [bare_job] * PEOPLE, BURST_SECONDS)

    from kangle.activities.models import Attendance

    statuses = [status for status, _, _ in burst]
    created = statuses.count(201)
    repeat_statuses = [status for status, _, _ in repeated]
    repeats_answered = repeat_statuses.count(200) + repeat_statuses.count(409)
    errors = len(statuses) - created + len(repeat_statuses) - repeats_answered
    rows = Attendance.objects.filter(activity_id=activity)
    distinct = rows.values("member_id").distinct().count()
    latency = [seconds * 1000 for _, _, seconds in burst]
    bare = bare_before + bare_after
    bare_latency = [seconds * 1000 for _, _, seconds in bare]
    figures = {}
    for name, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        mine, baseline = percentile(latency, q), percentile(bare_latency, q)
        figures[f"{name}_ms"] = round(mine, 1)
        figures[f"bare_{name}_ms"] = round(baseline, 1)
        figures[f"ratio_{name}"] = round(mine / baseline, 2)
    harness.emit(
        {
            "bench": "activities_checkin_burst",
            "label": args.label,
            "database": args.database,
            "scale": args.scale,
            "check_ins": PEOPLE,
            "paced_over_s": BURST_SECONDS,
            "created_201": created,
            "repeated_scans": REPEATS,
            "repeats_200": repeat_statuses.count(200),
            "repeats_409": repeat_statuses.count(409),
            "errors": errors,
            "attendances": rows.count(),
            "duplicates": rows.count() - distinct,
            "burst_seconds": round(burst_seconds, 2),
            **figures,
            "client_threads": CLIENT_THREADS,
            "server": "gunicorn 2 workers x 4 gthreads",
            "demo_build_seconds": data["build_seconds"],
            "median_ms": round(statistics.median(latency), 1),
        }
    )


if __name__ == "__main__":
    main()
