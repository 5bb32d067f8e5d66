"""`kangle backup` → wipe → `kangle restore`: the same rows, the same ledger, the same decrypted phone, the
same uploaded file. Real processes on a SQLite file (and on PostgreSQL when pg_dump/pg_restore exist)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kangle.core import backup
from kangle.core.errors import UserError

KANGLE = [sys.executable, "-m", "kangle.cli"]

BUILD = """
import django
django.setup()
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from kangle import demo
demo.build(scale="street", seed=3, steps=[
    "kangle.demo.orgs.build", "kangle.demo.accounts.build", "kangle.demo.members.build",
    "kangle.demo.points.build",
])
default_storage.save("cases/2026/06/photo.png", ContentFile(b"a photo"))
"""

FINGERPRINT = """
import json
import django
django.setup()
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from kangle.core.backup import row_counts
from kangle.points.models import LedgerEntry
phone = get_user_model().objects.exclude(phone="").order_by("pk").values_list("username", "phone").first()
print(json.dumps({
    "counts": row_counts(),
    "ledger": [list(map(str, row)) for row in LedgerEntry.objects.order_by("pk").values_list()],
    "phone": phone,
    "photo": default_storage.open("cases/2026/06/photo.png").read().decode(),
}))
"""


def _env(home: Path, **extra) -> dict:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith("KANGLE_") and k != "DJANGO_SETTINGS_MODULE"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="kangle.settings",
        KANGLE_HOME=str(home),
        KANGLE_LOG_LEVEL="WARNING",
        KANGLE_SECRET_KEY="backup-test-secret-key-" + "x" * 40,
        KANGLE_FIELD_KEY="backup-test-field-key-0123456789abcdef",
        **extra,
    )
    return env


def _run(args, env, *, python=False):
    command = [sys.executable, "-c", args] if python else [*KANGLE, *args]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)  # noqa: S603
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    return result.stdout


def _round_trip(tmp_path, env, wipe):
    _run(["migrate"], env)
    _run(BUILD, env, python=True)
    before = json.loads(_run(FINGERPRINT, env, python=True))
    assert before["phone"] and before["ledger"] and before["counts"]["members.Member"] > 0
    out = _run(["backup", str(tmp_path / "backups")], env)
    (target,) = (tmp_path / "backups").iterdir()
    assert str(target) in out and "KANGLE_FIELD_KEY" in out
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["counts"] == before["counts"]
    assert manifest["schema"]["members"] and "media/cases/2026/06/photo.png" in manifest["checksums"]
    wipe()
    _run(["restore", str(target)], env)
    after = json.loads(_run(FINGERPRINT, env, python=True))
    assert after == before
    return target


@pytest.mark.own_home
def test_backup_wipe_restore_on_sqlite(tmp_path):
    home = tmp_path / "home"
    env = _env(home)

    def wipe():
        for path in home.glob("kangle.sqlite3*"):
            path.unlink()
        shutil.rmtree(home / "media")

    target = _round_trip(tmp_path, env, wipe)
    # The snapshot holds personal data encrypted only: no phone number in clear anywhere in the file.
    phone = json.loads(_run(FINGERPRINT, env, python=True))["phone"][1]
    assert phone.encode() not in (target / "database.sqlite3").read_bytes()
    # A second restore over a database that holds data needs --yes.
    refused = subprocess.run([*KANGLE, "restore", str(target)], env=env, capture_output=True, text=True)
    assert refused.returncode != 0 and "--yes" in refused.stderr


@pytest.mark.skipif(not (shutil.which("pg_dump") and shutil.which("pg_restore")), reason="no pg_dump")
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_backup_wipe_restore_on_postgresql(tmp_path):
    from django.db import connection

    data = connection.settings_dict
    name = f"{data['NAME']}_backup"
    admin = [
        "psql",
        "-h",
        data["HOST"],
        "-p",
        str(data["PORT"] or 5432),
        "-U",
        data["USER"],
        "-d",
        "postgres",
    ]
    url = f"postgresql://{data['USER']}@{data['HOST']}:{data['PORT'] or 5432}/{name}"
    subprocess.run([*admin, "-c", f'DROP DATABASE IF EXISTS "{name}"'], check=True, capture_output=True)
    subprocess.run([*admin, "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
    home = tmp_path / "home"
    env = _env(home, KANGLE_DATABASE_URL=url)

    def wipe():
        subprocess.run(
            [*admin, "-c", f'DROP DATABASE "{name}" WITH (FORCE)'], check=True, capture_output=True
        )
        subprocess.run([*admin, "-c", f'CREATE DATABASE "{name}"'], check=True, capture_output=True)
        shutil.rmtree(home / "media")

    try:
        _round_trip(tmp_path, env, wipe)
    finally:
        subprocess.run([*admin, "-c", f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'], capture_output=True)


def test_restore_refuses_a_backup_from_a_newer_schema():
    manifest = {"schema": {"core": "9999_from_the_future", "members": "0001_initial"}}
    with pytest.raises(UserError) as refused:
        backup.refuse_newer_schema(manifest)
    assert "core.9999_from_the_future" in refused.value.en and "更新版本" in refused.value.zh


def test_restore_refuses_a_damaged_backup(tmp_path):
    (tmp_path / "database.sqlite3").write_bytes(b"changed")
    manifest = {"checksums": {"database.sqlite3": "0" * 64}}
    with pytest.raises(UserError) as refused:
        backup.verify_files(tmp_path, manifest)
    assert refused.value.code == "backup_damaged"
