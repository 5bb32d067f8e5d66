"""Login by username or phone, the generic failure message, lockout after repeated failures, session expiry."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings

from kangle.accounts.backends import SCOPE
from kangle.core import throttle
from kangle.core.models import Throttle
from personas import PASSWORD

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 5, 11, 1, 30, tzinfo=dt.UTC)
GENERIC_ZH = "用户名或密码错误。"
GENERIC_EN = "Incorrect username or password."


def post_login(client, username, password, *, english=False):
    if english:
        client.cookies["django_language"] = "en"
    return client.post("/accounts/login/", {"username": username, "password": password})


def logged_in_as(client) -> str | None:
    response = client.get("/api/v1/accounts/me")
    return response.json()["username"] if response.status_code == 200 else None


def form_errors(response) -> list[tuple[str, str]]:
    errors = response.context["form"].non_field_errors()
    return [(error.code, str(text)) for error, text in zip(errors.as_data(), errors, strict=True)]


def test_login_by_username(client, personas):
    response = post_login(client, "secretary_a", PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_as(client) == "secretary_a"


@pytest.mark.parametrize(
    "typed",
    [
        "13900000003",
        "１３９０００００００３",
        "139 0000 0003",
        "+86 139-0000-0003",
        " 0086１３９0000０００3 ",
    ],
)
def test_login_by_phone_in_any_usual_spelling(client, personas, typed):
    response = post_login(client, typed, PASSWORD)
    assert response.status_code == 302, typed
    assert logged_in_as(client) == "secretary_a"


def test_login_goes_to_next_but_never_off_site(client, personas):
    response = client.post(
        "/accounts/login/?next=/orgs/venues/", {"username": "secretary_a", "password": PASSWORD}
    )
    assert response["Location"] == "/orgs/venues/"
    client.logout()
    response = client.post(
        "/accounts/login/?next=https://evil.example/", {"username": "secretary_a", "password": PASSWORD}
    )
    assert response["Location"] == "/"


def test_wrong_password_and_unknown_user_get_the_same_generic_message(client, personas):
    wrong = post_login(client, "secretary_a", "not the password")
    unknown = post_login(client, "no_such_person", "not the password")
    assert wrong.status_code == unknown.status_code == 200
    assert form_errors(wrong) == form_errors(unknown) == [("invalid_login", GENERIC_ZH)]
    assert GENERIC_ZH in wrong.content.decode()
    english = post_login(client, "secretary_a", "not the password", english=True)
    assert form_errors(english) == [("invalid_login", GENERIC_EN)]
    assert logged_in_as(client) is None


def _hits(key: str) -> int:
    row = Throttle.objects.filter(scope=SCOPE, key_hash=throttle.key_hash(SCOPE, key)).first()
    return row.hits if row else 0


def test_each_failure_counts_towards_the_lockout(client, personas):
    post_login(client, "secretary_a", "wrong-1")
    post_login(client, "secretary_a", "wrong-2")
    post_login(client, "no_such_person", "wrong-3")  # unknown names are counted too
    assert _hits(f"user:{personas.secretary_a.pk}") == 2
    assert _hits("unknown:no_such_person") == 1
    # A success clears the count.
    assert post_login(client, "secretary_a", PASSWORD).status_code == 302
    assert _hits(f"user:{personas.secretary_a.pk}") == 0


def test_username_and_phone_share_one_lockout(client, personas):
    """The account is locked, not the spelling: guesses by username and by phone add up."""
    user = personas.secretary_a
    user.set_phone("13912345678")
    user.save()
    with time_machine.travel(T0, tick=False):
        for attempt in range(3):
            post_login(client, "secretary_a", f"wrong-{attempt}")
        post_login(client, "139 1234 5678", "wrong-3")
        response = post_login(client, "+8613912345678", "wrong-4", english=True)
        assert form_errors(response)[0][0] == "locked"
        assert post_login(client, "13912345678", PASSWORD).status_code == 200
        assert logged_in_as(client) is None


def _lock(client, identifier="secretary_a"):
    with time_machine.travel(T0, tick=False):
        for attempt in range(settings.KANGLE_LOGIN_MAX_FAILURES):
            response = post_login(client, identifier, f"wrong-{attempt}", english=True)
    return response


def test_the_last_allowed_failure_locks_and_says_so(client, personas):
    assert settings.KANGLE_LOGIN_MAX_FAILURES == 5 and settings.KANGLE_LOGIN_LOCK_MINUTES == 15
    with time_machine.travel(T0, tick=False):
        for attempt in range(4):
            response = post_login(client, "secretary_a", f"wrong-{attempt}", english=True)
            assert form_errors(response)[0][0] == "invalid_login"
        # one below the limit, the right password still works
    with time_machine.travel(T0, tick=False):
        assert post_login(client, "secretary_a", PASSWORD).status_code == 302
    client.logout()
    response = _lock(client)
    assert form_errors(response) == [("locked", "Too many failed attempts. Try again in 15 minutes.")]


@pytest.mark.parametrize(
    ("minutes_later", "locked"),
    [(1, True), (14, True), (15, False), (16, False)],
)
def test_the_correct_password_is_refused_until_the_lock_window_passes(
    client, personas, minutes_later, locked
):
    _lock(client)
    with time_machine.travel(T0 + dt.timedelta(minutes=minutes_later), tick=False):
        response = post_login(client, "secretary_a", PASSWORD, english=True)
        if locked:
            assert response.status_code == 200
            assert form_errors(response) == [("locked", "Too many failed attempts. Try again in 15 minutes.")]
            assert logged_in_as(client) is None
        else:
            assert response.status_code == 302
            assert logged_in_as(client) == "secretary_a"


def test_the_lockout_message_is_chinese_by_default(client, personas):
    _lock(client)
    client.cookies.pop("django_language")
    with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
        response = post_login(client, "secretary_a", PASSWORD)
    assert "登录失败次数过多，请 15 分钟后再试。" in response.content.decode()


def test_an_unknown_name_is_locked_the_same_way(client, personas):
    """The lockout does not tell which accounts exist."""
    response = _lock(client, "no_such_person")
    assert form_errors(response)[0][0] == "locked"


def test_a_lockout_limit_from_settings_is_honoured(client, personas, settings):
    settings.KANGLE_LOGIN_MAX_FAILURES = 2
    settings.KANGLE_LOGIN_LOCK_MINUTES = 3
    with time_machine.travel(T0, tick=False):
        post_login(client, "secretary_a", "wrong")
        response = post_login(client, "secretary_a", "wrong", english=True)
    assert form_errors(response) == [("locked", "Too many failed attempts. Try again in 3 minutes.")]
    with time_machine.travel(T0 + dt.timedelta(minutes=2), tick=False):
        assert post_login(client, "secretary_a", PASSWORD).status_code == 200
    with time_machine.travel(T0 + dt.timedelta(minutes=3), tick=False):
        assert post_login(client, "secretary_a", PASSWORD).status_code == 302


def test_old_failures_do_not_add_up_to_a_lockout(client, personas):
    """Failures spread wider than the window start a new streak."""
    for i in range(settings.KANGLE_LOGIN_MAX_FAILURES - 1):
        with time_machine.travel(T0 + dt.timedelta(minutes=16 * i), tick=False):
            post_login(client, "secretary_a", "wrong")
    later = T0 + dt.timedelta(minutes=16 * settings.KANGLE_LOGIN_MAX_FAILURES)
    with time_machine.travel(later, tick=False):
        post_login(client, "secretary_a", "wrong")
        assert post_login(client, "secretary_a", PASSWORD).status_code == 302


def test_inactive_users_cannot_log_in(client, personas):
    personas.secretary_a.is_active = False
    personas.secretary_a.save()
    response = post_login(client, "secretary_a", PASSWORD)
    assert form_errors(response) == [("invalid_login", GENERIC_ZH)]


def test_logout_needs_post(client, personas):
    client.force_login(personas.secretary_a)
    assert client.get("/accounts/logout/").status_code == 405
    assert logged_in_as(client) == "secretary_a"
    assert client.post("/accounts/logout/").status_code == 302
    assert logged_in_as(client) is None


# --- session expiry ---------------------------------------------------------------------------------------


def test_session_age_comes_from_kangle_session_hours():
    assert settings.SESSION_COOKIE_AGE == 8 * 3600  # KANGLE_SESSION_HOURS default


@pytest.mark.parametrize(
    ("minutes_later", "still_in"), [(8 * 60 - 1, True), (8 * 60, False), (8 * 60 + 1, False)]
)
def test_a_session_expires_after_session_cookie_age(client, personas, minutes_later, still_in):
    with time_machine.travel(T0, tick=False):
        response = post_login(client, "secretary_a", PASSWORD)
        assert response.status_code == 302
        assert client.cookies[settings.SESSION_COOKIE_NAME]["max-age"] == settings.SESSION_COOKIE_AGE
    with time_machine.travel(T0 + dt.timedelta(minutes=minutes_later), tick=False):
        response = client.get("/")
        if still_in:
            assert response.status_code == 200
        else:
            assert response.status_code == 302
            assert response["Location"].startswith("/accounts/login/")


def test_a_locked_phone_stays_locked_however_it_is_spelled(client, personas):
    """Spaces, +86 or full-width digits name the same phone: they must not open a fresh set of attempts."""
    _lock(client, "13900000003")
    with time_machine.travel(T0 + dt.timedelta(minutes=1), tick=False):
        for spelling in ["139 0000 0003", "+8613900000003", "１３９０００００００３", "0086 139-0000-0003"]:
            response = post_login(client, spelling, PASSWORD, english=True)
            assert response.status_code == 200, spelling
            assert form_errors(response)[0][0] == "locked", spelling
    assert logged_in_as(client) is None


def test_failures_under_different_spellings_of_a_phone_add_up(client, personas):
    spellings = [
        "13900000003",
        "139 0000 0003",
        "+8613900000003",
        "１３９０００００００３",
        "0086 139-0000-0003",
    ]
    with time_machine.travel(T0, tick=False):
        for spelling in spellings[: settings.KANGLE_LOGIN_MAX_FAILURES]:
            response = post_login(client, spelling, "wrong", english=True)
    assert form_errors(response)[0][0] == "locked"
