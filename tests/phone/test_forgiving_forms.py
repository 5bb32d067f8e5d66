"""报到 in two short steps, forms that forgive: errors at their field in the reader's language, typed values
kept, the micro-grid found by typing, seven day rows of toggles, a community outside the point refused."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from kangle.accounts.models import User
from kangle.members.models import Member
from kangle.orgs.models import OrgKind
from personas import make_unit

pytestmark = pytest.mark.django_db

URL = reverse("members:register") + "?point=P-A"


def _post(client, url=URL, **extra):
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
    return client.post(url, form)


def test_step_one_asks_who_and_where_only(client, personas):
    page = client.get(URL).content.decode()
    for later in ("availability", "skills", "household", "willingness"):
        assert f'name="{later}"' not in page
    # Rules are on the page before anything is typed.
    assert "至少 8 位" in page and "18 位" in page and "11 位数字" in page


def test_an_error_is_shown_at_its_field_in_chinese_only_and_every_value_is_kept(client, personas):
    page = _post(client, phone="1381234567", address="康健路 300 弄 5 号 201 室").content.decode()
    assert not Member.objects.exists() and not User.objects.filter(display_name="赵六").exists()
    assert 'aria-invalid="true"' in page and 'id="id_phone_error"' in page
    assert "手机号格式不正确" in page and "Malformed" not in page
    for kept in (
        'value="赵六"',
        'value="1381234567"',
        'value="a-long-password"',
        "康健路 300 弄 5 号 201 室",
    ):
        assert kept in page


def test_english_readers_get_english_only(client, personas):
    client.cookies["django_language"] = "en"
    with translation.override("en"):
        page = _post(client, phone="1381234567").content.decode()
    assert "Malformed mobile number" in page and "手机号格式不正确" not in page


def test_a_community_outside_the_points_street_is_refused(client, personas):
    other_community = make_unit(personas.tree.other_street, OrgKind.COMMUNITY, "XX-C01", "别处居民区")
    page = _post(client, community=other_community.code).content.decode()
    assert 'id="id_community_error"' in page
    assert not Member.objects.exists()
    # The same from a street-level point: only that street's communities are accepted.
    street_url = reverse("members:register") + f"?point={personas.tree.point_street.code}"
    page = _post(
        client, url=street_url, point=personas.tree.point_street.code, community=other_community.code
    )
    assert 'id="id_community_error"' in page.content.decode() and not Member.objects.exists()


def test_a_double_submit_registers_once(client, personas):
    first = _post(client)
    second = _post(client)
    assert first.status_code == 302 and first.url == reverse("members:m-home")
    assert second.status_code == 302  # already has a file: sent to it, nothing new
    assert Member.objects.count() == 1 and User.objects.filter(display_name="赵六").count() == 1


def test_micro_grid_is_found_by_typing_the_building(client, personas):
    tree = personas.tree
    response = client.get(reverse("members:place-search"), {"point": "P-A", "place_query": "1号楼组"})
    html = response.content.decode()
    assert f'value="{tree.microgrid_a.code}"' in html and "康乐1小区" in html
    # By estate and micro-grid words together.
    html = client.get(reverse("members:place-search"), {"point": "P-A", "place_query": "康乐1小区 1号微网格"})
    assert f'value="{tree.microgrid_a.code}"' in html.content.decode()
    # Nothing outside the point's community, and a friendly line when nothing matches.
    html = client.get(
        reverse("members:place-search"), {"point": "P-A", "place_query": "桂林"}
    ).content.decode()
    assert 'type="radio"' not in html and "没有找到" in html


def test_the_search_works_without_a_script_and_keeps_the_form(client, personas):
    page = _post(client, find_place="1", place_query="1号楼组").content.decode()
    assert not Member.objects.exists()
    assert f'value="{personas.tree.microgrid_a.code}"' in page and 'value="赵六"' in page
    assert 'aria-invalid="true"' not in page  # searching is not submitting
    response = _post(client, microgrid=personas.tree.microgrid_a.code)
    assert response.status_code == 302
    assert Member.objects.get().microgrid == personas.tree.microgrid_a


def test_step_two_has_seven_day_rows_of_three_toggles(client, personas):
    _post(client)
    page = client.get(reverse("members:me-edit")).content.decode()
    assert page.count('<th scope="row">') == 7
    assert page.count('class="ph-toggle"') == 21
    assert 'name="skills"' in page and 'name="household"' in page
    form = {
        "name": "赵六",
        "phone": "13812345678",
        "political_status": "full",
        "availability": ["sat_am", "sun_eve"],
    }
    assert client.post(reverse("members:me-edit"), form).status_code == 302
    member = Member.objects.get()
    page = client.get(reverse("members:me-edit")).content.decode()
    assert page.count("checked") >= 2 and member.pk
