"""gunicorn (gthread) against granian (WSGI) serving the same views on the same database, same run.

    python bench/bench_server.py --database sqlite --scale street

Both servers get 2 worker processes on this 2-core machine; the figure is req/s from wrk for the bare
one-query view and for the scoped list endpoint, and the ratio granian / gunicorn. granian is not a
dependency of kangle: install it into the environment to run this comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402


@contextlib.contextmanager
def granian(env: dict[str, str]):
    port = harness.free_port()
    with harness.serving(
        [
            sys.executable,
            "-m",
            "granian",
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "2",
            "--blocking-threads",
            "4",
            "--log-level",
            "warning",
            "kangle.wsgi:application",
        ],
        port=port,
        env={**env, "PYTHONPATH": str(harness.ROOT)},
        cwd=harness.ROOT,
        start_seconds=30,
        name="granian",
    ) as base:
        yield base


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scale", choices=("street", "district", "city"), default="street")
    parser.add_argument("--seconds", type=int, default=8)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed: apt-get install wrk")
    env = harness.prepare_environment(args.database, "server")
    env["DJANGO_SETTINGS_MODULE"] = os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    harness.setup_django()
    from kangle import demo
    from kangle.accounts.models import User
    from kangle.accounts.services import token_issue

    demo.build(scale=args.scale, seed=7)
    admin = User.objects.get(username="kj_admin")
    _row, token = token_issue(actor=admin, user=admin, name="bench")
    headers = {"Authorization": f"Bearer {token}"}
    list_url = "/api/v1/orgs/units?under=KJ-C01&page=1"
    results = {}
    for name, server in (("gunicorn", lambda: harness.gunicorn(env)), ("granian", lambda: granian(env))):
        with server() as base:
            harness.wrk(base + "/bench/bare", seconds=2)
            results[name] = {
                "bare_rps": harness.wrk(base + "/bench/bare", seconds=args.seconds)["rps"],
                "list_rps": harness.wrk(base + list_url, seconds=args.seconds, headers=headers)["rps"],
            }
    harness.emit(
        {
            "bench": "server",
            "database": args.database,
            "scale": args.scale,
            **{f"{name}_{key}": value for name, row in results.items() for key, value in row.items()},
            "ratio_granian_vs_gunicorn_bare": round(
                results["granian"]["bare_rps"] / results["gunicorn"]["bare_rps"], 3
            ),
            "ratio_granian_vs_gunicorn_list": round(
                results["granian"]["list_rps"] / results["gunicorn"]["list_rps"], 3
            ),
        }
    )


if __name__ == "__main__":
    main()
