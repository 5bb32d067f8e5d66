"""What one request costs inside the process, per list and detail, next to a bare one-query view.

    python bench/request_costs.py                       # street demo on SQLite, built once in --home
    python bench/request_costs.py --src <checkout>/src  # the same requests served by another revision
    python bench/request_costs.py --queries todo_home --full         # each statement whole, to EXPLAIN
    python bench/request_costs.py --profile case_detail_page --callers local.py:141

No server and no network: each request is handed to Django's WSGI handler directly, so the figure is the
product's own work (middleware, authentication, the view, the queries, rendering). Targets run in turn,
five rounds of 0.4 s each, and each keeps its best round (a busy machine only ever makes a round slower);
the ratio is the bare view's time over the target's. The API is called with a bearer token, the pages with
a signed-in session, as in ``bench_pages.py``. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _arguments():
    parser = argparse.ArgumentParser()
    default_home = str(Path(tempfile.gettempdir()) / "kangle-bench-request-costs")
    parser.add_argument("--home", default=default_home, help="where the demo database lives (built once)")
    parser.add_argument(
        "--src", default=str(ROOT / "src"), help="the sources to serve (another revision's src)"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", default="", help="comma-separated target names (the bare view always runs)")
    parser.add_argument(
        "--profile",
        metavar="TARGET",
        help="instead of timing, profile 200 calls of one target and print where the time goes",
    )
    parser.add_argument(
        "--queries",
        metavar="TARGET",
        help="instead of timing, time each statement of one target (median of 100 calls) and print them "
        "(PostgreSQL: the driver fetches the rows within the statement; SQLite fetches them later, so its "
        "times leave the fetching out)",
    )
    parser.add_argument(
        "--full",
        action="store_true",
        help="with --queries: print each statement whole, with the first call's parameters, to run again "
        "under EXPLAIN",
    )
    parser.add_argument(
        "--callers",
        default="",
        metavar="NAMES",
        help="with --profile: also print who calls these functions (comma-separated, as pstats matches them, "
        "e.g. 'local.py:141,get_loader')",
    )
    return parser.parse_args()


def _setup(args) -> None:
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, args.src)
    fresh = not Path(args.home, "built").exists()
    Path(args.home).mkdir(parents=True, exist_ok=True)
    os.environ.update(
        KANGLE_HOME=args.home,
        KANGLE_SECRET_KEY="bench-secret-" + "s" * 50,
        KANGLE_FIELD_KEY="bench-field-" + "f" * 32,
        KANGLE_DEBUG="false",
        KANGLE_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="bench.settings_bench",
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    if fresh:
        from kangle import demo

        demo.build(scale="street", seed=7)
        Path(args.home, "built").touch()


def main() -> None:
    args = _arguments()
    _setup(args)
    from django.core.handlers.wsgi import WSGIHandler

    from bench.bench_pages import signed_in_targets

    headers, targets = signed_in_targets()
    # The same headers as WSGI environ keys.
    auth = {
        how: {"HTTP_" + name.upper(): value for name, value in fields.items()}
        for how, fields in headers.items()
    }
    if args.only:
        targets = {name: targets[name] for name in args.only.split(",")}
    targets = {"bare": ("/bench/bare", None), **targets}
    app = WSGIHandler()

    def call(path: str, how: str | None) -> None:
        route, _sep, query = path.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": route,
            "QUERY_STRING": query,
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
            "HTTP_HOST": "127.0.0.1",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""),
            "wsgi.url_scheme": "http",
            **(auth[how] if how else {}),
        }
        status = []
        b"".join(app(environ, lambda line, headers: status.append(line)))
        if not status[0].startswith("200"):
            raise SystemExit(f"{path}: {status[0]}")

    for path, how in targets.values():
        for _warm in range(5):
            call(path, how)
    if args.profile:
        _profile(lambda: call(*targets[args.profile]), [name for name in args.callers.split(",") if name])
        return
    if args.queries:
        _statement_times(lambda: call(*targets[args.queries]), full=args.full)
        return
    best: dict[str, float] = {}
    for _round in range(args.rounds):
        for name, (path, how) in targets.items():
            count, started = 0, time.perf_counter()
            while time.perf_counter() - started < 0.4:
                call(path, how)
                count += 1
            best[name] = min(best.get(name, float("inf")), (time.perf_counter() - started) / count * 1000)
    bare = best["bare"]
    print(
        json.dumps(
            {
                "bench": "request_costs",
                "src": args.src,
                "rounds": args.rounds,
                "ms": {name: round(value, 2) for name, value in best.items()},
                "ratio_to_bare": {name: round(bare / value, 3) for name, value in best.items()},
            }
        )
    )


def _profile(request, callers: list[str]) -> None:
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    for _call in range(200):
        request()
    profiler.disable()
    stats = pstats.Stats(profiler).strip_dirs()
    stats.sort_stats("tottime").print_stats(25)
    stats.sort_stats("cumulative").print_stats(45)
    for name in callers:
        stats.print_callers(name)


def _statement_times(request, *, full: bool = False) -> None:
    """The statements one request runs, each with its median time, in the order they run; ``full``: each
    statement whole, with the parameters of the first call."""
    import statistics

    from django.db import connection

    runs: list[list[tuple[str, float]]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            runs[-1].append((sql, (time.perf_counter() - started) * 1000, params))

    with connection.execute_wrapper(timed):
        for _call in range(100):
            runs.append([])
            request()
    # Statements are matched by their place in the request: calls that ran another number of them (a
    # token's once-a-minute "last used" write, say) are left out rather than matched wrongly.
    usual = statistics.mode(len(run) for run in runs)
    kept = [run for run in runs if len(run) == usual]
    if len(kept) < len(runs):
        print(f"left out {len(runs) - len(kept)} calls that ran other than {usual} statements")
    first = kept[0]
    total = 0.0
    for index, (sql, _ms, params) in enumerate(first):
        median = statistics.median(run[index][1] for run in kept)
        total += median
        text = " ".join(sql.split())
        print(f"{median:7.3f} ms  {text if full else text[:150]}")
        if full:
            print(f"           parameters: {params!r}")
    print(f"{total:7.3f} ms  in {len(first)} statements")


if __name__ == "__main__":
    main()
