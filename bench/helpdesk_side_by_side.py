"""The product beside django-helpdesk 2.6.1 on the same machine, database server and server settings: case
creation, the staff list and a case's page, in alternating windows.

    python bench/helpdesk_side_by_side.py                      # builds both sides, then measures
    python bench/helpdesk_side_by_side.py --reuse              # measures on what an earlier run built
    python bench/helpdesk_side_by_side.py --reuse --only case_list,case_detail --seconds 10

django-helpdesk is not a dependency of kangle. The script makes its own virtualenv in ``--helpdesk-home``
(django-helpdesk 2.6.1 with the Django, gunicorn and psycopg versions the product runs on; kept for the
next run) and a minimal Django project mounting it at /helpdesk/ the way its documentation does: DEBUG off,
django-helpdesk's own defaults (teams mode off, so no pinax-teams), its REST API with DRF token and session
authentication, e-mail kept in memory, PostgreSQL with persistent connections (CONN_MAX_AGE). Its data, in
the database kangle_hd_bench: one staff superuser with a token, one queue and 100,000 tickets, 20 % of them
open, created over the same spans as the product's bulk cases, each with the follow-up that opening a
ticket writes, inserted with ``bulk_create``. The product side measures a copy of kangle_lists_bench (the
street demo plus 100,000 cases, 20 % open, as ``bench_pages.py --dbname kangle_lists_bench`` builds it),
made as kangle_lists_bench_hd so that the creation windows never write to the original. ``--reuse`` keeps
either database when it exists; without it both are made anew.

Each side runs one gunicorn with 2 gthread workers × 4 threads and a middleware naming the worker. wrk
drives each target in alternating windows of the same length and connection count (kangle, django-helpdesk,
kangle, django-helpdesk …), reads first and creation last; the figure per target is the median of the
per-round ratios kangle req/s ÷ django-helpdesk req/s, beside both median rates and p50 latencies:

- case_list: the desk queue ``/cases/desk/`` (50 open cases a page, rows in the HTML; a signed-in street
  admin's session) against django-helpdesk's staff ticket list, which is two requests: the HTML page
  ``/helpdesk/tickets/`` (no rows) and the JSON its table then loads from ``datatables_ticket_list/<query>``
  (the page's default query: open tickets, first page of 25). Both are measured (``page``, ``rows``), and
  ``pair`` is the rate at which the list can be shown, 1/(1/page + 1/rows); the headline ratio is against
  the pair, its p50 the two p50s added (the browser asks one after the other).
- case_detail: the newest case's desk page against the page of the newest open ticket.
- case_create_1, case_create_4: ``POST /api/v1/cases/`` (bearer token, the body of bench_cases_create.py)
  against ``POST /helpdesk/api/tickets/`` (DRF token; queue, title, description, submitter e-mail, priority),
  with 1 and 4 connections. Every response must be a 201; the rows each side created are counted.

Reads use 8 connections. A target whose slowest warm-up request took more than a fifth of ``--seconds``
gets windows five times that long (at most 60 s; ``window_s`` per target), the same on both sides, so that
a window holds more than a few of its requests. Each window is one in which both workers answered their
share (the rule of ``harness.balanced_wrk``; ``retaken`` counts the windows taken again), with a wrk
timeout of 60 s instead of its 2 s: django-helpdesk's list rows take about a second each even alone, and a
request wrk drops is neither counted nor stopped, so the server would go on with it into the next window.
For the same reason every window is followed by a pause until both servers and the database are idle
again. Errors count non-2xx responses and socket errors (timeouts). Before timing, each URL is asked once
and must answer 200 (201 for creation) with the content it should have, or the run stops.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import harness  # noqa: E402
from bench.bench_cases_create import LUA, creation_body  # noqa: E402
from bench.bench_pages import signed_in_targets  # noqa: E402

HELPDESK = "django-helpdesk==2.6.1"
HELPDESK_DB = "kangle_hd_bench"
KANGLE_DB = "kangle_lists_bench_hd"
KANGLE_SOURCE_DB = "kangle_lists_bench"
TICKETS = 100_000
OPEN_SHARE = 0.2
WORKERS = 2  # per server, each with 4 threads, as `kangle up` serves
READ_CONNECTIONS = 8
WRK_TIMEOUT = 60  # seconds
LONGEST_WINDOW = 60  # seconds
RUNNING_SQL = """
SELECT count(*) FROM pg_stat_activity
WHERE datname = ANY(%s) AND state = 'active' AND backend_type = 'client backend' AND pid <> pg_backend_pid()
"""

# The django-helpdesk project: settings (with the worker-naming middleware of bench/worker_header.py, which
# the product's bench settings use too), URLs with a health check, WSGI entry, and a helper that builds the
# data and signs the staff user in.
SITE_SETTINGS = '''"""A minimal project serving django-helpdesk as its documentation sets it up."""

SECRET_KEY = "bench-helpdesk-" + "s" * 50
DEBUG = False
ALLOWED_HOSTS = ["*"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "helpdesk",
]
MIDDLEWARE = [
    "bench.worker_header.worker_header",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
ROOT_URLCONF = "hdsite.urls"
WSGI_APPLICATION = "hdsite.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "@DATABASE@",
        "USER": "postgres",
        "HOST": "127.0.0.1",
        "PORT": "5432",
        "CONN_MAX_AGE": 600,
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
SITE_ID = 1
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "/static/"
MEDIA_ROOT = "media"
LOGIN_URL = "helpdesk:login"
LOGIN_REDIRECT_URL = "helpdesk:home"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
DEFAULT_FROM_EMAIL = "helpdesk@example.com"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
}
HELPDESK_TEAMS_MODE_ENABLED = False
HELPDESK_API_ENABLED = True  # the 2.6 name; default on
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "ERROR"},
}
'''

SITE_URLS = """import os

from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path


def healthz(request):
    return HttpResponse("ok")


urlpatterns = [
    path("healthz", healthz),
    path("admin/", admin.site.urls),
    path("helpdesk/", include("helpdesk.urls", namespace="helpdesk")),
]
"""

SITE_WSGI = """from django.core.wsgi import get_wsgi_application

application = get_wsgi_application()
"""

SITE_HELPER = '''"""Builds the django-helpdesk data (``build COUNT OPEN_SHARE``), or signs the staff user
in and describes the data (``info``); prints one JSON line."""

import datetime as dt
import json
import random
import sys
import time

import django

django.setup()

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token

from helpdesk.models import FollowUp, Queue, Ticket

DESCRIPTION = "Termite marks and mud tubes on the stairwell door frame, third floor; please come and look."


def build(count, open_share):
    started = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    admin = get_user_model().objects.create_superuser("hd_admin", "hd_admin@example.com", "bench-pass-1")
    Token.objects.create(user=admin)
    queue = Queue.objects.create(title="Walk-in", slug="walkin", email_address="desk@example.com")
    # created and modified are auto_now fields: the bulk rows keep the times given here instead.
    for name in ("created", "modified"):
        field = Ticket._meta.get_field(name)
        field.auto_now = field.auto_now_add = False
    rng = random.Random(42)
    now = timezone.now()
    made = 0
    while made < count:
        tickets = []
        for number in range(made, min(count, made + 5000)):
            is_open = rng.random() < open_share
            hours = 60 * rng.random() if is_open else 100 + 19900 * rng.random()
            created = now - dt.timedelta(hours=hours)
            tickets.append(
                Ticket(
                    queue=queue,
                    title=f"Termite marks, stairwell {number}",
                    description=DESCRIPTION,
                    submitter_email=f"resident{number % 5000}@example.com",
                    status=Ticket.OPEN_STATUS if is_open else Ticket.CLOSED_STATUS,
                    priority=1 + number % 5,
                    created=created,
                    modified=created if is_open else created + dt.timedelta(hours=30),
                )
            )
        Ticket.objects.bulk_create(tickets)
        FollowUp.objects.bulk_create(
            FollowUp(ticket=t, title="Ticket Opened", date=t.created, public=True, comment=t.description)
            for t in tickets
        )
        made += len(tickets)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return {"tickets": made, "seconds": round(time.monotonic() - started, 1)}


def info():
    admin = get_user_model().objects.get(username="hd_admin")
    client = Client()
    client.force_login(admin)
    open_tickets = Ticket.objects.filter(status=Ticket.OPEN_STATUS)
    newest = open_tickets.order_by("-created", "-id").values("id", "title").first()
    return {
        "cookie": f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}",
        "token": Token.objects.get(user=admin).key,
        "queue": Queue.objects.get(slug="walkin").pk,
        "newest_open": newest,
        "tickets": Ticket.objects.count(),
        "open": Ticket.objects.filter(status__in=Ticket.OPEN_STATUSES).count(),
    }


if __name__ == "__main__":
    if sys.argv[1] == "build":
        result = build(int(sys.argv[2]), float(sys.argv[3]))
    else:
        result = info()
    print(json.dumps(result, ensure_ascii=False))
'''


def _psql(statement: str, database: str = "postgres") -> str:
    return subprocess.run(
        ["psql", "-h", "127.0.0.1", "-U", "postgres", "-qtAc", statement, database],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()


def _database_exists(name: str) -> bool:
    return _psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"


def _helpdesk_env(home: Path) -> dict[str, str]:
    """The environment of the django-helpdesk processes: none of the product's settings, its own project."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("KANGLE_", "DJANGO_", "PYTHON", "VIRTUAL_ENV"))
    }
    # The site, and the repository for the worker header middleware it shares with the product's bench.
    env.update(
        DJANGO_SETTINGS_MODULE="hdsite.settings",
        PYTHONPATH=os.pathsep.join([str(home / "site"), str(harness.ROOT)]),
    )
    return env


def _helpdesk_python(home: Path) -> Path:
    return home / "venv" / "bin" / "python"


def _helpdesk_site(home: Path) -> float:
    """The virtualenv (made once: django-helpdesk with the product's own Django, gunicorn and psycopg) and
    the project's files (written every run); returns the seconds the virtualenv took (0 when kept)."""
    pins = [
        HELPDESK,
        f"django=={importlib.metadata.version('django')}",
        f"gunicorn=={importlib.metadata.version('gunicorn')}",
        f"psycopg[binary]=={importlib.metadata.version('psycopg')}",
    ]
    marker = home / "venv" / "installed.txt"
    seconds = 0.0
    if not (marker.exists() and marker.read_text().split() == pins):
        started = time.monotonic()
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(home / "venv")], check=True)
        python = str(_helpdesk_python(home))
        subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *pins], check=True
        )
        marker.write_text("\n".join(pins) + "\n")
        seconds = time.monotonic() - started
    package = home / "site" / "hdsite"
    package.mkdir(parents=True, exist_ok=True)
    (package / "__init__.py").write_text("")
    (package / "settings.py").write_text(SITE_SETTINGS.replace("@DATABASE@", HELPDESK_DB))
    (package / "urls.py").write_text(SITE_URLS)
    (package / "wsgi.py").write_text(SITE_WSGI)
    (home / "site" / "helper.py").write_text(SITE_HELPER)
    return seconds


def _helpdesk_helper(home: Path, *args: str) -> dict:
    done = subprocess.run(
        [str(_helpdesk_python(home)), "helper.py", *args],
        cwd=home / "site",
        env=_helpdesk_env(home),
        capture_output=True,
        text=True,
    )
    if done.returncode:
        raise SystemExit(f"django-helpdesk helper {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _helpdesk_data(home: Path, reuse: bool) -> float:
    """The database kangle_hd_bench with its tickets, kept under ``reuse`` when it exists."""
    if reuse and _database_exists(HELPDESK_DB):
        return 0.0
    started = time.monotonic()
    _psql(f"DROP DATABASE IF EXISTS {HELPDESK_DB}")
    _psql(f"CREATE DATABASE {HELPDESK_DB}")
    built = _helpdesk_helper(home, "build", str(TICKETS), str(OPEN_SHARE))
    print("django-helpdesk data", built, file=sys.stderr, flush=True)
    return time.monotonic() - started


def _kangle_copy(reuse: bool) -> float:
    """kangle_lists_bench_hd, a copy of kangle_lists_bench (which is never written), kept under ``reuse``."""
    if reuse and _database_exists(KANGLE_DB):
        return 0.0
    if not _database_exists(KANGLE_SOURCE_DB):
        raise SystemExit(
            f"{KANGLE_SOURCE_DB} is missing: build it first with "
            f"bench/bench_pages.py --database postgres --dbname {KANGLE_SOURCE_DB}"
        )
    started = time.monotonic()
    _psql(f"DROP DATABASE IF EXISTS {KANGLE_DB}")
    try:
        _psql(f"CREATE DATABASE {KANGLE_DB} TEMPLATE {KANGLE_SOURCE_DB}")
    except subprocess.CalledProcessError as error:
        raise SystemExit(
            f"could not copy {KANGLE_SOURCE_DB} (is a session still connected to it?): {error.stderr}"
        ) from None
    _psql("VACUUM ANALYZE", KANGLE_DB)
    return time.monotonic() - started


def _helpdesk_server(home: Path):
    """``harness.gunicorn``'s server (2 gthread workers × 4 threads) run by the django-helpdesk virtualenv."""
    port = harness.free_port()
    return harness.serving(
        harness.gunicorn_command(
            "hdsite.wsgi:application", port, workers=WORKERS, python=str(_helpdesk_python(home))
        ),
        port=port,
        env=_helpdesk_env(home),
        cwd=home / "site",
        name="django-helpdesk server",
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect (to a sign-in page, say) is an answer to report, not one to follow."""

    def redirect_request(self, *args, **kwargs):
        return None


def _ask(request: dict) -> tuple[int, str]:
    """One request as wrk will send it: status and body."""
    body = request.get("body")
    headers = dict(request["headers"]) | ({"Content-Type": "application/json"} if body else {})
    asked = urllib.request.Request(request["url"], data=body, headers=headers, method=request["method"])
    try:
        with urllib.request.build_opener(_NoRedirect).open(asked, timeout=120) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def _check(side: str, request: dict) -> str:
    status, text = _ask(request)
    if status != request["status"] or request["contains"] not in text:
        raise SystemExit(
            f"{side} {request['what']} answered {status}, expected {request['status']} with "
            f"{request['contains']!r}:\n{text[:1500]}"
        )
    return text


def _ms(latency: str | None) -> float | None:
    """wrk's latency ("812.00us", "3.21ms", "1.02s") in milliseconds."""
    if not latency:
        return None
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", latency).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def _wrk_window(request: dict, seconds: int) -> dict:
    """One wrk window as ``harness.wrk`` takes it (keep-alive connections, the script counting the worker
    that answered, for a POST with the body first), but with a timeout longer than any request here: at
    wrk's default of 2 s the slowest requests are dropped uncounted while the server goes on with them."""
    connections = request["connections"]
    command = ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{seconds}s"]
    command += ["--timeout", f"{WRK_TIMEOUT}s", "--latency", "-s", request["script"]]
    for key, value in request["headers"].items():
        command += ["-H", f"{key}: {value}"]
    output = subprocess.run(command + [request["url"]], capture_output=True, text=True, check=True).stdout
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    latency = dict(re.findall(r"\s+(50|99)%\s+([\d.]+\w+)", output))
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "requests": int(re.search(r"(\d+) requests in", output).group(1)),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": sum(map(int, socket.groups())) if socket else 0,  # timeouts among them
        "p50": latency.get("50"),
        "slowest_ms": _ms(re.search(r"Latency\s+\S+\s+\S+\s+(\S+)", output).group(1)),
        "answered": {pid: int(n) for pid, n in re.findall(r"^worker (\S+) answered (\d+)$", output, re.M)},
    }


def _drain(slowest_ms: float) -> None:
    """Let the servers finish the requests wrk left in flight at the end of a window, so that the next window,
    of either side, starts on an idle machine: wait as long as the slowest request took, then until no query
    of either database has been running for three polls in a row."""
    from django.db import connection

    time.sleep(0.5 + min(slowest_ms / 1000, WRK_TIMEOUT))
    deadline, idle = time.monotonic() + WRK_TIMEOUT, 0
    with connection.cursor() as cursor:
        while idle < 3 and time.monotonic() < deadline:
            cursor.execute(RUNNING_SQL, [[KANGLE_DB, HELPDESK_DB]])
            idle = idle + 1 if cursor.fetchone()[0] == 0 else 0
            time.sleep(0.1)


def _window(request: dict, seconds: int, answered: dict[str, int], side: str) -> dict:
    """A window in which both workers answered their share, taken again up to 5 times in all when one
    answered more than 1.4 times its share (``harness.balanced_wrk``'s rule; one connection is exempt), each
    followed by ``_drain``. 2xx responses to a POST are tallied per side in ``answered``."""
    limit, errors, tries = min(1.0, 1.4 / WORKERS), 0, 0
    while True:
        tries += 1
        window = _wrk_window(request, seconds)
        errors += window["non_2xx"] + window["socket_errors"]  # a window taken again still counts them
        if request["method"] == "POST":
            answered[side] += window["requests"] - window["non_2xx"]
        _drain(window["slowest_ms"])
        balanced = request["connections"] < WORKERS or harness.busiest_share(window) <= limit
        if balanced or tries == 5:
            break
    return {**window, "tries": tries, "balanced": balanced, "errors": errors}


def _warm(request: dict, answered: dict[str, int], side: str) -> float:
    """Warm-up windows, 1 s and then four times longer until one has answered; its slowest request (ms)."""
    length = 1
    while True:
        warm = _wrk_window(request, length)
        if request["method"] == "POST":
            answered[side] += warm["requests"] - warm["non_2xx"]
        _drain(warm["slowest_ms"])
        if warm["requests"] or length >= WRK_TIMEOUT:
            return warm["slowest_ms"]
        length *= 4


def _measure(target: dict, *, seconds: int, rounds: int, answered: dict[str, int]) -> dict:
    kangle, parts = target["kangle"], target["helpdesk"]
    slowest = max(
        [_warm(kangle, answered, "kangle")]
        + [_warm(request, answered, "helpdesk") for request in parts.values()]
    )
    # A window a few requests long measures when they happened to end: a target whose slowest warm-up
    # request took more than a fifth of --seconds gets windows five times that long, on both sides.
    length = max(seconds, min(LONGEST_WINDOW, math.ceil(5 * slowest / 1000)))
    kangle_runs: list[dict] = []
    helpdesk_runs: dict[str, list[dict]] = {name: [] for name in parts}
    for _round in range(rounds):
        kangle_runs.append(_window(kangle, length, answered, "kangle"))
        for name, request in parts.items():
            helpdesk_runs[name].append(_window(request, length, answered, "helpdesk"))

    kangle_rps = [window["rps"] for window in kangle_runs]
    rates = {name: [window["rps"] for window in runs] for name, runs in helpdesk_runs.items()}
    p50 = {
        name: statistics.median(_ms(window["p50"]) for window in runs) for name, runs in helpdesk_runs.items()
    }
    if len(parts) > 1:  # the list: both requests, one after the other
        rates["pair"] = [
            1 / sum(1 / rates[name][i] for name in parts) if all(rates[name][i] for name in parts) else 0.0
            for i in range(rounds)
        ]
        p50["pair"] = sum(p50[name] for name in parts)
    headline = "pair" if len(parts) > 1 else next(iter(parts))
    windows = kangle_runs + [window for runs in helpdesk_runs.values() for window in runs]

    def ratio(name: str) -> float | None:  # a window with no response at all has no ratio
        ratios = [a / b for a, b in zip(kangle_rps, rates[name], strict=True) if b]
        return round(statistics.median(ratios), 3) if ratios else None

    def requests(runs: list[dict]) -> int:  # responses in a window: how coarse its rate is
        return round(statistics.median(window["requests"] for window in runs))

    row = {
        "connections": kangle["connections"],
        "window_s": length,
        "kangle": kangle["what"],
        "helpdesk": {name: request["what"] for name, request in parts.items()}
        if len(parts) > 1
        else parts[headline]["what"],
        "ratio": ratio(headline),
        "kangle_rps": round(statistics.median(kangle_rps), 1),
        "helpdesk_rps": round(statistics.median(rates[headline]), 1),
        "kangle_p50_ms": round(statistics.median(_ms(window["p50"]) for window in kangle_runs), 2),
        "helpdesk_p50_ms": round(p50[headline], 2),
        "kangle_requests": requests(kangle_runs),
        "helpdesk_requests": {name: requests(runs) for name, runs in helpdesk_runs.items()}
        if len(parts) > 1
        else requests(helpdesk_runs[headline]),
        "kangle_errors": sum(window["errors"] for window in kangle_runs),
        "helpdesk_errors": sum(window["errors"] for runs in helpdesk_runs.values() for window in runs),
        "retaken": sum(window["tries"] - 1 for window in windows),
        "unbalanced": sum(not window["balanced"] for window in windows),  # still lopsided after every try
    }
    if len(parts) > 1:
        row["helpdesk_parts"] = {
            name: {
                "ratio": ratio(name),
                "rps": round(statistics.median(rates[name]), 1),
                "p50_ms": round(p50[name], 2),
            }
            for name in rates
        }
        row["helpdesk"]["pair"] = (
            "both requests, as a browser showing the list asks them: 1/(1/page + 1/rows)"
        )
    return row


def _kangle_case_body() -> dict:
    """bench_cases_create.py's body: a walk-in termite case in a community of hn_admin's street."""
    from kangle.accounts.models import User

    return creation_body(User.objects.get(username="hn_admin"))


def _post(what: str, url: str, headers: dict, body: dict, connections: int, contains: str) -> dict:
    script = Path(tempfile.mkdtemp(prefix="kangle-bench-lua-")) / "create.lua"
    text = json.dumps(body, ensure_ascii=False)
    script.write_text(LUA % text + harness.WORKERS_SCRIPT.read_text(), encoding="utf-8")
    return {
        "what": what,
        "method": "POST",
        "url": url,
        "headers": headers,
        "body": text.encode(),
        "script": str(script),
        "connections": connections,
        "status": 201,
        "contains": contains,
    }


def _get(what: str, url: str, headers: dict, contains: str) -> dict:
    return {
        "what": what,
        "method": "GET",
        "url": url,
        "headers": headers,
        "script": str(harness.WORKERS_SCRIPT),
        "connections": READ_CONNECTIONS,
        "status": 200,
        "contains": contains,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk window")
    parser.add_argument("--rounds", type=int, default=3, help="window pairs per target")
    parser.add_argument("--only", default="", help="comma-separated target names")
    parser.add_argument(
        "--reuse", action="store_true", help="keep the two databases an earlier run made, when they exist"
    )
    parser.add_argument(
        "--helpdesk-home",
        default=str(Path(tempfile.gettempdir()) / "kangle-bench-helpdesk"),
        help="where django-helpdesk's virtualenv (made once) and project live",
    )
    args = parser.parse_args()
    names = ("case_list", "case_detail", "case_create_1", "case_create_4")
    wanted = set(args.only.split(",")) if args.only else set(names)
    if wanted - set(names):
        raise SystemExit(f"unknown targets {sorted(wanted - set(names))}; known: {', '.join(names)}")

    home = Path(args.helpdesk_home)
    home.mkdir(parents=True, exist_ok=True)
    print("django-helpdesk home", home, file=sys.stderr, flush=True)
    build_s = {"helpdesk_venv": _helpdesk_site(home)}
    build_s["helpdesk_data"] = _helpdesk_data(home, args.reuse)
    build_s["kangle_copy"] = _kangle_copy(args.reuse)

    env = harness.prepare_environment("sqlite", "helpdesk")  # a home and keys; the URL below wins
    env["KANGLE_DATABASE_URL"] = os.environ["KANGLE_DATABASE_URL"] = (
        f"postgresql://postgres@127.0.0.1:5432/{KANGLE_DB}"
    )
    env["DJANGO_SETTINGS_MODULE"] = os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings_bench"
    harness.setup_django()
    from kangle.accounts.models import User
    from kangle.cases.models import Case
    from kangle.cases.views import PAGE_SIZE
    from kangle.orgs.scope import scope_queryset

    auth, paths = signed_in_targets()
    case_body = _kangle_case_body()
    cases_before = Case.objects.count()
    in_scope = scope_queryset(User.objects.get(username="hn_admin"), Case.objects.all()).count()
    helpdesk = _helpdesk_helper(home, "info")
    newest = helpdesk["newest_open"]
    ticket_body = {
        "queue": helpdesk["queue"],
        "title": case_body["title"],
        "description": case_body["description"],
        "submitter_email": "resident@example.com",
        "priority": 3,
    }
    helpdesk_session = {"Cookie": helpdesk["cookie"]}
    helpdesk_token = {"Authorization": f"Token {helpdesk['token']}", "Accept": "application/json"}
    case_number = paths["case_detail_page"][0].rstrip("/").rsplit("/", 1)[-1]

    results: dict[str, dict] = {}
    answered = {"kangle": 0, "helpdesk": 0}
    with harness.gunicorn(env, workers=WORKERS) as base, _helpdesk_server(home) as other:
        list_page = _get(
            "GET /helpdesk/tickets/ (session): the HTML page, no rows",
            other + "/helpdesk/tickets/",
            helpdesk_session,
            'id="ticketTable"',
        )
        rows_path = re.search(
            r"/helpdesk/datatables_ticket_list/[A-Za-z0-9+/=]+", _check("helpdesk", list_page)
        )
        if rows_path is None:
            raise SystemExit("django-helpdesk's ticket list names no datatables_ticket_list URL")
        targets = {
            "case_list": {
                "kangle": _get(
                    "GET /cases/desk/ (session): open cases, rows in the page",
                    base + paths["case_list_page"][0],
                    auth["case_session"],
                    'data-testid="queue"',
                ),
                "helpdesk": {
                    "page": list_page,
                    "rows": _get(
                        "GET /helpdesk/datatables_ticket_list/<default query> (session): "
                        "JSON of the first page of open tickets",
                        other + rows_path.group(0) + "?draw=1&start=0&length=25&search%5Bvalue%5D=",
                        helpdesk_session,
                        '"data": [{',
                    ),
                },
            },
            "case_detail": {
                "kangle": _get(
                    "GET /cases/desk/<newest case>/ (session)",
                    base + paths["case_detail_page"][0],
                    auth["case_session"],
                    case_number,
                ),
                "helpdesk": {
                    "ticket": _get(
                        "GET /helpdesk/tickets/<newest open ticket>/ (session)",
                        f"{other}/helpdesk/tickets/{newest['id']}/",
                        helpdesk_session,
                        newest["title"],
                    )
                },
            },
        }
        for clients in (1, 4):
            targets[f"case_create_{clients}"] = {
                "kangle": _post(
                    "POST /api/v1/cases/ (bearer token)",
                    base + "/api/v1/cases/",
                    auth["case_token"],
                    case_body,
                    clients,
                    '"number"',
                ),
                "helpdesk": {
                    "create": _post(
                        "POST /helpdesk/api/tickets/ (DRF token)",
                        other + "/helpdesk/api/tickets/",
                        helpdesk_token,
                        ticket_body,
                        clients,
                        '"id"',
                    )
                },
            }
        targets = {name: target for name, target in targets.items() if name in wanted}
        for target in targets.values():  # every URL answers as it should before any timing
            _check("kangle", target["kangle"])
            for request in target["helpdesk"].values():
                text = _check("helpdesk", request)
                if request["contains"] == '"data": [{':
                    rows = json.loads(text)
                    helpdesk["list_rows"], helpdesk["list_total"] = len(rows["data"]), rows["recordsTotal"]
        harness.wrk(base + "/bench/bare", seconds=2)
        harness.wrk(other + "/healthz", seconds=2)
        time.sleep(1)
        for name, target in targets.items():
            results[name] = _measure(target, seconds=args.seconds, rounds=args.rounds, answered=answered)
            print(name, results[name], file=sys.stderr, flush=True)

    helpdesk_after = _helpdesk_helper(home, "info")
    harness.emit(
        {
            "bench": "helpdesk_side_by_side",
            "against": HELPDESK,
            "kangle_database": KANGLE_DB,
            "helpdesk_database": HELPDESK_DB,
            "kangle_cases": cases_before,
            "kangle_cases_in_list_scope": in_scope,
            "helpdesk_tickets": helpdesk["tickets"],
            "helpdesk_open_tickets": helpdesk["open"],
            "helpdesk_list_records": helpdesk.get("list_total"),  # the open tickets its list counts
            "list_rows": {"kangle": PAGE_SIZE, "helpdesk": helpdesk.get("list_rows")},
            "build_s": {key: round(value, 1) for key, value in build_s.items()},
            "server": f"gunicorn, {WORKERS} gthread workers × 4 threads each side",
            "window_s": args.seconds,
            "rounds": args.rounds,
            "created": {
                "kangle": Case.objects.count() - cases_before,
                "helpdesk": helpdesk_after["tickets"] - helpdesk["tickets"],
            },
            "answered_2xx": answered,
            "targets": results,
        }
    )


if __name__ == "__main__":
    main()
