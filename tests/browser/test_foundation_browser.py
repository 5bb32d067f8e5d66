import pytest

from conftest import browser_login
from personas import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_secretary_on_a_phone_sees_own_community_not_the_neighbours(phone_page, personas, tmp_path):
    browser_login(phone_page, "secretary_a", PASSWORD)
    body = phone_page.locator("main")
    assert "康乐居民区" in body.inner_text()
    assert "桂林苑居民区" not in phone_page.content()
    # Opening the neighbour's unit directly is a 404, not a 403.
    response = phone_page.goto(f"/orgs/units/{personas.tree.community_b.code}/")
    assert response.status == 404
    phone_page.screenshot(path=tmp_path / "secretary-phone.png", full_page=True)
