"""Reading kangle's environment variables.

Every variable is parsed here, once, so a malformed value stops start-up with a message that names it
(in Chinese and English) instead of failing later somewhere deep inside Django.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


class ConfigError(ImproperlyConfigured):
    """A malformed environment variable; the message names it."""

    def __init__(self, name: str, zh: str, en: str):
        self.variable = name
        super().__init__(f"环境变量 {name} 有误：{zh} / Environment variable {name} is malformed: {en}")


def raw(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip()


def boolean(name: str, default: bool) -> bool:
    value = raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in TRUE_WORDS:
        return True
    if lowered in FALSE_WORDS:
        return False
    raise ConfigError(name, f"应为 true 或 false，实际为 “{value}”", f"expected true or false, got {value!r}")


def integer(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ConfigError(
            name, f"应为整数，实际为 “{value}”", f"expected an integer, got {value!r}"
        ) from None
    if minimum is not None and number < minimum:
        raise ConfigError(name, f"不能小于 {minimum}", f"must be at least {minimum}")
    if maximum is not None and number > maximum:
        raise ConfigError(name, f"不能大于 {maximum}", f"must be at most {maximum}")
    return number


def string_list(name: str, default: list[str]) -> list[str]:
    value = raw(name)
    if value is None:
        return default
    items = [item.strip() for item in value.split(",") if item.strip()]
    if not items:
        raise ConfigError(name, "不能为空", "must not be empty")
    return items


def choice(name: str, default: str, choices: dict[str, str]) -> str:
    """Map a short name (e.g. ``console``) to its value; unknown names are refused."""
    value = raw(name) or default
    if value not in choices:
        allowed = ", ".join(sorted(choices))
        raise ConfigError(name, f"应为以下之一：{allowed}", f"expected one of: {allowed}, got {value!r}")
    return choices[value]


def database_url(name: str, default: str) -> dict:
    import dj_database_url

    value = raw(name) or default
    scheme = urlsplit(value).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise ConfigError(
            name,
            f"只支持 sqlite:// 或 postgresql:// 地址，实际为 “{value}”",
            f"only sqlite:// and postgresql:// URLs are supported, got {value!r}",
        )
    try:
        parsed = dj_database_url.parse(value, conn_max_age=60, conn_health_checks=True)
    except (ValueError, KeyError) as exc:
        raise ConfigError(name, f"无法解析：{exc}", f"cannot be parsed: {exc}") from None
    if scheme.startswith("postgres"):
        if not parsed.get("NAME"):
            raise ConfigError(name, "缺少数据库名", "the database name is missing")
        # Django's backend, with a health check that asks the server only when the socket says it may be gone.
        parsed["ENGINE"] = "kangle.core.postgres"
    return parsed


def storage_url(name: str) -> dict:
    """Where uploaded files live: the local disk (unset) or an S3-compatible object store, so several web
    servers share them. ``s3://KEY:SECRET@BUCKET?endpoint=https://host:port&region=R&prefix=media``;
    without KEY:SECRET the usual AWS_* variables or the machine's role are used."""
    from urllib.parse import parse_qs, unquote

    value = raw(name)
    if not value:
        return {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    parts = urlsplit(value)
    if parts.scheme != "s3" or not parts.hostname:
        raise ConfigError(
            name,
            f"只支持 s3://桶名 形式的地址，实际为 “{value}”",
            f"only s3://BUCKET URLs are supported, got {value!r}",
        )
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    unknown = set(query) - {"endpoint", "region", "prefix"}
    if unknown:
        raise ConfigError(
            name,
            f"未知参数：{', '.join(sorted(unknown))}",
            f"unknown parameters: {', '.join(sorted(unknown))}",
        )
    options = {
        "bucket_name": parts.hostname,
        "endpoint_url": query.get("endpoint") or None,
        "region_name": query.get("region") or None,
        "location": query.get("prefix", "").strip("/"),
        # Files are private: the scoped view serves them, never a public bucket URL.
        "default_acl": None,
        "querystring_auth": True,
        "file_overwrite": False,
    }
    if parts.username:
        options["access_key"] = unquote(parts.username)
        options["secret_key"] = unquote(parts.password or "")
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


def home_directory(name: str, default: str) -> Path:
    value = raw(name) or default
    path = Path(value).expanduser().resolve()
    if path.exists() and not path.is_dir():
        raise ConfigError(name, f"{path} 不是目录", f"{path} is not a directory")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(name, f"无法创建目录 {path}：{exc}", f"cannot create {path}: {exc}") from None
    return path


def kept_secret(name: str, home: Path, filename: str, *, minimum_length: int) -> str:
    """The variable's value, or a random secret generated once and kept in a file under ``home``.

    Keeping it in a file means a laptop install survives restarts without anyone setting variables,
    while a server sets the variable (and keeps it in its secret store).
    """
    value = raw(name)
    if value:
        if len(value) < minimum_length:
            raise ConfigError(
                name,
                f"太短，至少需要 {minimum_length} 个字符",
                f"too short, at least {minimum_length} characters are needed",
            )
        return value
    path = home / filename
    if path.exists():
        return path.read_text(encoding="utf-8").strip()
    secret = secrets.token_urlsafe(48)
    # Create with owner-only permissions; O_EXCL so two processes starting together agree on one secret.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret)
    return secret
