"""The `kangle` command, run as a real process against a fresh KANGLE_HOME (SQLite) each time."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

KANGLE = [sys.executable, "-m", "kangle.cli"]

pytestmark = pytest.mark.own_home


def clean_env(home: Path, **overrides) -> dict:
    dropped = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("KANGLE_") and k not in dropped}
    env.update(
        KANGLE_HOME=str(home),
        KANGLE_SMS_BACKEND="memory",
        KANGLE_LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def run(args, env, timeout=180):
    return subprocess.run([*KANGLE, *args], env=env, capture_output=True, text=True, timeout=timeout)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def http_get(port: int, path: str, timeout: float = 5) -> tuple[int, dict]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status, dict(response.getheaders())
    finally:
        connection.close()


def descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (from /proc), so the test can see that all of them stopped."""
    parents: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parents[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        children = {child for child, parent in parents.items() if parent in frontier}
        frontier = children - found
        found |= children
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_up_on_a_busy_port_exits_2_naming_the_port(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = run(["up", "--port", str(port), "--no-demo"], clean_env(tmp_path), timeout=60)
    assert result.returncode == 2
    assert f"端口 {port} 已被占用" in result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in result.stderr
    assert f"kangle up --port {port + 1}" in result.stderr
    assert not (tmp_path / "kangle.sqlite3").exists()  # refused before touching anything


@pytest.mark.parametrize("port", ["0", "70000"])
def test_up_refuses_an_impossible_port(tmp_path, port):
    result = run(["up", "--port", port], clean_env(tmp_path), timeout=60)
    assert result.returncode == 2
    assert f"port {port} is not valid" in result.stderr


def test_up_serves_and_stops_both_processes_on_ctrl_c(tmp_path):
    port = free_port()
    output = open(tmp_path / "up.log", "w+")  # noqa: SIM115 - read back after the process ends
    process = subprocess.Popen(
        [*KANGLE, "up", "--port", str(port), "--no-demo"],
        env=clean_env(tmp_path / "home", KANGLE_LOG_LEVEL="INFO"),
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, like a terminal's foreground job
    )
    try:
        deadline = time.monotonic() + 120
        status = None
        while time.monotonic() < deadline:
            assert process.poll() is None, (tmp_path / "up.log").read_text()
            try:
                status, _ = http_get(port, "/healthz")
            except OSError:
                status = None
            if status == 200:
                break
            time.sleep(0.5)
        assert status == 200, (tmp_path / "up.log").read_text()
        status, headers = http_get(port, "/")
        assert status == 302
        assert headers["Location"] == "/accounts/login/?next=/"
        status, _ = http_get(port, "/accounts/login/")
        assert status == 200

        # The worker is up too (it loads Django on its own, so it may come a moment after the web server).
        while "kangle.worker worker" not in (tmp_path / "up.log").read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert " started: " in (tmp_path / "up.log").read_text()

        below = descendants(process.pid)
        commands = " | ".join(command_line(pid) for pid in below)
        assert "gunicorn" in commands, commands
        assert "kangle.cli worker" in commands, commands

        os.killpg(process.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        assert process.wait(timeout=40) == 0
        stop_by = time.monotonic() + 10
        while any(alive(pid) for pid in below) and time.monotonic() < stop_by:
            time.sleep(0.2)
        assert not [command_line(pid) for pid in below if alive(pid)]
        log = (tmp_path / "up.log").read_text()
        assert f"http://127.0.0.1:{port}/" in log
        assert "kangle 已停止 / kangle stopped" in log
        # The worker finished its step and left its loop (not killed by a second signal mid-job).
        assert re.search(r"kangle\.worker worker \S+ stopped", log), log[-3000:]
        assert "演示账号" not in log  # --no-demo
        with pytest.raises(OSError):
            http_get(port, "/healthz")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        output.close()
    with sqlite3.connect(tmp_path / "home" / "kangle.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM orgs_orgunit").fetchone()[0] == 0  # migrated, no demo


def _wait_for_health(process, port, log, deadline):
    while time.monotonic() < deadline:
        assert process.poll() is None, log.read_text()
        try:
            if http_get(port, "/healthz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(log.read_text())


def _worker_pids(pid: int) -> set[int]:
    return {child for child in descendants(pid) if "kangle.cli worker" in command_line(child)}


def test_up_restarts_a_crashed_worker_and_keeps_serving(tmp_path, demo_home):
    # A street's home with its data, as a running installation has it (the fresh home's first start, with
    # its migrations, is the test above).
    home = tmp_path / "home"
    shutil.copytree(demo_home[0], home)
    port = free_port()
    log = tmp_path / "up.log"
    output = open(log, "w+")  # noqa: SIM115 - read back after the process ends
    process = subprocess.Popen(
        [*KANGLE, "up", "--port", str(port), "--no-demo"],
        env=clean_env(home),
        stdout=output,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        _wait_for_health(process, port, log, deadline)
        while not _worker_pids(process.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        (first,) = _worker_pids(process.pid)
        os.kill(first, signal.SIGKILL)  # the worker dies as it did of an uncaught "database is locked"
        replaced = set()
        while time.monotonic() < deadline:
            replaced = {pid for pid in _worker_pids(process.pid) if pid != first and alive(pid)}
            if replaced:
                break
            time.sleep(0.2)
        assert replaced, log.read_text()
        assert process.poll() is None
        # The web server never stopped; the machine is busy booting the new worker, hence the patience.
        assert http_get(port, "/healthz", timeout=20)[0] == 200
        assert "the worker stopped unexpectedly (exit -9); restarting it" in log.read_text()
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=40) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        output.close()


@pytest.fixture(scope="module")
def demo_home(tmp_path_factory):
    home = tmp_path_factory.mktemp("demo-home")
    # The whole street demo: minutes on a busy machine. The limit only stops a hung process.
    first = run(["demo", "--seed", "7"], clean_env(home), timeout=900)
    return home, first


def test_demo_loads_once_and_refuses_a_second_time(demo_home):
    home, first = demo_home
    assert first.returncode == 0, first.stderr
    assert "registration_points=30" in first.stdout
    assert "kj_sec_a" in first.stdout and "kangle-demo" in first.stdout
    with sqlite3.connect(home / "kangle.sqlite3") as db:
        before = db.execute("SELECT count(*) FROM orgs_orgunit").fetchone()[0]
    second = run(["demo", "--seed", "7"], clean_env(home))
    assert second.returncode != 0
    assert "数据库中已有数据" in second.stderr
    assert "the database is not empty" in second.stderr
    with sqlite3.connect(home / "kangle.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM orgs_orgunit").fetchone()[0] == before


def test_createadmin_creates_a_superuser(demo_home):
    home, _ = demo_home
    result = run(["createadmin", "--username", "x", "--password", "a long passphrase 42"], clean_env(home))
    assert result.returncode == 0, result.stderr
    assert "superuser x created" in result.stdout
    with sqlite3.connect(home / "kangle.sqlite3") as db:
        is_superuser, is_staff, password = db.execute(
            "SELECT is_superuser, is_staff, password FROM accounts_user WHERE username = 'x'"
        ).fetchone()
    assert (is_superuser, is_staff) == (1, 1)
    assert password.startswith("argon2$")
    again = run(["createadmin", "--username", "x", "--password", "a long passphrase 42"], clean_env(home))
    assert again.returncode != 0
    assert "x" in again.stderr


def test_createadmin_refuses_a_weak_password(demo_home):
    home, _ = demo_home
    result = run(["createadmin", "--username", "weak", "--password", "12345678"], clean_env(home))
    assert result.returncode != 0
    assert "密码不符合要求" in result.stderr
    with sqlite3.connect(home / "kangle.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM accounts_user WHERE username = 'weak'").fetchone()[0] == 0


def test_worker_once_runs_the_periodic_jobs(demo_home):
    home, _ = demo_home
    result = run(["worker", "--once"], clean_env(home))
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(home / "kangle.sqlite3") as db:
        assert db.execute("SELECT count(*) FROM core_workerheartbeat").fetchone()[0] == 1


def test_help_lists_the_commands(tmp_path):
    result = run(["--help"], clean_env(tmp_path), timeout=60)
    assert result.returncode == 0
    for command in ["kangle up", "kangle worker", "kangle demo", "kangle createadmin", "kangle manage"]:
        assert command in result.stdout
