"""Pages are in simplified Chinese by default; the header's switch changes to English and the choice sticks."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def lang_of(response) -> str:
    text = response.content.decode()
    start = text.index('<html lang="') + len('<html lang="')
    return text[start : text.index('"', start)]


def test_the_default_language_is_simplified_chinese(client):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert lang_of(response) == "zh-Hans"
    page = response.content.decode()
    assert "登录" in page  # "Log in", from the zh_Hans catalogue
    assert "Log in" not in page
    # The switch offers English.
    assert 'name="language" value="en"' in page


def test_a_chinese_browser_gets_simplified_chinese(client):
    """zh-CN (what phones in the street send) maps to zh-hans."""
    response = client.get("/accounts/login/", headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    assert lang_of(response) == "zh-Hans"


def test_the_switch_goes_to_english_and_back_and_persists(client, personas):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/accounts/login/"})
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"
    assert client.cookies["django_language"].value == "en"
    english = client.get("/accounts/login/")
    assert lang_of(english) == "en"
    assert "Log in" in english.content.decode()
    assert 'name="language" value="zh-hans"' in english.content.decode()
    # It persists across pages and a login.
    client.post("/accounts/login/", {"username": "secretary_a", "password": "correct horse battery"})
    home = client.get("/")
    assert home.status_code == 200
    assert lang_of(home) == "en"
    assert lang_of(client.get("/orgs/units/KJ-C01/")) == "en"
    # And back to Chinese.
    client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/"})
    assert lang_of(client.get("/")) == "zh-Hans"


def test_api_errors_carry_both_languages_whatever_the_page_language(client, personas):
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/api/v1/orgs/units").json()
    assert body["message"] == "需要登录或有效的 API 令牌"
    assert body["message_en"] == "A session or a valid API token is required"


def test_an_unknown_language_is_ignored(client):
    client.post("/i18n/setlang/", {"language": "xx", "next": "/accounts/login/"})
    assert lang_of(client.get("/accounts/login/")) == "zh-Hans"
