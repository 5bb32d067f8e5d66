"""Shared pieces for benchmarks: a database with demo data at a scale, a real server, a load generator.

Benchmarks are scripts, not tests. Each prints one JSON line with its figure, the scale and a ratio
against a baseline run in the same process (ARCHITECTURE.md, Benchmarks).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def prepare_environment(database: str, name: str) -> dict[str, str]:
    """Environment for a benchmark database: ``sqlite`` (a temp file) or ``postgres`` (a fresh database)."""
    home = Path(tempfile.mkdtemp(prefix=f"kangle-bench-{name}-"))
    env = dict(os.environ)
    env.update(
        KANGLE_HOME=str(home),
        KANGLE_SECRET_KEY="bench-secret-" + "s" * 50,
        KANGLE_FIELD_KEY="bench-field-" + "f" * 32,
        KANGLE_DEBUG="false",
        KANGLE_LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="kangle.settings",
    )
    if database == "postgres":
        db = f"kangle_bench_{name}"
        for statement in (f"DROP DATABASE IF EXISTS {db}", f"CREATE DATABASE {db}"):
            subprocess.run(
                ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qc", statement, "postgres"], check=True
            )
        env["KANGLE_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:5432/{db}"
    elif database != "sqlite":
        raise SystemExit("database must be sqlite or postgres")
    os.environ.update(env)
    return env


def setup_django() -> None:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def serving(
    command: list[str],
    *,
    port: int,
    env: dict[str, str],
    cwd: Path,
    start_seconds: int = 180,
    name: str = "server",
):
    """Run a web server's ``command`` (listening on ``port``) until the block ends; yields the base URL once
    ``/healthz`` answers, and stops the server with SIGTERM (SIGKILL after 15 s)."""
    process = subprocess.Popen(command, env=env, cwd=cwd)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + start_seconds  # a loaded machine starts slowly
        while True:
            try:
                urllib.request.urlopen(base + "/healthz", timeout=5).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def gunicorn_command(
    app: str, port: int, *, workers: int = 2, threads: int = 4, python: str = sys.executable
) -> list[str]:
    """gunicorn serving ``app`` the way `kangle up` does (gthread workers)."""
    return [python, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers)] + [
        "--threads",
        str(threads),
        "--worker-class",
        "gthread",
        "--log-level",
        "warning",
    ]


@contextlib.contextmanager
def gunicorn(
    env: dict[str, str],
    *,
    app: str = "kangle.wsgi:application",
    workers: int = 2,
    threads: int = 4,
    root: Path = ROOT,
    start_seconds: int = 180,
):
    """Serve ``app`` of the checkout at ``root`` the way `kangle up` does; yields the base URL."""
    port = free_port()
    with serving(
        gunicorn_command(app, port, workers=workers, threads=threads),
        port=port,
        # The checkout's own sources first, so a copy of another revision benchmarks that revision.
        env={**env, "PYTHONPATH": os.pathsep.join([str(root / "src"), str(ROOT)])},
        cwd=root,
        start_seconds=start_seconds,
    ) as base:
        yield base


WORKERS_SCRIPT = ROOT / "bench" / "wrk" / "workers.lua"


def wrk(
    url: str, *, seconds: int = 10, connections: int = 8, threads: int = 2, headers: dict | None = None
) -> dict:
    """Requests per second and latency from wrk (a separate process, keep-alive connections), and how many
    responses each server worker answered (``answered``: pid → count; empty unless the server runs the
    bench settings, whose middleware names the worker)."""
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed for this benchmark: apt-get install wrk")
    command = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s", "--latency"]
    command += ["-s", str(WORKERS_SCRIPT)]
    for key, value in (headers or {}).items():
        command += ["-H", f"{key}: {value}"]
    output = subprocess.run(command + [url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    latency = dict(re.findall(r"\s+(50|99)%\s+([\d.]+\w+)", output))
    answered = {pid: int(count) for pid, count in re.findall(r"^worker (\S+) answered (\d+)$", output, re.M)}
    return {
        "rps": rps,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "p50": latency.get("50"),
        "p99": latency.get("99"),
        "answered": answered,
    }


def busiest_share(window: dict) -> float:
    """The share of a window's responses answered by its busiest worker (1.0 when no worker was named)."""
    counts = window["answered"].values()
    return max(counts) / sum(counts) if counts else 1.0


def balanced_wrk(url: str, *, workers: int, tries: int = 5, pause: float = 0.5, **options) -> dict:
    """A wrk window in which every one of ``workers`` server processes answered its share.

    wrk opens its keep-alive connections at the start of a window and each stays with the worker that
    accepted it; a worker still busy with the last window's requests accepts none, and its neighbour then
    serves the whole window alone. On two workers such a window runs at about a third of the rate of a
    balanced one, and a ratio of two windows then measures where the connections went, not the code. So a
    window starts after a pause (every worker idle) and is taken again, up to ``tries`` times in all, while
    one worker answered more than 1.4 times its share; ``tries`` counts the attempts and ``busiest_share``
    the last one's split."""
    limit = min(1.0, 1.4 / workers)
    attempts = 0
    while True:
        attempts += 1
        time.sleep(pause)
        window = wrk(url, **options)
        share = busiest_share(window)
        if share <= limit or attempts == tries:
            break
    return {**window, "tries": attempts, "busiest_share": round(share, 3), "balanced": share <= limit}


def emit(result: dict) -> None:
    print(json.dumps(result, ensure_ascii=False), flush=True)
