"""Files kangle keeps on disk are readable by its own account only.

The SQLite database with its WAL and shared-memory files, the SMS log and the mail folder hold personal
data (the keys already are 0600). At start-up the process takes a private umask, so every file it creates
from then on — the database (SQLite gives its -wal and -shm files the database's mode), the logs, uploads —
is 0600 and every folder 0700; files left by an older version are tightened once.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_UMASK = 0o077
PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def protect(*, database: Path | None, folders: list[Path]) -> None:
    os.umask(PRIVATE_UMASK)
    if database is not None:
        for suffix in SQLITE_COMPANIONS:
            _tighten(Path(f"{database}{suffix}"), PRIVATE_FILE)
    for folder in folders:
        if not folder.is_dir():
            continue
        _tighten(folder, PRIVATE_DIR)
        for path in folder.rglob("*"):
            _tighten(path, PRIVATE_DIR if path.is_dir() else PRIVATE_FILE)


def protect_from_settings() -> None:
    from django.conf import settings

    database = settings.DATABASES["default"]
    sqlite = database["ENGINE"] == "django.db.backends.sqlite3" and str(database["NAME"]) != ":memory:"
    protect(
        database=Path(database["NAME"]) if sqlite else None,
        folders=[Path(settings.KANGLE_SMS_DIR), Path(settings.EMAIL_FILE_PATH)],
    )


def _tighten(path: Path, mode: int) -> None:
    try:
        if path.exists() and (path.stat().st_mode & 0o777) != mode:
            path.chmod(mode)
    except OSError:
        # Not ours to change (a shared mount): the umask still protects what we create.
        pass
