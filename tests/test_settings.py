"""Settings come from KANGLE_* variables; a malformed one stops start-up with a message naming it.

Each case starts a fresh interpreter, because settings are read once per process.
"""

from __future__ import annotations

import os
import runpy
import secrets
import subprocess
import sys

import pytest

from kangle.config import ConfigError

KANGLE = [sys.executable, "-m", "kangle.cli"]


def clean_env(home, **overrides) -> dict:
    dropped = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if not k.startswith("KANGLE_") and k not in dropped}
    env["KANGLE_HOME"] = str(home)
    env.update(overrides)
    return env


def run(args, env, timeout=60):
    return subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)


@pytest.mark.own_home
@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("KANGLE_DEBUG", "maybe", "expected true or false"),
        ("KANGLE_DATABASE_URL", "mysql://u:p@localhost/kangle", "only sqlite:// and postgresql://"),
        ("KANGLE_EMAIL_PORT", "twenty-five", "expected an integer"),
        ("KANGLE_SMS_BACKEND", "pigeon", "expected one of"),
        ("KANGLE_SECRET_KEY", "short", "too short"),
    ],
)
def test_a_malformed_variable_stops_start_up_and_is_named(tmp_path, variable, value, problem):
    result = run([*KANGLE, "manage", "check"], clean_env(tmp_path, **{variable: value}))
    assert result.returncode != 0
    message = result.stderr
    assert f"环境变量 {variable} 有误" in message  # Chinese first
    assert f"Environment variable {variable} is malformed" in message
    assert message.index("环境变量") < message.index("Environment variable")
    assert problem in message
    assert "Traceback" not in message  # a message, not a stack trace


@pytest.mark.parametrize(
    ("variable", "value", "problem"),
    [
        ("KANGLE_DEBUG", "2", "expected true or false"),
        ("KANGLE_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/", "database name is missing"),
        ("KANGLE_DATABASE_URL", "127.0.0.1:5432/kangle", "only sqlite:// and postgresql://"),
        ("KANGLE_EMAIL_PORT", "70000", "at most 65535"),
        ("KANGLE_EMAIL_PORT", "0", "at least 1"),
        ("KANGLE_EMAIL_TLS", "sometimes", "expected true or false"),
        ("KANGLE_EMAIL_BACKEND", "carrier-pigeon", "expected one of"),
        ("KANGLE_FIELD_KEY", "short", "too short"),
        ("KANGLE_SESSION_HOURS", "0", "at least 1"),
        ("KANGLE_SESSION_HOURS", "1.5", "expected an integer"),
        ("KANGLE_LOGIN_MAX_FAILURES", "five", "expected an integer"),
        ("KANGLE_ALLOWED_HOSTS", " , ", "must not be empty"),
        ("KANGLE_HTTPS", "y", "expected true or false"),
        ("KANGLE_LOG_LEVEL", "LOUD", "expected one of"),
        ("KANGLE_DATABASE_PREPARE", "sometimes", "expected true or false"),
    ],
)
@pytest.mark.filterwarnings("ignore:'kangle.settings' found in sys.modules:RuntimeWarning")
def test_every_parser_names_its_variable(tmp_path, monkeypatch, variable, value, problem):
    """The settings module itself, executed afresh (not imported: the running one stays as it is)."""
    for name in list(os.environ):
        if name.startswith("KANGLE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KANGLE_HOME", str(tmp_path))
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        runpy.run_module("kangle.settings", run_name="kangle_settings_probe")
    assert caught.value.variable == variable
    assert f"环境变量 {variable} 有误" in str(caught.value)
    assert problem in str(caught.value)


@pytest.mark.filterwarnings("ignore:'kangle.settings' found in sys.modules:RuntimeWarning")
@pytest.mark.parametrize(
    ("value", "options"), [(None, {"server_side_binding": True, "prepare_threshold": 5}), ("false", {})]
)
def test_postgresql_prepares_statements_unless_told_not_to(tmp_path, monkeypatch, value, options):
    for name in list(os.environ):
        if name.startswith("KANGLE_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KANGLE_HOME", str(tmp_path))
    monkeypatch.setenv("KANGLE_DATABASE_URL", "postgresql://kangle@db.example.org:5432/kangle")
    if value is not None:
        monkeypatch.setenv("KANGLE_DATABASE_PREPARE", value)
    probe = runpy.run_module("kangle.settings", run_name="kangle_settings_probe")
    assert probe["DATABASES"]["default"].get("OPTIONS", {}) == options
    # Django's backend with the health check that asks the server only when the socket says it may be gone
    assert probe["DATABASES"]["default"]["ENGINE"] == "kangle.core.postgres"
    assert probe["DATABASES"]["default"]["CONN_HEALTH_CHECKS"] is True


@pytest.mark.own_home
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


@pytest.mark.own_home
def test_importing_the_settings_directly_fails_naming_the_variable(tmp_path):
    result = run(
        [sys.executable, "-c", "import kangle.settings"], clean_env(tmp_path, KANGLE_DEBUG="yes please")
    )
    assert result.returncode != 0
    assert "ConfigError" in result.stderr
    assert "KANGLE_DEBUG" in result.stderr


PROBE = """
import django
from django.conf import settings
from django.db import connection

django.setup()
cursor = connection.cursor()
cursor.execute("PRAGMA journal_mode")
journal = cursor.fetchone()[0]
cursor.execute("PRAGMA busy_timeout")
busy = cursor.fetchone()[0]
print(settings.SECRET_KEY, settings.KANGLE_FIELD_KEYS[0], settings.DATABASES["default"]["NAME"],
      settings.PASSWORD_HASHERS[0], settings.SESSION_COOKIE_AGE, settings.DEBUG, journal, busy)
"""


@pytest.mark.own_home
def test_defaults_keep_generated_secrets_in_kangle_home_and_use_sqlite_in_wal_mode(tmp_path):
    env = clean_env(tmp_path, DJANGO_SETTINGS_MODULE="kangle.settings")
    first = run([sys.executable, "-c", PROBE], env)
    assert first.returncode == 0, first.stderr
    secret, field_key, database, hasher, age, debug, journal, busy = first.stdout.split()
    assert (tmp_path / "secret_key").read_text().strip() == secret
    assert (tmp_path / "field_key").read_text().strip() == field_key
    assert oct((tmp_path / "secret_key").stat().st_mode & 0o777) == "0o600"
    assert oct((tmp_path / "field_key").stat().st_mode & 0o777) == "0o600"
    assert database == str(tmp_path / "kangle.sqlite3")
    assert hasher == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert age == str(8 * 3600)
    assert debug == "False"
    assert journal == "wal"
    assert int(busy) >= 5000
    # A second start keeps the secrets (not regenerated); the variables override the files.
    env.update(KANGLE_SESSION_HOURS="2", KANGLE_SECRET_KEY="s" * 50)
    second = run([sys.executable, "-c", PROBE], env)
    assert second.returncode == 0, second.stderr
    values = second.stdout.split()
    assert values[:2] == ["s" * 50, field_key]
    assert values[4] == "7200"  # KANGLE_SESSION_HOURS=2


@pytest.mark.own_home
def test_check_deploy_is_clean_with_production_settings(tmp_path):
    env = clean_env(
        tmp_path,
        KANGLE_DEBUG="false",
        KANGLE_HTTPS="true",
        KANGLE_ALLOWED_HOSTS="example.org",
        KANGLE_BASE_URL="https://example.org",
        KANGLE_SECRET_KEY=secrets.token_urlsafe(64),
    )
    result = run([*KANGLE, "manage", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


@pytest.mark.own_home
def test_check_deploy_warns_without_https(tmp_path):
    """The clean result above is earned by the HTTPS settings, not by a silenced check."""
    env = clean_env(
        tmp_path,
        KANGLE_DEBUG="false",
        KANGLE_ALLOWED_HOSTS="example.org",
        KANGLE_SECRET_KEY=secrets.token_urlsafe(64),
    )
    result = run([*KANGLE, "manage", "check", "--deploy", "--fail-level", "WARNING"], env)
    assert result.returncode != 0
    assert "security.W004" in result.stdout + result.stderr  # HSTS
