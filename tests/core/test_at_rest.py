"""Files at rest under KANGLE_HOME are 0600 (folders 0700); the file SMS log keeps numbers masked."""

from __future__ import annotations

import json
import os
import sqlite3
import stat

import pytest

from kangle.core import at_rest
from kangle.notify.sms import FileBackend


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def restore_umask():
    previous = os.umask(0o022)
    os.umask(previous)
    yield
    os.umask(previous)


def test_existing_files_are_tightened_and_new_ones_are_private(tmp_path, restore_umask):
    os.umask(0o022)
    database = tmp_path / "kangle.sqlite3"
    sms = tmp_path / "sms"
    sms.mkdir()
    (sms / "2026-01-01.jsonl").write_text("{}\n")
    connection = sqlite3.connect(database)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (x)")
    connection.execute("INSERT INTO t VALUES (1)")
    connection.commit()
    for path in (database, f"{database}-wal", f"{database}-shm", sms / "2026-01-01.jsonl"):
        assert mode(path) == 0o644, path  # as an older version left them
    connection.close()
    at_rest.protect(database=database, folders=[sms, tmp_path / "mail"])
    for path in (database, sms / "2026-01-01.jsonl"):
        assert mode(path) == 0o600, path
    assert mode(sms) == 0o700
    # From now on the process creates private files: a new database and its WAL and shared memory too.
    fresh = tmp_path / "fresh.sqlite3"
    connection = sqlite3.connect(fresh)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("CREATE TABLE t (x)")
    connection.commit()
    for path in (fresh, f"{fresh}-wal", f"{fresh}-shm"):
        assert mode(path) == 0o600, path
    connection.close()


def test_the_running_process_holds_a_private_umask():
    current = os.umask(0o077)
    os.umask(current)
    assert current == at_rest.PRIVATE_UMASK


def test_file_sms_backend_writes_masked_numbers_to_a_private_file(settings, tmp_path):
    settings.KANGLE_SMS_DIR = tmp_path / "sms"
    FileBackend().send("13812345678", "您的报事已受理")
    [log] = list((tmp_path / "sms").iterdir())
    entry = json.loads(log.read_text(encoding="utf-8"))
    assert entry["phone"] == "138****5678" and "13812345678" not in log.read_text(encoding="utf-8")
    assert mode(log) == 0o600 and mode(tmp_path / "sms") == 0o700
