"""Posters and QR codes print the address the server was reached at when KANGLE_BASE_URL is unset."""

from __future__ import annotations

import pytest
from django.core import checks

from kangle.core.public_url import base_url_check

pytestmark = pytest.mark.django_db


def test_poster_uses_the_request_address_when_the_base_url_is_unset(client, personas, settings):
    settings.KANGLE_BASE_URL_SET = False
    settings.ALLOWED_HOSTS = ["kangle.example.org"]
    client.force_login(personas.street_admin)
    page = client.get(
        f"/orgs/registration-points/{personas.tree.point_a.code}/poster/", HTTP_HOST="kangle.example.org"
    ).content.decode()
    assert "http://kangle.example.org/r/P-A/" in page and "127.0.0.1" not in page


def test_a_configured_base_url_wins(client, personas, settings):
    settings.KANGLE_BASE_URL_SET = True
    settings.KANGLE_BASE_URL = "https://kangle.example.gov.cn"
    settings.ALLOWED_HOSTS = ["10.0.0.5"]
    client.force_login(personas.street_admin)
    page = client.get(
        f"/orgs/registration-points/{personas.tree.point_a.code}/poster/", HTTP_HOST="10.0.0.5"
    ).content.decode()
    assert "https://kangle.example.gov.cn/r/P-A/" in page


def test_start_up_warns_when_the_base_url_is_loopback(settings):
    settings.KANGLE_BASE_URL = "http://127.0.0.1:8000"
    [warning] = base_url_check()
    assert warning.id == "kangle.W001" and warning.level == checks.WARNING
    assert any(message.id == "kangle.W001" for message in checks.run_checks(include_deployment_checks=True))
    settings.KANGLE_BASE_URL = "https://kangle.example.gov.cn"
    assert base_url_check() == []
