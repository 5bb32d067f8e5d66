"""Every case page and endpoint: anonymous, the outsider (secretary_b) and a wrong role."""

import pytest

from cases.helpers import advance, report
from kangle.cases.models import CasePhoto

pytestmark = pytest.mark.django_db

CASE_PAGES = [
    ("get", "/cases/desk/{n}/"),
    ("post", "/cases/desk/{n}/accept/"),
    ("post", "/cases/desk/{n}/cancel/"),
    ("post", "/cases/desk/{n}/pause/"),
    ("get", "/cases/c/{n}/"),
    ("post", "/cases/c/{n}/accept/"),
    ("post", "/cases/c/{n}/finish/"),
    ("post", "/cases/c/{n}/reveal/"),
    ("get", "/cases/mine/{n}/"),
    ("get", "/cases/track/{n}/"),
    ("post", "/cases/rate/{n}/"),
    ("get", "/files/case-photo/{p}/"),
    ("get", "/api/v1/cases/{n}"),
    ("post", "/api/v1/cases/{n}/accept"),
    ("post", "/api/v1/cases/{n}/contractor-accept"),
]
LIST_PAGES = [
    "/cases/desk/",
    "/cases/desk/overdue/",
    "/cases/desk/new/",
    "/cases/figures/",
    "/cases/figures.xlsx",
    "/cases/c/",
    "/cases/report/",
    "/cases/mine/",
]


@pytest.fixture
def dispatched(personas, termite, contractor_org, photo):
    case = advance(personas, report(personas, termite), photo, to="on_site")
    return case, CasePhoto.objects.filter(case=case).first()


def _call(client, method, url, dispatched):
    case, photo = dispatched
    url = url.format(n=case.number, p=photo.pk)
    if method == "get":
        return client.get(url)
    if url.startswith("/api/"):
        return client.post(url, {}, content_type="application/json")
    return client.post(url, {})


@pytest.mark.parametrize(("method", "url"), CASE_PAGES)
def test_outsider_gets_404_on_every_case_page(client, personas, dispatched, method, url):
    client.force_login(personas.secretary_b)
    assert _call(client, method, url, dispatched).status_code == 404


@pytest.mark.parametrize(("method", "url"), CASE_PAGES)
def test_wrong_role_gets_no_case_page(client, personas, dispatched, method, url):
    # A staff page refuses a member before it looks anything up (403); a contractor's page for a case that
    # is not theirs is a 404. Neither says whether the case exists.
    client.force_login(personas.member)
    assert _call(client, method, url, dispatched).status_code in (403, 404)


@pytest.mark.parametrize(("method", "url"), CASE_PAGES)
def test_anonymous_never_sees_a_case(client, personas, dispatched, method, url):
    status = _call(client, method, url, dispatched).status_code
    assert status in (302, 401, 403, 404)
    if status == 302:
        response = _call(client, method, url, dispatched)
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", LIST_PAGES)
def test_list_pages_anonymous_redirect_to_login(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("url", LIST_PAGES)
def test_list_pages_for_a_member_are_refused(client, personas, url):
    client.force_login(personas.member)
    assert client.get(url).status_code in (403, 404)


def _count(client, url, django_assert_max_num_queries):
    with django_assert_max_num_queries(40) as captured:
        assert client.get(url).status_code == 200
    return len(captured.captured_queries)


def test_contractor_and_resident_lists_do_not_grow_with_rows(
    client, personas, termite, contractor_org, photo, django_assert_max_num_queries
):
    from kangle.cases.models import Case

    first = advance(personas, report(personas, termite, address="A 1"), photo, to="dispatched")
    Case.objects.filter(pk=first.pk).update(reporter=personas.resident)
    client.force_login(personas.contractor)
    contractor_one = _count(client, "/cases/c/", django_assert_max_num_queries)
    client.force_login(personas.resident)
    resident_one = _count(client, "/cases/mine/", django_assert_max_num_queries)
    for address in ("A 2", "A 3"):
        case = advance(personas, report(personas, termite, address=address), photo, to="dispatched")
        Case.objects.filter(pk=case.pk).update(reporter=personas.resident)
    client.force_login(personas.contractor)
    assert _count(client, "/cases/c/", django_assert_max_num_queries) == contractor_one
    client.force_login(personas.resident)
    assert _count(client, "/cases/mine/", django_assert_max_num_queries) == resident_one
