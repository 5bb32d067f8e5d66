"""What `kangle check`, `kangle up`, `kangle worker` and `/healthz?detail=1` verify before trusting the system.

Each check answers ok or not with one bilingual line an operator can act on. `up` and `worker` run the
start-up checks (everything but the worker heartbeat, which they are about to provide) and stop with the
first failure's line instead of a traceback.
"""

from __future__ import annotations

import datetime as dt
import shutil
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import DatabaseError, connection

from kangle.core.crypto import TOKEN_PREFIX, decrypt
from kangle.core.timeutil import now as current_time

# A worker refreshes its heartbeat every 15 s; three missed beats mean it is gone.
HEARTBEAT_STALE = dt.timedelta(seconds=60)
MIN_FREE_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True)
class Result:
    name: str
    ok: bool
    message: str  # "中文 / English"

    def line(self) -> str:
        return f"{'ok  ' if self.ok else 'FAIL'} {self.name}: {self.message}"


def database_reachable() -> Result:
    try:
        connection.ensure_connection()
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        where = _database_name()
        reason = " ".join(str(exc).split())[:200]
        return Result(
            "database",
            False,
            f"无法连接数据库 {where}，请检查 KANGLE_DATABASE_URL 与数据库服务 / cannot reach the database "
            f"{where}; check KANGLE_DATABASE_URL and that the server runs ({reason})",
        )
    return Result("database", True, f"数据库可连接 / database reachable ({_database_name()})")


def migrations_applied(*, allow_pending: bool = False) -> Result:
    """Every migration of the code applied, and none in the database that the code does not know (old code
    on a newer database). ``allow_pending``: for `up`, which applies them next."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    known = set(executor.loader.disk_migrations)
    applied = set(executor.loader.applied_migrations)
    newer = sorted(f"{app}.{name}" for app, name in applied - known if app in _our_apps())
    if newer:
        return Result(
            "migrations",
            False,
            f"数据库比程序新（有程序不认识的迁移 {', '.join(newer[:3])}），请升级 kangle / the database is newer "
            f"than this code (unknown migrations {', '.join(newer[:3])}); upgrade kangle",
        )
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    if pending and not allow_pending:
        return Result(
            "migrations",
            False,
            f"有 {len(pending)} 个迁移尚未执行，请运行 kangle manage migrate（或 kangle up）/ {len(pending)} "
            "migrations are not applied; run kangle manage migrate (or kangle up)",
        )
    return Result(
        "migrations", True, "迁移已全部执行 / migrations applied" if not pending else "待执行迁移 / to apply"
    )


def field_key_decrypts() -> Result:
    """The configured KANGLE_FIELD_KEY opens a stored encrypted value (a lost or wrong key otherwise shows
    only as 500s at every login)."""
    sample = _encrypted_sample()
    if sample is None:
        return Result("field key", True, "尚无加密数据 / no encrypted data yet")
    try:
        decrypt(sample)
    except ValueError:
        return Result(
            "field key",
            False,
            "KANGLE_FIELD_KEY 无法解密已存储的个人信息，请恢复正确的密钥 / KANGLE_FIELD_KEY cannot decrypt "
            "the stored personal data; restore the right key",
        )
    return Result("field key", True, "字段密钥可解密已存储数据 / field key decrypts stored data")


def workers_alive(*, now: dt.datetime | None = None) -> Result:
    from kangle.core.models import WorkerHeartbeat

    moment = now or current_time()
    fresh = WorkerHeartbeat.objects.filter(last_seen__gte=moment - HEARTBEAT_STALE).count()
    if not fresh:
        return Result(
            "worker",
            False,
            "没有运行中的后台进程（1 分钟内无心跳），期限提醒与消息发送已停止，请运行 kangle worker / no worker "
            "heartbeat in the last minute: deadlines and notices are not processed; run kangle worker",
        )
    return Result("worker", True, f"{fresh} 个后台进程在运行 / {fresh} worker(s) alive")


def disk_space(path: Path | None = None) -> Result:
    where = Path(path or settings.KANGLE_HOME)
    free = shutil.disk_usage(where).free
    megabytes = free // (1024 * 1024)
    if free < MIN_FREE_BYTES:
        return Result(
            "disk",
            False,
            f"{where} 所在磁盘仅剩 {megabytes} MB，请清理空间 / only {megabytes} MB free on the disk of "
            f"{where}; free some space",
        )
    return Result("disk", True, f"磁盘剩余 {megabytes} MB / {megabytes} MB free")


def startup_checks(*, allow_pending_migrations: bool = False) -> list[Result]:
    """The checks `up` and `worker` run before they start; stop at the first failure (later checks need
    the database)."""
    results = [database_reachable()]
    if not results[0].ok:
        return results
    for check in (
        lambda: migrations_applied(allow_pending=allow_pending_migrations),
        field_key_decrypts,
        disk_space,
    ):
        results.append(check())
        if not results[-1].ok:
            break
    return results


def all_checks() -> list[Result]:
    results = startup_checks()
    if all(result.ok for result in results):
        results.append(workers_alive())
    return results


def _encrypted_sample() -> str | None:
    """One stored ciphertext, read raw (the model field would decrypt it and hide the error)."""
    from django.contrib.auth import get_user_model

    table = get_user_model()._meta.db_table
    if table not in connection.introspection.table_names():
        return None  # a database not migrated yet holds no personal data
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT phone FROM {connection.ops.quote_name(table)} WHERE phone LIKE %s LIMIT 1",  # noqa: S608
            [TOKEN_PREFIX + "%"],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def _database_name() -> str:
    data = connection.settings_dict
    if connection.vendor == "sqlite":
        return str(data["NAME"])
    return f"{data.get('HOST') or 'localhost'}:{data.get('PORT') or 5432}/{data['NAME']}"


def _our_apps() -> set[str]:
    from django.apps import apps

    return {config.label for config in apps.get_app_configs()}
