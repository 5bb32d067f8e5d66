"""kangle's one settings module. Everything that differs between machines comes from KANGLE_* variables.

See the configuration table in README.md; ``kangle.config`` explains every parser.
"""

from __future__ import annotations

from pathlib import Path

from kangle import config

PACKAGE_DIR = Path(__file__).resolve().parent

KANGLE_HOME = config.home_directory("KANGLE_HOME", "./var")
DEBUG = config.boolean("KANGLE_DEBUG", False)
SECRET_KEY = config.kept_secret("KANGLE_SECRET_KEY", KANGLE_HOME, "secret_key", minimum_length=50)
# Comma-separated; the first key encrypts, every key decrypts (so keys can be rotated).
KANGLE_FIELD_KEYS = config.kept_secret("KANGLE_FIELD_KEY", KANGLE_HOME, "field_key", minimum_length=32).split(
    ","
)
ALLOWED_HOSTS = config.string_list("KANGLE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = config.string_list("KANGLE_CSRF_TRUSTED_ORIGINS", [])
# Public base URL used in QR codes, SMS texts and letters (no trailing slash).
KANGLE_BASE_URL = (config.raw("KANGLE_BASE_URL") or "http://127.0.0.1:8000").rstrip("/")
# Unset, pages that print an address (posters, QR codes) take it from the request (kangle.core.public_url).
KANGLE_BASE_URL_SET = bool(config.raw("KANGLE_BASE_URL"))

# Behind HTTPS (a real deployment): secure cookies, HSTS, redirect. `check --deploy` is clean with it on.
KANGLE_HTTPS = config.boolean("KANGLE_HTTPS", False)
if KANGLE_HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = config.integer("KANGLE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "ninja",  # serves the API docs page's Swagger UI from our own static files, not a CDN
    "kangle.core",
    "kangle.orgs",
    "kangle.accounts",
    "kangle.notify",
    "kangle.people",
    "kangle.members",
    "kangle.points",
    "kangle.posts",
    "kangle.activities",
    "kangle.recognition",
    "kangle.cases",
    "kangle.prevention",
    "kangle.drills",
    "kangle.reports",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "kangle.core.middleware.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # Django's AuthenticationMiddleware, with the user read along with the session and roles kept in it.
    "kangle.accounts.middleware.AuthenticationMiddleware",
    "kangle.accounts.middleware.PasswordChangeRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "kangle.urls"
WSGI_APPLICATION = "kangle.wsgi.application"

TEMPLATES = [
    {
        # Django's backend, with `{% load i18n %}` keeping a fixed phrase's translation once rendered.
        "BACKEND": "kangle.core.template_backend.DjangoTemplates",
        "NAME": "django",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kangle.accounts.context_processors.roles",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------------
DATABASES = {
    "default": config.database_url("KANGLE_DATABASE_URL", f"sqlite:///{KANGLE_HOME / 'kangle.sqlite3'}")
}
KANGLE_DATABASE_PREPARE = config.boolean("KANGLE_DATABASE_PREPARE", True)  # PostgreSQL only; read always
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # WAL lets the web server and the worker read while one of them writes; IMMEDIATE takes the write
        # lock at BEGIN so two writers queue on the busy timeout instead of failing with "database is locked".
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    # SQLite connections are cheap and per-thread; keeping them avoids re-running the PRAGMAs.
    DATABASES["default"]["CONN_MAX_AGE"] = 60
elif KANGLE_DATABASE_PREPARE:
    # Values bound on the server, and the statements a connection runs often (every request's session,
    # list and detail reads) prepared after 5 runs, so PostgreSQL plans them once per connection instead of
    # on every request: planning was half the database time of a detail request. Off behind a pooler in
    # transaction mode that cannot keep prepared statements (PgBouncer before 1.21).
    DATABASES["default"].setdefault("OPTIONS", {}).update(server_side_binding=True, prepare_threshold=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Tasks ------------------------------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
# Periodic jobs run by `kangle worker`: (dotted path, every N seconds). Each job must be idempotent and use
# compare-and-set updates, because several workers may run it at once.
KANGLE_PERIODIC_JOBS = [
    ("kangle.notify.jobs.deliver_outbox", 3),
    ("kangle.core.jobs.record_heartbeat", 15),
    ("kangle.cases.jobs.sla_sweep", 30),
]

# --- Accounts and sessions ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["kangle.accounts.backends.UsernameOrPhoneBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
SESSION_COOKIE_AGE = config.integer("KANGLE_SESSION_HOURS", 8, minimum=1, maximum=720) * 3600
SESSION_SAVE_EVERY_REQUEST = False
# Database sessions whose row names the user, so one query loads both (accounts.sessions).
SESSION_ENGINE = "kangle.accounts.sessions"
SESSION_COOKIE_HTTPONLY = True
KANGLE_LOGIN_MAX_FAILURES = config.integer("KANGLE_LOGIN_MAX_FAILURES", 5, minimum=1)
KANGLE_LOGIN_LOCK_MINUTES = config.integer("KANGLE_LOGIN_LOCK_MINUTES", 15, minimum=1)
# The public case-tracking page (case number + last 4 phone digits) locks a client or a case number after this
# many wrong guesses, for this many minutes.
KANGLE_TRACK_MAX_FAILURES = config.integer("KANGLE_TRACK_MAX_FAILURES", 5, minimum=1)
KANGLE_TRACK_LOCK_MINUTES = config.integer("KANGLE_TRACK_LOCK_MINUTES", 15, minimum=1)

# --- Language and time ------------------------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
# Each app keeps its own catalogue in <app>/locale/, found through INSTALLED_APPS.
USE_I18N = True
TIME_ZONE = "Asia/Shanghai"
USE_TZ = True

# --- Static files -----------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = KANGLE_HOME / "static"
# Vendored front-end files (htmx, WeUI, ECharts) live beside the apps, in kangle/static/vendor.
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = KANGLE_HOME / "media"
STATIC_ROOT.mkdir(exist_ok=True)
# Serve straight from the app folders: `kangle up` needs no collectstatic step.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
STORAGES = {
    # Uploaded files: MEDIA_ROOT on this machine, or an S3-compatible object store shared by every web
    # server when KANGLE_STORAGE_URL is set (see the README).
    "default": config.storage_url("KANGLE_STORAGE_URL"),
    # Hashed names (collected by `kangle up`), served with far-future cache headers (core.staticfiles).
    "staticfiles": {"BACKEND": "kangle.core.staticfiles.HashedStaticFilesStorage"},
}
# Largest photo accepted by the upload gate (kangle.core.uploads), in bytes.
KANGLE_UPLOAD_MAX_BYTES = config.integer("KANGLE_UPLOAD_MAX_BYTES", 8 * 1024 * 1024, minimum=1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
# Largest photo accepted on a case (bytes).

# --- E-mail and SMS ---------------------------------------------------------------------------------------
EMAIL_BACKEND = config.choice(
    "KANGLE_EMAIL_BACKEND",
    "console",
    {
        "console": "django.core.mail.backends.console.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
        "file": "django.core.mail.backends.filebased.EmailBackend",
        "memory": "django.core.mail.backends.locmem.EmailBackend",
    },
)
EMAIL_FILE_PATH = KANGLE_HOME / "mail"
EMAIL_HOST = config.raw("KANGLE_EMAIL_HOST", "localhost")
EMAIL_PORT = config.integer("KANGLE_EMAIL_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = config.raw("KANGLE_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = config.raw("KANGLE_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = config.boolean("KANGLE_EMAIL_TLS", False)
DEFAULT_FROM_EMAIL = config.raw("KANGLE_EMAIL_FROM", "kangle@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

KANGLE_SMS_BACKEND = config.choice(
    "KANGLE_SMS_BACKEND",
    "console",
    {
        "console": "kangle.notify.sms.ConsoleBackend",
        "file": "kangle.notify.sms.FileBackend",
        "memory": "kangle.notify.sms.MemoryBackend",
        "http": "kangle.notify.sms.HttpGatewayBackend",
    },
)
# For the http backend: a gateway that accepts POST {"phone": ..., "text": ..., "sign": ...} as JSON.
KANGLE_SMS_URL = config.raw("KANGLE_SMS_URL", "")
KANGLE_SMS_TOKEN = config.raw("KANGLE_SMS_TOKEN", "")
KANGLE_SMS_SIGN = config.raw("KANGLE_SMS_SIGN", "康乐吾家")
KANGLE_SMS_DIR = KANGLE_HOME / "sms"
if KANGLE_SMS_BACKEND.endswith("HttpGatewayBackend") and not KANGLE_SMS_URL:
    raise config.ConfigError(
        "KANGLE_SMS_URL", "使用 http 短信通道时必须设置", "required when the SMS backend is http"
    )

# --- Logging ----------------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": config.choice(
            "KANGLE_LOG_LEVEL", "INFO", {n: n for n in ("DEBUG", "INFO", "WARNING", "ERROR")}
        ),
    },
    "loggers": {
        "django.db.backends": {"level": "INFO"},
        # The task runner logs every poll at INFO; its warnings and errors still show.
        "django_tasks_db": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50

# --- Members (康乐吾家 member files) ----------------------------------------------------------
# A member who left is anonymised this many days later (service statistics are kept).
KANGLE_MEMBER_RETENTION_DAYS = config.integer("KANGLE_MEMBER_RETENTION_DAYS", 365, minimum=1)
# Largest member list accepted for import (bytes).
KANGLE_MEMBER_IMPORT_MAX_BYTES = config.integer(
    "KANGLE_MEMBER_IMPORT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024
)
# Most rows one member list may hold, and the most its .xlsx may expand to when unpacked (a small file can
# unpack to millions of rows); both are checked while the file is read, before anything is stored.
KANGLE_MEMBER_IMPORT_MAX_ROWS = config.integer("KANGLE_MEMBER_IMPORT_MAX_ROWS", 50_000, minimum=1)
KANGLE_MEMBER_IMPORT_MAX_UNPACKED_BYTES = config.integer(
    "KANGLE_MEMBER_IMPORT_MAX_UNPACKED_BYTES", 200 * 1024 * 1024, minimum=1024
)
KANGLE_PERIODIC_JOBS.append(("kangle.members.jobs.anonymise_left_members", 3600))

# --- Activities, whistle calls and service records -------------------------------------------------------
# A check-in QR code changes every this many seconds; a token is accepted in its window and the next one,
# so a code is useless at most two windows (about a minute) after it was shown.
KANGLE_QR_WINDOW_SECONDS = config.integer("KANGLE_QR_WINDOW_SECONDS", 30, minimum=5, maximum=300)
# Share of the activity's time a participant must be present for the attendance to be credited.
KANGLE_ATTENDANCE_CREDIT_RATIO = (
    config.integer("KANGLE_ATTENDANCE_CREDIT_PERCENT", 60, minimum=1, maximum=100) / 100
)
# Members with a confirmed sign-up are reminded this many hours before the activity starts.
KANGLE_ACTIVITY_REMINDER_HOURS = config.integer("KANGLE_ACTIVITY_REMINDER_HOURS", 24, minimum=1, maximum=168)
KANGLE_PERIODIC_JOBS.append(("kangle.activities.jobs.send_activity_reminders", 60))
# New work reaches staff (inbox notice when their to-do grows; the street's optional daily text digest).
KANGLE_PERIODIC_JOBS.append(("kangle.reports.jobs.todo_notices", 300))

# --- Posts and recognition --------------------------------------------------------------------------------
# Overrides of posts.matching.DEFAULT_WEIGHTS, e.g. {"community": 10}; a deployment's own settings module
# may set it (a weight table is not an environment variable).
KANGLE_MATCH_WEIGHTS: dict[str, int] = {}
# The commendation letter's Chinese font: empty finds Debian's fonts-noto-cjk; a path picks another
# OpenType/TrueType file (KANGLE_CJK_FONT_INDEX is the face in a collection).
KANGLE_CJK_FONT = config.raw("KANGLE_CJK_FONT", "")
KANGLE_CJK_FONT_BOLD = config.raw("KANGLE_CJK_FONT_BOLD", "")
KANGLE_CJK_FONT_INDEX = config.integer("KANGLE_CJK_FONT_INDEX", 0, minimum=0)
