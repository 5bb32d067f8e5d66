"""Bad input on the members workbench pages: refused at the edge with a message in Chinese and English
naming the field, and nothing written."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse

from kangle.accounts.models import User
from kangle.members.constants import Status
from kangle.members.models import Employer, EmployerPartyOrg, ExpectedCount, ImportJob, Member

from .conftest import HEADER, row, xlsx
from .test_pages import make

pytestmark = pytest.mark.django_db


def _said(response, *words) -> bool:
    page = response.content.decode()
    return all(word in page for word in words)


def test_returning_a_file_refuses_an_overlong_reason(client, personas):
    member = make(personas)[0]
    client.force_login(personas.secretary_a)
    response = client.post(
        reverse("members:action", args=[member.pk, "return"]), {"reason": "长" * 301}, follow=True
    )
    assert _said(response, "原因：", "Reason: ")
    member.refresh_from_db()
    assert member.status == Status.PENDING and member.return_reason == ""


def test_transfer_refuses_an_unknown_community(client, personas):
    member = make(personas)[0]
    client.force_login(personas.secretary_a)
    response = client.post(
        reverse("members:action", args=[member.pk, "transfer"]), {"to_community": "KJ-C99"}, follow=True
    )
    assert _said(response, "转至居民区：", "Move to community: ")
    member.refresh_from_db()
    assert member.community == personas.tree.community_a


def test_desk_entry_refuses_a_merge_target_that_is_not_a_number(client, personas):
    make(personas)
    client.force_login(personas.secretary_a)
    form = {"name": "成员0", "phone": "13800000000", "political_status": "full", "community": "KJ-C01"}
    response = client.post(reverse("members:new"), {**form, "merge_into": "第一份", "position": "会计"})
    assert response.status_code == 200 and _said(response, "已有档案：", "Existing file: ")
    assert Member.objects.count() == 1 and Member.objects.get().position == ""


def test_import_refuses_an_unknown_unit(client, personas):
    client.force_login(personas.secretary_a)
    upload = io.BytesIO(xlsx([HEADER, row()]))
    upload.name = "list.xlsx"
    response = client.post(reverse("members:import"), {"org": "KJ-C08", "file": upload})  # not hers
    assert response.status_code == 200 and _said(response, "导入到：", "Import into: ")
    assert not ImportJob.objects.exists()


def test_import_mapping_refuses_a_column_that_is_not_a_number(client, personas):
    client.force_login(personas.secretary_a)
    upload = io.BytesIO(xlsx([HEADER, row()]))
    upload.name = "list.xlsx"
    client.post(reverse("members:import"), {"org": "KJ-C01", "file": upload})
    job = ImportJob.objects.get()
    before = dict(job.mapping)
    response = client.post(
        reverse("members:import-job", args=[job.pk]), {"mapping": "1", "map_phone": "第四列"}, follow=True
    )
    assert _said(response, "手机号：", "Mobile number: ")
    job.refresh_from_db()
    assert job.mapping == before


def test_collective_registration_refuses_a_party_org_that_is_not_the_accounts(client, personas):
    employer = Employer.objects.create(name="示例公司")
    other = EmployerPartyOrg.objects.create(employer=employer, name="别人的党支部")
    EmployerPartyOrg.objects.create(employer=employer, name="示例公司党支部", account=personas.employer)
    client.force_login(personas.employer)
    response = client.post(
        reverse("members:collective"),
        {"party_org": other.pk, "rows": "张三,13800000001,正式党员,康乐居民区,"},
    )
    assert response.status_code == 200 and _said(response, "单位党组织：", "Employer Party organisation: ")
    assert not ImportJob.objects.exists()


def test_base_numbers_refuse_a_number_that_is_not_whole(client, personas):
    grid = personas.tree.microgrid_a
    client.force_login(personas.street_admin)
    response = client.post(
        reverse("members:base-numbers") + "?unit=KJ", {f"expected_{grid.code}": "八个"}, follow=True
    )
    assert _said(response, f"{grid.name}：", f"{grid.name}: ")
    assert not ExpectedCount.objects.filter(org=grid).exists()


def test_employers_page_refuses_an_overlong_contact_person(client, personas):
    make(personas, employer="示例公司")
    employer = Employer.objects.get()
    client.force_login(personas.street_admin)
    response = client.post(
        reverse("members:employers"), {"employer": employer.pk, "contact_person": "王" * 101}, follow=True
    )
    assert _said(response, "联系人：", "Contact person: ")
    employer.refresh_from_db()
    assert employer.contact_person == ""


def test_party_account_form_names_a_missing_username(client, personas):
    employer = Employer.objects.create(name="上海电力公司")
    branch = EmployerPartyOrg.objects.create(employer=employer, name="电力公司第一党支部")
    client.force_login(personas.street_admin)
    users = User.objects.count()
    response = client.post(
        reverse("members:party-orgs"),
        {"party_orgs": [branch.pk], "display_name": "电力公司党委", "username": "", "org": "KJ"},
    )
    assert response.status_code == 400 and _said(response, "用户名：", "Username: ")
    assert User.objects.count() == users


def test_party_account_link_refuses_a_branch_that_is_not_a_number(client, personas):
    employer = Employer.objects.create(name="上海电力公司")
    branch = EmployerPartyOrg.objects.create(employer=employer, name="电力公司第一党支部")
    client.force_login(personas.street_admin)
    response = client.post(
        reverse("members:party-org-link"), {"username": "employer", "party_orgs": ["一支部"]}, follow=True
    )
    assert _said(response, "代表的单位党组织：", "Party organisations it acts for: ")
    branch.refresh_from_db()
    assert branch.account_id is None
