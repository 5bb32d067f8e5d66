"""Shared test setup: database selection, personas, the SMS memory backend, and helpers."""

from __future__ import annotations

import os

import pytest

# Every test run gets its own field and secret keys (they are generated into KANGLE_HOME otherwise).
os.environ.setdefault("KANGLE_SECRET_KEY", "test-secret-key-" + "x" * 50)
os.environ.setdefault("KANGLE_FIELD_KEY", "test-field-key-" + "y" * 32)
os.environ.setdefault("KANGLE_SMS_BACKEND", "memory")
os.environ.setdefault("KANGLE_EMAIL_BACKEND", "memory")

pytest_plugins = ["personas"]


def pytest_collection_modifyitems(config, items):
    """Tests marked ``postgres`` need PostgreSQL; on SQLite they are skipped (CI runs the suite on both)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (set KANGLE_DATABASE_URL)")
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


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
        return self.client.post(self.prefix + path, data or {}, content_type="application/json", headers=self.headers)

    def patch(self, path, data=None):
        return self.client.patch(self.prefix + path, data or {}, content_type="application/json", headers=self.headers)
