"""The audit-log viewer: filters, detail, audited Excel export, personal-data view, scoped by org path."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from kangle.core import audit
from kangle.core.models import AuditEvent
from kangle.core.roles import Role
from personas import make_user

pytestmark = pytest.mark.django_db
T0 = dt.datetime(2026, 6, 10, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def events(personas):
    tree = personas.tree
    return {
        "reveal_a": audit.record(
            actor=personas.secretary_a, verb="member.reveal", obj=tree.community_a, object_id=7, now=T0
        ),
        "grant_b": audit.record(
            actor=personas.street_admin, verb="role.assign", obj=tree.community_b, now=T0
        ),
        "other_street": audit.record(actor=None, verb="role.assign", obj=tree.other_street, now=T0),
        "formula": audit.record(
            actor=personas.secretary_a,
            verb="member.export",
            obj=tree.community_a,
            details={"q": "=1+1"},
            now=T0,
        ),
    }


def listed(response):
    return {e.pk for e in response.context["page"]}


def test_street_admin_sees_the_street_area_admin_the_area(client, personas, events):
    client.force_login(personas.street_admin)
    response = client.get("/people/audit/")
    assert response.status_code == 200
    seen = listed(response)
    assert events["reveal_a"].pk in seen and events["grant_b"].pk in seen
    assert events["other_street"].pk not in seen
    client.force_login(personas.area_admin)
    seen = listed(client.get("/people/audit/"))
    assert events["reveal_a"].pk in seen and events["grant_b"].pk not in seen


def test_filters_and_the_personal_data_view(client, personas, events):
    client.force_login(personas.street_admin)

    def seen(**params):
        # The personas' own account events are from today; the test's events are from T0.
        return listed(client.get("/people/audit/", {"until": "2026-06-30", **params}))

    assert seen(person="secretary_a") == {events["reveal_a"].pk, events["formula"].pk}
    assert seen(action="role.") == {events["grant_b"].pk}
    assert seen(org="KJ-C08") == {events["grant_b"].pk}
    assert seen(object_id="7") == {events["reveal_a"].pk}
    assert listed(client.get("/people/audit/", {"since": "2026-06-11", "until": "2026-06-30"})) == set()
    assert events["reveal_a"].pk in seen(since="2026-06-10")
    assert listed(client.get("/people/audit/personal-data/")) == {events["reveal_a"].pk, events["formula"].pk}
    assert client.get("/people/audit/", {"org": "HN"}).status_code == 404


def test_the_personal_data_view_finds_every_export_and_reveal_by_its_entity_form(client, personas):
    where = personas.tree.community_a
    AuditEvent.objects.all().delete()
    shown = {
        audit.record(actor=personas.secretary_a, verb=verb, obj=where, now=T0).pk
        for verb in ("case.contact_reveal", "case_figures.export", "base_number.export", "ranking.export")
    }
    for verb in ("letter.download", "member.update", "record.verify"):
        audit.record(actor=personas.secretary_a, verb=verb, obj=where, now=T0)
    client.force_login(personas.street_admin)
    assert listed(client.get("/people/audit/personal-data/")) == shown


def test_detail_and_outsiders(client, personas, events):
    client.force_login(personas.street_admin)
    assert client.get(f"/people/audit/{events['reveal_a'].pk}/").status_code == 200
    assert client.get(f"/people/audit/{events['other_street'].pk}/").status_code == 404
    client.force_login(make_user("hn_admin", Role.STREET_ADMIN, personas.tree.other_street))
    assert client.get(f"/people/audit/{events['reveal_a'].pk}/").status_code == 404
    assert events["reveal_a"].pk not in listed(client.get("/people/audit/"))


def test_the_export_is_audited_and_neutralises_formulas(client, personas, events):
    client.force_login(personas.street_admin)
    response = client.get("/people/audit/export.xlsx", {"person": "secretary_a"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    values = [cell.value for row in sheet.iter_rows() for cell in row]
    assert "member.reveal" in values
    assert not any(isinstance(v, str) and v.startswith("=") for v in values)
    export = AuditEvent.objects.get(verb="audit.export")
    assert export.actor == personas.street_admin and export.org_path == personas.tree.street.path


def test_api(client, api, personas, events):
    client.force_login(personas.street_admin)
    body = api.get("/audit/events", person="secretary_a").json()["items"]
    assert {e["id"] for e in body} == {events["reveal_a"].pk, events["formula"].pk}
    assert api.get(f"/audit/events/{events['reveal_a'].pk}").json()["verb"] == "member.reveal"
    assert api.get(f"/audit/events/{events['other_street'].pk}").status_code == 404
    assert {e["id"] for e in api.get("/audit/events", personal_data=True).json()["items"]} == {
        events["reveal_a"].pk,
        events["formula"].pk,
    }


@pytest.mark.parametrize("who", ["anonymous", "member", "secretary_a", "secretary_b"])
def test_wrong_roles_get_nothing(client, api, personas, events, who):
    if who != "anonymous":
        client.force_login(getattr(personas, who))
    page = 302 if who == "anonymous" else 404
    assert client.get("/people/audit/").status_code == page
    assert client.get("/people/audit/personal-data/").status_code == page
    assert client.get(f"/people/audit/{events['reveal_a'].pk}/").status_code == page
    assert client.get("/people/audit/export.xlsx").status_code == page
    expected = 401 if who == "anonymous" else 404
    assert api.get("/audit/events").status_code == expected
    assert api.get(f"/audit/events/{events['reveal_a'].pk}").status_code == expected
    assert not AuditEvent.objects.filter(verb="audit.export").exists()
