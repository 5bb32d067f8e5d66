"""Shared test setup: database selection, personas, the SMS memory backend, and helpers."""

from __future__ import annotations

import os

import pytest

# Every test run gets its own field and secret keys (they are generated into KANGLE_HOME otherwise).
os.environ.setdefault("KANGLE_SECRET_KEY", "test-secret-key-" + "x" * 50)
os.environ.setdefault("KANGLE_FIELD_KEY", "test-field-key-" + "y" * 32)
os.environ.setdefault("KANGLE_SMS_BACKEND", "memory")
os.environ.setdefault("KANGLE_EMAIL_BACKEND", "memory")
# Playwright's sync API keeps an event loop in the test thread; the ORM calls made next to it are ordinary sync code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytest_plugins = ["personas"]


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need PostgreSQL; on SQLite they are skipped (CI runs the suite on both).

    Tests marked ``own_home`` run kangle as a process whose environment drops the suite's own variables
    (its SQLite home, or a database URL of its own): the suite's database plays no part, so they would only
    repeat on PostgreSQL what the SQLite run has done, and the PostgreSQL run leaves them out.

    Under pytest-xdist (``-n auto``) the tests of one file run on one worker (``--dist loadfile`` in
    pyproject.toml), so a module-scoped fixture such as the CLI tests' demo home is still built once.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        repeated = pytest.mark.skip(reason="runs on a home of its own: the SQLite run covers it")
        for item in items:
            if "own_home" in item.keywords:
                item.add_marker(repeated)
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set KANGLE_DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True, scope="session")
def _test_settings(tmp_path_factory):
    """Settings every test runs with.

    pytest-django loads kangle.settings before this module runs, so the environment defaults above come too
    late for it: the SMS backend is set here. Argon2 (settings.PASSWORD_HASHERS[0]) costs ~0.4 s a hash;
    tests hash with MD5 and still verify Argon2 (tests/test_settings.py checks the real settings use Argon2).

    Files a test writes under KANGLE_HOME (uploads, the file SMS log, the file mailbox) go to a folder of
    this test process's own: under pytest-xdist every worker has its own base temporary directory, so
    parallel workers never share one.
    """
    from django.conf import settings
    from django.test import override_settings

    home = tmp_path_factory.mktemp("kangle-home")
    override = override_settings(
        PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher", *settings.PASSWORD_HASHERS],
        KANGLE_SMS_BACKEND="kangle.notify.sms.MemoryBackend",
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        MEDIA_ROOT=home / "media",
        KANGLE_SMS_DIR=home / "sms",
        EMAIL_FILE_PATH=home / "mail",
    )
    override.enable()
    yield
    override.disable()


@pytest.fixture(autouse=True)
def _sms_outbox():
    from kangle.notify.sms import MemoryBackend

    MemoryBackend.outbox.clear()
    yield MemoryBackend.outbox


@pytest.fixture
def api(client):
    """A JSON client for /api/v1/ on the session of ``client`` (log in with client.force_login)."""
    return JsonApi(client)


class JsonApi:
    prefix = "/api/v1"

    def __init__(self, client, token: str | None = None):
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"} if token else {}

    def get(self, path, **params):
        return self.client.get(self.prefix + path, params, headers=self.headers)

    def post(self, path, data=None):
        return self.client.post(
            self.prefix + path, data or {}, content_type="application/json", headers=self.headers
        )

    def patch(self, path, data=None):
        return self.client.patch(
            self.prefix + path, data or {}, content_type="application/json", headers=self.headers
        )


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}
DESKTOP = {"viewport": {"width": 1280, "height": 860}}


@pytest.fixture(scope="session")
def chromium():
    """One Chromium for the session (Debian's, never a downloaded build)."""
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed")
    with playwright_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def phone_page(chromium, live_server):
    """A phone-sized page; ``phone_page.goto(path)`` is relative to the live server."""
    context = chromium.new_context(base_url=live_server.url, locale="zh-CN", **PHONE)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def desk_page(chromium, live_server):
    """A desktop-sized page for the staff workbench, in its own browser context (own cookies)."""
    context = chromium.new_context(base_url=live_server.url, locale="zh-CN", **DESKTOP)
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def browser_login(page, username: str, password: str) -> None:
    page.goto("/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("#login-submit")
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


@pytest.fixture(autouse=True)
def _reference_seed(request):
    """Skills, the service catalogue and the case categories come from data migrations. A transactional test
    (browser tests, thread tests) ends with a flush that deletes them, and with tests spread over workers
    any later test on that worker may be next: put them back, with the migrations' own idempotent seeds."""
    names = request.fixturenames
    if "transactional_db" in names:
        request.getfixturevalue("transactional_db")
    elif "db" in names or request.node.get_closest_marker("django_db"):
        request.getfixturevalue("db")
    else:
        return
    import importlib

    from django.apps import apps as django_apps

    from kangle.cases import reference_cache

    # Tests write categories with the ORM and roll them back: no test may see another's cached copy.
    reference_cache.forget()

    from kangle.cases.defaults import seed as seed_cases
    from kangle.cases.models import CaseCategory, Milestone, SlaPolicy
    from kangle.members.models import Skill
    from kangle.posts.models import ServiceAspect

    if not Skill.objects.exists():
        importlib.import_module("kangle.members.migrations.0002_seed_skills").seed(django_apps, None)
    if not ServiceAspect.objects.exists():
        importlib.import_module("kangle.posts.migrations.0002_seed_catalogue").seed(django_apps, None)
    if not CaseCategory.objects.exists():
        seed_cases(SlaPolicy, Milestone, CaseCategory)
