"""`kangle check` and the start-up checks of `up` and `worker`: each failure mode is one clear bilingual
line, never a traceback; `/healthz?detail=1` for operators."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
import sys
from collections import namedtuple

import pytest
from django.core.management import call_command
from django.db import connection

from kangle.core import health
from kangle.core.models import WorkerHeartbeat
from kangle.core.timeutil import now

KANGLE = [sys.executable, "-m", "kangle.cli"]
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/kangle_nowhere"


def _env(tmp_path, **extra):
    import os

    env = {
        k: v for k, v in os.environ.items() if not k.startswith("KANGLE_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update(KANGLE_HOME=str(tmp_path), KANGLE_LOG_LEVEL="WARNING", **extra)
    return env


@pytest.mark.own_home
@pytest.mark.parametrize(
    "command", [["worker"], ["migrate"], ["ledger-check"], ["check"], ["up", "--no-demo"]]
)
def test_an_unreachable_database_is_one_line_not_a_traceback(tmp_path, command):
    args = [*command, "--port", "18791"] if command[0] == "up" else command
    result = subprocess.run(
        [*KANGLE, *args], env=_env(tmp_path, KANGLE_DATABASE_URL=UNREACHABLE), capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    output = (result.stderr + result.stdout).strip().splitlines()
    failing = [line for line in output if "127.0.0.1" in line or "database" in line]
    assert len(output) <= 3 and failing, output
    assert "数据库" in failing[0] and "database" in failing[0]


@pytest.mark.own_home
def test_check_on_a_fresh_home_names_the_unapplied_migrations(tmp_path):
    result = subprocess.run([*KANGLE, "check"], env=_env(tmp_path), capture_output=True, text=True)
    assert result.returncode == 1
    assert "ok   database" in result.stdout
    assert "FAIL migrations" in result.stdout and "kangle manage migrate" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.django_db
def test_migrations_applied_and_a_newer_database_is_refused():
    assert health.migrations_applied().ok
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO django_migrations (app, name, applied) VALUES ('core', '9999_from_the_future', %s)",
            [now()],
        )
    result = health.migrations_applied()
    assert not result.ok and "core.9999_from_the_future" in result.message
    assert "数据库比程序新" in result.message and "newer than this code" in result.message


@pytest.mark.django_db
def test_a_wrong_field_key_is_found_before_any_login(personas, settings):
    assert health.field_key_decrypts().ok  # personas have phones
    settings.KANGLE_FIELD_KEYS = ["a-completely-different-key-of-enough-length-0123456789"]
    result = health.field_key_decrypts()
    assert not result.ok and "KANGLE_FIELD_KEY" in result.message


@pytest.mark.django_db
def test_the_worker_refuses_to_start_with_a_wrong_field_key(personas, settings, capsys):
    settings.KANGLE_FIELD_KEYS = ["a-completely-different-key-of-enough-length-0123456789"]
    with pytest.raises(SystemExit) as stopped:
        call_command("worker", "--once")
    assert stopped.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "KANGLE_FIELD_KEY" in err[0]


@pytest.mark.django_db
def test_worker_heartbeat_fresh_or_stale():
    assert not health.workers_alive().ok
    moment = now()
    WorkerHeartbeat.objects.create(
        worker_id="w1", hostname="h", pid=1, started_at=moment, last_seen=moment - dt.timedelta(minutes=5)
    )
    stale = health.workers_alive(now=moment)
    assert not stale.ok and "kangle worker" in stale.message
    WorkerHeartbeat.objects.filter(worker_id="w1").update(last_seen=moment)
    assert health.workers_alive(now=moment).ok


def test_low_disk_space_fails(tmp_path, monkeypatch):
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda path: usage(10**9, 10**9 - 10 * 2**20, 10 * 2**20))
    result = health.disk_space(tmp_path)
    assert not result.ok and "10 MB" in result.message


@pytest.mark.django_db
def test_healthz_detail_only_for_operators(client, personas):
    plain = client.get("/healthz?detail=1")
    assert plain.status_code == 200 and plain.json() == {"ok": True}  # anonymous: nothing more
    client.force_login(personas.secretary_b)
    assert client.get("/healthz?detail=1").json() == {"ok": True}  # staff, but not an operator
    client.force_login(personas.superuser)
    detail = client.get("/healthz?detail=1")
    body = detail.json()
    names = [check["name"] for check in body["checks"]]
    assert names == ["database", "migrations", "field key", "disk", "worker"]
    assert detail.status_code == 503 and body["ok"] is False  # no worker runs in the test
    assert [check["ok"] for check in body["checks"]] == [True, True, True, True, False]


@pytest.mark.own_home
def test_startup_checks_pass_on_a_fresh_database_that_up_will_migrate(tmp_path):
    script = (
        "import django; django.setup()\n"
        "from kangle.core import health\n"
        "results = health.startup_checks(allow_pending_migrations=True)\n"
        "print([r.ok for r in results])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        env=_env(tmp_path, DJANGO_SETTINGS_MODULE="kangle.settings"),
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "[True, True, True, True]"
