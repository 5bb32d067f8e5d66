"""Settings come from KANGLE_* variables; a malformed one stops start-up with a message naming it.

Each case starts a fresh interpreter, because settings are read once per process.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

KANGLE = [sys.executable, "-m", "kangle.cli"]


def clean_env(home, **overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KANGLE_") and k != "DJANGO_SETTINGS_MODULE"}
    env["KANGLE_HOME"] = str(home)
    env.update(overrides)
    return env


def run(args, env, timeout=60):
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("KANGLE_DEBUG", "maybe", "expected true or false"),
        ("KANGLE_DATABASE_URL", "mysql://u:p@localhost/kangle", "only sqlite:// and postgresql://"),
        ("KANGLE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/", "database name is missing"),
        ("KANGLE_EMAIL_PORT", "twenty-five", "expected an integer"),
        ("KANGLE_EMAIL_PORT", "70000", "at most 65535"),
        ("KANGLE_SMS_BACKEND", "pigeon", "expected one of"),
        ("KANGLE_SECRET_KEY", "short", "too short"),
        ("KANGLE_FIELD_KEY", "short", "too short"),
        ("KANGLE_SESSION_HOURS", "0", "at least 1"),
        ("KANGLE_LOGIN_MAX_FAILURES", "five", "expected an integer"),
        ("KANGLE_ALLOWED_HOSTS", " , ", "must not be empty"),
    ],
)
def test_a_malformed_variable_stops_start_up_and_is_named(tmp_path, variable, value, problem):
    result = run([*KANGLE, "manage", "check"], clean_env(tmp_path, **{variable: value}))
    assert result.returncode != 0
    message = result.stderr
    assert f"环境变量 {variable} 有误" in message  # Chinese first
    assert f"Environment variable {variable} is malformed" in message
    assert problem in message
    assert "Traceback" not in message  # a message, not a stack trace


def test_the_http_sms_backend_needs_a_url(tmp_path):
    result = run([*KANGLE, "manage", "check"], clean_env(tmp_path, KANGLE_SMS_BACKEND="http"))
    assert result.returncode != 0
    assert "KANGLE_SMS_URL" in result.stderr
    assert "required when the SMS backend is http" in result.stderr
    ok = run(
        [*KANGLE, "manage", "check"],
        clean_env(tmp_path, KANGLE_SMS_BACKEND="http", KANGLE_SMS_URL="https://sms.example.org/send"),
    )
    assert ok.returncode == 0, ok.stderr


def test_importing_the_settings_directly_fails_naming_the_variable(tmp_path):
    result = run([sys.executable, "-c", "import kangle.settings"], clean_env(tmp_path, KANGLE_DEBUG="yes please"))
    assert result.returncode != 0
    assert "ConfigError" in result.stderr
    assert "KANGLE_DEBUG" in result.stderr


def test_defaults_keep_generated_secrets_in_kangle_home(tmp_path):
    code = (
        "from django.conf import settings; import django; django.setup();"
        "print(settings.SECRET_KEY); print(settings.KANGLE_FIELD_KEYS[0]);"
        "print(settings.DATABASES['default']['NAME']); print(settings.PASSWORD_HASHERS[0]);"
        "print(settings.SESSION_COOKIE_AGE); print(settings.DEBUG)"
    )
    env = clean_env(tmp_path, DJANGO_SETTINGS_MODULE="kangle.settings")
    first = run([sys.executable, "-c", code], env)
    assert first.returncode == 0, first.stderr
    secret, field_key, database, hasher, age, debug = first.stdout.split()
    assert (tmp_path / "secret_key").read_text().strip() == secret
    assert (tmp_path / "field_key").read_text().strip() == field_key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert database == str(tmp_path / "kangle.sqlite3")
    assert hasher == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert age == str(8 * 3600)
    assert debug == "False"
    second = run([sys.executable, "-c", code], env)
    assert second.stdout.split()[:2] == [secret, field_key]  # kept, not regenerated


def test_session_hours_set_the_cookie_age(tmp_path):
    code = "from django.conf import settings; import django; django.setup(); print(settings.SESSION_COOKIE_AGE)"
    result = run(
        [sys.executable, "-c", code], clean_env(tmp_path, DJANGO_SETTINGS_MODULE="kangle.settings", KANGLE_SESSION_HOURS="2")
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "7200"


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    code = (
        "import django; django.setup(); from django.db import connection;"
        "c = connection.cursor(); c.execute('PRAGMA journal_mode'); print(c.fetchone()[0]);"
        "c.execute('PRAGMA busy_timeout'); print(c.fetchone()[0])"
    )
    result = run([sys.executable, "-c", code], clean_env(tmp_path, DJANGO_SETTINGS_MODULE="kangle.settings"))
    assert result.returncode == 0, result.stderr
    mode, timeout = result.stdout.split()
    assert mode == "wal"
    assert int(timeout) >= 5000


def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = clean_env(
        tmp_path,
        KANGLE_DEBUG="false",
        KANGLE_HTTPS="true",
        KANGLE_ALLOWED_HOSTS="example.org",
        KANGLE_SECRET_KEY=secrets.token_urlsafe(64),
    )
    result = run([*KANGLE, "manage", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_check_deploy_warns_without_https(tmp_path):
    """The clean result above is earned by the HTTPS settings, not by a silenced check."""
    env = clean_env(tmp_path, KANGLE_DEBUG="false", KANGLE_ALLOWED_HOSTS="example.org", KANGLE_SECRET_KEY=secrets.token_urlsafe(64))
    result = run([*KANGLE, "manage", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr  # HSTS
