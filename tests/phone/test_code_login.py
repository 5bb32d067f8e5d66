"""Logging in and signing up with a texted six-digit code; its bad inputs."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from kangle.accounts.models import User
from kangle.core.crypto import blind_index
from kangle.core.errors import UserError
from kangle.core.roles import Role
from kangle.core.timeutil import now
from kangle.notify import login_codes
from kangle.notify.models import LoginCode, OutboxMessage

pytestmark = pytest.mark.django_db

URL = "/notify/code/"
# The start of an hour, so the hourly window of the limit does not roll over during a test.
HOUR_START = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.UTC)


def _texted_code(phone: str) -> str:
    # The recipient is stored encrypted: compare after decryption.
    messages = OutboxMessage.objects.filter(reference="login-code").order_by("-id")
    message = next(m for m in messages if m.to == phone)
    return re.search(r"\d{6}", message.body).group(0)


def _send(client, phone: str, **extra):
    return client.post(URL, {"phone": phone, "action": "send"}, **extra)


def test_member_logs_in_with_a_code(client, personas):
    response = _send(client, "13900000006")
    assert response.status_code == 200
    assert 'data-testid="code-sent"' in response.content.decode()
    code = _texted_code("13900000006")
    response = client.post(URL, {"phone": "13900000006", "code": code, "action": "verify"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(personas.member.pk)
    client.logout()
    again = client.post(URL, {"phone": "13900000006", "code": code, "action": "verify"})
    assert again.status_code == 200 and "_auth_user_id" not in client.session  # a code works once


def test_full_width_digits_and_spaces_in_the_number_are_the_same_number(client, personas):
    _send(client, "１３９ ００００ ０００６")
    code = _texted_code("13900000006")
    response = client.post(URL, {"phone": "139-0000-0006", "code": code, "action": "verify"})
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(personas.member.pk)


def test_known_and_unknown_numbers_get_the_same_answer(client, personas):
    known = _send(client, "13900000006").content.decode()
    unknown = _send(client, "13911112222").content.decode()

    def strip(html):  # the typed number and the CSRF tokens differ, nothing else may
        return re.sub(r'"X-CSRFToken": "[^"]*"', "", re.sub(r'value="[^"]*"', "", html))

    assert strip(known) == strip(unknown)
    assert OutboxMessage.objects.filter(reference="login-code").count() == 2


def test_a_wrong_code_is_refused_at_its_field_and_the_number_is_kept(client, personas):
    _send(client, "13900000006")
    code = _texted_code("13900000006")
    wrong = "000000" if code != "000000" else "111111"
    response = client.post(URL, {"phone": "13900000006", "code": wrong, "action": "verify"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "验证码不正确或已过期" in html
    assert 'id="code-error"' in html and 'aria-invalid="true"' in html
    assert 'value="13900000006"' in html
    assert "_auth_user_id" not in client.session
    assert "The code is wrong" not in html  # Chinese page, Chinese message only


def test_an_expired_code_is_refused(personas):
    login_codes.code_request(phone="13900000006", address="10.0.0.1", now=HOUR_START)
    code = _texted_code("13900000006")
    with pytest.raises(UserError) as caught:
        login_codes.code_verify(phone="13900000006", code=code, now=HOUR_START + dt.timedelta(minutes=5))
    assert caught.value.code == "wrong_code"
    # A minute before expiry it still works.
    login_codes.code_request(
        phone="13900000006", address="10.0.0.1", now=HOUR_START + dt.timedelta(minutes=6)
    )
    code = _texted_code("13900000006")
    assert login_codes.code_verify(
        phone="13900000006", code=code, now=HOUR_START + dt.timedelta(minutes=10)
    ) == ("13900000006")


def test_a_code_works_once_and_five_wrong_tries_burn_it(personas):
    login_codes.code_request(phone="13900000006", address="10.0.0.1", now=HOUR_START)
    code = _texted_code("13900000006")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(login_codes.MAX_TRIES_PER_CODE):
        with pytest.raises(UserError):
            login_codes.code_verify(phone="13900000006", code=wrong, now=HOUR_START)
    with pytest.raises(UserError):  # the right code no longer helps once the tries are used up
        login_codes.code_verify(phone="13900000006", code=code, now=HOUR_START)
    assert LoginCode.objects.get().attempts == login_codes.MAX_TRIES_PER_CODE


def test_the_sixth_code_request_within_the_hour_is_refused(personas):
    for minute in range(5):
        login_codes.code_request(
            phone="13900000006",
            address=f"10.0.0.{minute}",
            now=HOUR_START + dt.timedelta(minutes=minute * 10),
        )
    with pytest.raises(UserError) as caught:
        login_codes.code_request(
            phone="13900000006", address="10.0.0.9", now=HOUR_START + dt.timedelta(minutes=55)
        )
    assert caught.value.code == "too_many_codes" and caught.value.field == "phone"
    assert OutboxMessage.objects.filter(reference="login-code").count() == 5


def test_requests_are_limited_per_address_too(personas):
    for n in range(login_codes.REQUESTS_PER_ADDRESS_PER_HOUR):
        login_codes.code_request(phone=f"1391111{n:04d}", address="10.9.9.9", now=HOUR_START)
    with pytest.raises(UserError):
        login_codes.code_request(phone="13922223333", address="10.9.9.9", now=HOUR_START)


def test_a_malformed_number_is_named_at_its_field(client, db):
    html = _send(client, "12345").content.decode()
    assert "请填写 11 位手机号" in html and 'id="phone-error"' in html
    assert not OutboxMessage.objects.exists()


def test_staff_keep_their_passwords(client, personas):
    personas.secretary_a.set_phone("13955556666")
    personas.secretary_a.save()
    _send(client, "13955556666")
    response = client.post(
        URL, {"phone": "13955556666", "code": _texted_code("13955556666"), "action": "verify"}
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("persona", ["grid_leader", "contractor", "resident"])
def test_grid_leaders_contractors_and_residents_log_in_with_a_code(client, personas, persona):
    user = getattr(personas, persona)
    user.set_phone("13966667777")
    user.save()
    _send(client, "13966667777")
    response = client.post(
        URL, {"phone": "13966667777", "code": _texted_code("13966667777"), "action": "verify"}
    )
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def test_a_new_resident_signs_up_in_one_step_and_reports_straight_away(client, personas):
    _send(client, "13977778888")
    response = client.post(
        URL, {"phone": "13977778888", "code": _texted_code("13977778888"), "action": "verify"}
    )
    assert response["Location"] == "/notify/signup/"
    page = client.get("/notify/signup/").content.decode()
    assert "139****8888" in page
    response = client.post(
        "/notify/signup/", {"display_name": "王阿姨", "community": personas.tree.community_a.code}
    )
    assert response["Location"] == "/cases/report/"
    user = User.objects.get(phone_hash=blind_index("13977778888"))
    assert user.roles == {Role.RESIDENT} and not user.has_usable_password()
    assert client.get("/cases/report/").status_code == 200
    # A second tap on the button does not make a second account.
    again = client.post(
        "/notify/signup/", {"display_name": "王阿姨", "community": personas.tree.community_a.code}
    )
    assert again["Location"] == "/cases/report/"
    assert User.objects.filter(display_name="王阿姨").count() == 1


def test_sign_up_without_a_verified_number_goes_back_to_the_code(client, personas):
    response = client.post(
        "/notify/signup/", {"display_name": "x", "community": personas.tree.community_a.code}
    )
    assert response["Location"] == "/notify/code/"
    assert not User.objects.filter(display_name="x").exists()


def test_sign_up_names_the_missing_field_and_keeps_what_was_typed(client, personas):
    _send(client, "13977778888")
    client.post(URL, {"phone": "13977778888", "code": _texted_code("13977778888"), "action": "verify"})
    html = client.post("/notify/signup/", {"display_name": "王阿姨", "community": ""}).content.decode()
    assert 'id="community-error"' in html and 'value="王阿姨"' in html


def test_verified_number_expires_for_sign_up(client, personas, time_machine):
    time_machine.move_to(now(), tick=False)
    _send(client, "13977778888")
    client.post(URL, {"phone": "13977778888", "code": _texted_code("13977778888"), "action": "verify"})
    time_machine.shift(dt.timedelta(minutes=16))
    assert client.get("/notify/signup/")["Location"] == "/notify/code/"
