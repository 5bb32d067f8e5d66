"""The anonymous registration form does not tell whether a phone number has an account, and is throttled."""

from __future__ import annotations

import pytest
from django.urls import reverse

from kangle.accounts.models import User
from kangle.members.models import Member
from personas import PASSWORD

from .test_pages import register_post


def post_from(client, address: str, **extra):
    client.logout()
    form = {
        "name": "赵六",
        "phone": "13812345678",
        "political_status": "full",
        "community": "KJ-C01",
        "password": "a-long-password",
        "consent": "on",
        "point": "P-A",
    }
    form.update(extra)
    return client.post(reverse("members:register") + "?point=P-A", form, REMOTE_ADDR=address)


pytestmark = pytest.mark.django_db

KNOWN = "13900000003"  # secretary_a's phone


def test_a_known_phone_with_a_wrong_password_is_not_confirmed_as_an_account(client, personas):
    users = User.objects.count()
    answer = register_post(client, phone=KNOWN, password="not-her-password")
    page = answer.content.decode()
    assert answer.status_code == 200 and not Member.objects.exists() and User.objects.count() == users
    assert "该手机号已有账号" not in page and "already" not in page.lower()
    assert answer.context["form"].errors["password"]


def test_a_known_phone_with_its_password_registers_that_account(client, personas):
    answer = register_post(client, phone=KNOWN, password=PASSWORD)
    assert answer.status_code == 302 and answer.url == reverse("members:m-home")
    assert Member.objects.get().user == personas.secretary_a


def test_guessing_is_throttled_per_phone_and_counts_towards_the_login_lockout(client, personas):
    for attempt in range(5):
        post_from(client, f"10.1.0.{attempt}", phone=KNOWN, password=f"wrong-guess-{attempt}")
    throttled = register_post(client, phone=KNOWN, password=PASSWORD)
    assert throttled.status_code == 200 and not Member.objects.exists()
    assert "尝试次数过多" in throttled.content.decode()
    # The five wrong passwords locked the account for logins too (one counter per account).
    assert not client.login(username="secretary_a", password=PASSWORD)


def test_one_client_cannot_probe_many_numbers(client, personas):
    for n in range(10):
        post_from(client, "10.2.0.1", phone=f"1371111{n:04d}")
    assert Member.objects.count() == 10
    answer = post_from(client, "10.2.0.1", phone="13711119999")
    assert "尝试次数过多" in answer.content.decode() and Member.objects.count() == 10
