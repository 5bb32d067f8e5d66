"""`kangle backup` / `kangle restore`: a consistent snapshot of the database and the uploaded files.

A backup is a directory: the database (SQLite's online backup API — a consistent copy while kangle runs —
or ``pg_dump -Fc`` for PostgreSQL), the uploaded files under ``media/``, and ``manifest.json`` with the
schema version (the latest applied migration of every app), row counts and SHA-256 checksums. Personal data
stays as it is stored: encrypted with KANGLE_FIELD_KEY — which is NOT in the backup and must be kept
separately, or the restored phones and addresses cannot be read.

Restore refuses a backup whose schema is newer than the code, puts the database and files back, then checks
the row counts against the manifest and runs the points ledger check.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import sqlite3
import subprocess
from pathlib import Path

from django.apps import apps
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import connection, connections, transaction
from django.utils.translation import gettext_lazy as _

from kangle.core.errors import UserError

MANIFEST = "manifest.json"
FORMAT = 1


def _checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def schema_version() -> dict[str, str]:
    """The latest applied migration of each app: what a backup's data is shaped for."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        rows = cursor.fetchall()
    latest: dict[str, str] = {}
    for app, name in rows:
        latest[app] = max(latest.get(app, ""), name)
    return latest


def _tables() -> dict[str, str]:
    return {
        model._meta.label: model._meta.db_table
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


def row_counts(cursor=None) -> dict[str, int]:
    """Rows per table, through ``cursor`` (a DB-API cursor on a snapshot) or the default connection."""
    counts = {}
    own = cursor is None
    cursor = cursor or connection.cursor()
    try:
        for label, table in _tables().items():
            cursor.execute(f'SELECT COUNT(*) FROM "{table}"')  # noqa: S608 - table names from the models
            counts[label] = cursor.fetchone()[0]
    finally:
        if own:
            cursor.close()
    return counts


def _media_root() -> Path | None:
    """The local folder of uploaded files; None when they live in an object store (backed up there)."""
    location = getattr(default_storage, "location", None)
    return Path(location) if location and hasattr(default_storage, "path") else None


def create(destination: Path, *, now: dt.datetime | None = None) -> Path:
    moment = now or dt.datetime.now(dt.UTC)
    target = destination / f"kangle-backup-{moment:%Y%m%d-%H%M%S}"
    target.mkdir(parents=True, exist_ok=False)
    # The counts come from the very snapshot that is saved, so a restore can be checked against them.
    if connection.vendor == "sqlite":
        database = target / "database.sqlite3"
        connection.ensure_connection()
        copy = sqlite3.connect(database)
        try:
            connection.connection.backup(copy)  # the online backup API: consistent while others write
            counts = row_counts(copy.cursor())
        finally:
            copy.close()
        schema = schema_version()
    elif connection.vendor == "postgresql":
        database = target / "database.dump"
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
            cursor.execute("SELECT pg_export_snapshot()")
            snapshot = cursor.fetchone()[0]
            _run(["pg_dump", "-Fc", "--no-owner", f"--snapshot={snapshot}", "-f", str(database), _pg_url()])
            counts = row_counts(cursor)
            schema = schema_version()
    else:  # pragma: no cover - kangle runs on SQLite or PostgreSQL only
        raise UserError("unsupported_database", _("Unsupported database"))
    media = _media_root()
    if media is not None and media.exists():
        shutil.copytree(media, target / "media")
    files = sorted(path for path in target.rglob("*") if path.is_file())
    manifest = {
        "format": FORMAT,
        "created_at": moment.isoformat(),
        "engine": connection.vendor,
        "database": database.name,
        "schema": schema,
        "counts": counts,
        "files_in_object_store": media is None,
        "checksums": {str(path.relative_to(target)): _checksum(path) for path in files},
        "note": "Personal data is encrypted with KANGLE_FIELD_KEY, which is not in this backup.",
    }
    (target / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True))
    return target


def read_manifest(source: Path) -> dict:
    path = source / MANIFEST
    if not path.is_file():
        raise UserError("not_a_backup", _("%(source)s is not a kangle backup"), source=source)
    return json.loads(path.read_text())


def verify_files(source: Path, manifest: dict) -> None:
    for name, expected in manifest["checksums"].items():
        path = source / name
        if not path.is_file() or _checksum(path) != expected:
            raise UserError("backup_damaged", _("The backup file %(name)s is missing or damaged"), name=name)


def refuse_newer_schema(manifest: dict) -> None:
    from django.db.migrations.loader import MigrationLoader

    known = set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)
    ours = {config.label for config in apps.get_app_configs()}
    newer = sorted(
        f"{app}.{name}"
        for app, name in manifest["schema"].items()
        if app in ours and (app, name) not in known
    )
    if newer:
        raise UserError(
            "backup_newer",
            _(
                "The backup comes from a newer kangle (migrations %(value)s); upgrade kangle before restoring it"
            ),
            value=", ".join(newer[:3]),
        )


def restore(source: Path) -> dict:
    manifest = read_manifest(source)
    verify_files(source, manifest)
    refuse_newer_schema(manifest)
    if manifest["engine"] != connection.vendor:
        raise UserError(
            "backup_engine",
            _("The backup is of a %(value)s database; this one is %(vendor)s"),
            value=manifest["engine"],
            vendor=connection.vendor,
        )
    database = source / manifest["database"]
    if connection.vendor == "sqlite":
        connections.close_all()
        connection.ensure_connection()
        with sqlite3.connect(database) as snapshot:
            snapshot.backup(connection.connection)
        snapshot.close()
    else:
        connections.close_all()
        _run(["pg_restore", "--clean", "--if-exists", "--no-owner", "--dbname", _pg_url(), str(database)])
    media = _media_root()
    if media is not None and (source / "media").exists():
        if media.exists():
            shutil.rmtree(media)
        shutil.copytree(source / "media", media)
    counts = row_counts()
    different = {
        label: (expected, counts.get(label))
        for label, expected in manifest["counts"].items()
        if counts.get(label) != expected
    }
    if different:
        raise UserError(
            "restore_counts",
            _("Row counts after the restore differ from the backup: %(different)s"),
            different=different,
        )
    call_command("ledger_check")  # exits 1 (SystemExit) on a violation
    return manifest


def _pg_url() -> str:
    data = connection.settings_dict
    user = data.get("USER") or ""
    password = f":{data['PASSWORD']}" if data.get("PASSWORD") else ""
    auth = f"{user}{password}@" if user else ""
    return f"postgresql://{auth}{data.get('HOST') or 'localhost'}:{data.get('PORT') or 5432}/{data['NAME']}"


def _run(argv: list[str]) -> None:
    try:
        subprocess.run(argv, check=True, capture_output=True, text=True)  # noqa: S603 - fixed tools
    except FileNotFoundError:
        raise UserError(
            "missing_tool",
            _("%(value)s is not installed; install the PostgreSQL client tools (postgresql-client)"),
            value=argv[0],
        ) from None
    except subprocess.CalledProcessError as exc:
        reason = " ".join((exc.stderr or "").split())[:300]
        raise UserError(
            "tool_failed", _("%(value)s failed: %(reason)s"), value=argv[0], reason=reason
        ) from None
