import io

import pytest
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from kangle.core.models import AuditEvent
from kangle.members import services
from kangle.members.constants import Channel, Status
from kangle.members.models import EmployerPartyOrg, ExpectedCount, ImportJob, ImportStatus, Member
from kangle.posts.models import ServiceAspect

from .conftest import HEADER, row, xlsx

pytestmark = pytest.mark.django_db


def make(personas, n=1, *, community=None, prefix="1380000", **extra):
    members = []
    for i in range(n):
        data = {
            "name": f"成员{i}",
            "phone": f"{prefix}{i:04d}",
            "political_status": "full",
            "community": community or personas.tree.community_a,
            **extra,
        }
        members.append(
            services.member_register(actor=personas.street_admin, data=data, channel=Channel.DESK).member
        )
    return members


# --- Self-registration on the phone -----------------------------------------------------
def test_register_page_prefills_the_point_and_shows_the_consent_text(client, personas):
    response = client.get(reverse("members:register") + "?point=P-A")
    page = response.content.decode()
    assert response.status_code == 200
    assert "康乐报到点" in page and 'data-testid="consent-text"' in page
    assert '<option value="KJ-C01" selected>' in page
    assert "KJ-C08" not in page  # the point's community only


def test_unknown_point_is_404(client, db):
    assert client.get(reverse("members:register") + "?point=NOPE").status_code == 404


def test_public_point_page_links_to_registration(client, personas):
    page = client.get("/r/P-A/").content.decode()
    assert reverse("members:register") + "?point=P-A" in page


def register_post(client, **extra):
    form = {
        "name": "赵六",
        "phone": "13812345678",
        "political_status": "full",
        "community": "KJ-C01",
        "password": "a-long-password",
        "consent": "on",
        "point": "P-A",
        "availability": ["sat_am"],
        "willingness": ["convenience"],
        "skills": ["medical"],
    }
    form.update(extra)
    return client.post(reverse("members:register") + "?point=P-A", form)


def test_self_registration_creates_an_account_and_a_pending_file(client, personas):
    response = register_post(client)
    # Step 1 done: the member's home says what happens next; skills and times wait for step 2.
    assert response.status_code == 302 and response.url == reverse("members:m-home")
    member = Member.objects.get()
    assert member.channel == Channel.PHONE and member.point.code == "P-A" and member.status == Status.PENDING
    assert member.user.phone == "13812345678" and "13812345678" not in member.user.username
    # They can log in again with the phone number.
    client.logout()
    assert client.login(username="138 1234 5678", password="a-long-password")
    page = client.get(reverse("members:me")).content.decode()
    assert 'data-status="pending"' in page and "138****5678" in page


def test_self_registration_needs_consent_and_names_bad_fields(client, personas):
    response = register_post(client, phone="12345")
    page = response.content.decode()
    assert response.status_code == 200 and not Member.objects.exists()
    assert "手机号格式不正确" in page and 'id="id_phone_error"' in page
    assert 'value="赵六"' in page and 'value="a-long-password"' in page  # what was typed stays
    response = register_post(client, consent="")
    assert response.status_code == 200 and not Member.objects.exists()
    assert response.context["form"].errors["consent"]


def test_member_sees_and_edits_own_file(client, personas):
    member = services.member_register(
        actor=personas.member,
        data={
            "name": "本人",
            "phone": "13900000006",
            "political_status": "full",
            "community": personas.tree.community_a,
        },
        channel=Channel.PHONE,
        user=personas.member,
    ).member
    client.force_login(personas.member)
    assert client.get(reverse("members:me")).status_code == 200
    form = {
        "name": "本人",
        "phone": "13900000006",
        "political_status": "full",
        "community": "KJ-C01",
        "position": "工程师",
        "hours_per_month": "6",
    }
    assert client.post(reverse("members:me-edit"), form).status_code == 302
    member.refresh_from_db()
    assert member.position == "工程师" and member.hours_per_month == 6


def test_me_without_a_file_and_anonymous(client, personas):
    assert client.get(reverse("members:me")).status_code == 302  # to login
    client.force_login(personas.resident)
    response = client.get(reverse("members:me"))
    assert response.status_code == 200 and reverse("members:register") in response.content.decode()


# --- Workbench list, detail, actions ----------------------------------------------------
def test_list_is_masked_and_scoped(client, personas):
    make(personas, 2)
    make(personas, 1, community=personas.tree.community_b, prefix="1370000")
    client.force_login(personas.secretary_a)
    page = client.get(reverse("members:list")).content.decode()
    assert "138****0000" in page and "13800000000" not in page
    assert "桂林苑居民区</td>" not in page
    client.force_login(personas.secretary_b)
    page = client.get(reverse("members:list")).content.decode()
    assert "138****0000" not in page and "137****0000" in page


def test_list_exact_phone_search_and_filters(client, personas):
    make(personas, 3)
    client.force_login(personas.secretary_a)
    page = client.get(reverse("members:list"), {"phone": "１３８ ０００ ００００２"}).content.decode()
    assert page.count("data-member=") == 1 and "成员2" in page
    page = client.get(reverse("members:list"), {"status": "approved"}).content.decode()
    assert page.count("data-member=") == 0


@pytest.mark.parametrize("rows", [1, 3])
def test_list_query_count_is_flat(client, personas, django_assert_num_queries, rows):
    make(personas, rows)
    client.force_login(personas.secretary_a)
    # The session, the page (not full: its rows are the count) and the two drop-downs, which a database
    # server answers with one statement (``rawrows.pairs_of_each``) and SQLite with one each.
    with django_assert_num_queries(4 if connection.vendor == "sqlite" else 3):
        response = client.get(reverse("members:list"))
    assert response.content.decode().count("data-member=") == rows


def test_anonymous_and_wrong_role_on_workbench_pages(client, personas):
    member = make(personas)[0]
    urls = [
        reverse("members:list"),
        reverse("members:detail", args=[member.pk]),
        reverse("members:new"),
        reverse("members:import"),
        reverse("members:base-numbers"),
        reverse("members:export"),
    ]
    for url in urls:
        assert client.get(url).status_code == 302, url
    client.force_login(personas.resident)
    for url in urls:
        assert client.get(url).status_code == 403, url


def test_outsider_gets_404_for_the_detail_and_actions(client, personas):
    member = make(personas)[0]
    client.force_login(personas.secretary_b)
    assert client.get(reverse("members:detail", args=[member.pk])).status_code == 404
    for action in ("approve", "return", "transfer", "leave"):
        assert (
            client.post(reverse("members:action", args=[member.pk, action]), {"reason": "x"}).status_code
            == 404
        )
    assert client.post(reverse("members:reveal", args=[member.pk])).status_code == 404
    member.refresh_from_db()
    assert member.status == Status.PENDING


def test_secretary_approves_returns_and_reveals_on_the_workbench(client, personas):
    first, second = make(personas, 2, id_number="")
    client.force_login(personas.secretary_a)
    page = client.get(reverse("members:detail", args=[first.pk])).content.decode()
    assert "138****0000" in page and 'id="approve"' in page
    client.post(reverse("members:action", args=[first.pk, "approve"]))
    client.post(reverse("members:action", args=[second.pk, "return"]), {"reason": "请补充单位"})
    first.refresh_from_db()
    second.refresh_from_db()
    assert (
        first.status == Status.APPROVED
        and second.status == Status.RETURNED
        and second.return_reason == "请补充单位"
    )
    revealed = client.post(reverse("members:reveal", args=[first.pk])).content.decode()
    assert "13800000000" in revealed
    assert AuditEvent.objects.filter(verb="member.reveal", object_id=str(first.pk)).exists()
    client.post(reverse("members:action", args=[first.pk, "transfer"]), {"to_community": "KJ-C08"})
    first.refresh_from_db()
    assert first.community == personas.tree.community_b


def test_grid_leader_sees_the_grid_but_may_not_approve_or_reveal(client, personas):
    member = make(personas, microgrid=personas.tree.microgrid_a.code)[0]
    client.force_login(personas.grid_leader)
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert 'id="approve"' not in page and 'id="reveal"' not in page
    assert client.post(reverse("members:action", args=[member.pk, "approve"])).status_code == 403
    assert client.post(reverse("members:reveal", args=[member.pk])).status_code == 403


def test_desk_entry_and_merge_offer(client, personas):
    make(personas, 1)
    client.force_login(personas.secretary_a)
    form = {
        "name": "成员0",
        "phone": "13800000000",
        "political_status": "full",
        "community": "KJ-C01",
        "point": "P-A",
        "position": "会计",
    }
    page = client.post(reverse("members:new"), form).content.decode()
    assert 'id="duplicate"' in page and 'id="merge"' in page
    response = client.post(reverse("members:new"), {**form, "merge_into": Member.objects.get().pk})
    assert response.status_code == 302
    assert Member.objects.count() == 1 and Member.objects.get().position == "会计"
    response = client.post(reverse("members:new"), {**form, "phone": "13811110000"})
    assert response.status_code == 302 and Member.objects.count() == 2
    assert (
        Member.objects.get(phone_hash__isnull=False, position="会计", point__code="P-A").channel
        == Channel.DESK
    )


# --- Export -----------------------------------------------------------------------------
def test_export_is_masked_neutralised_and_audited(client, personas):
    make(personas, 1, name="=cmd|' /C calc'!A0")
    client.force_login(personas.secretary_a)
    response = client.get(reverse("members:export"))
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert [c.value for c in sheet[1]][:5] == ["编号", "姓名", "性别", "出生年份", "手机号"]
    values = [c.value for c in sheet[2]]
    assert values[1] == "'=cmd|' /C calc'!A0"
    assert values[4] == "138****0000"
    event = AuditEvent.objects.get(verb="member.export")
    assert event.details["unmasked"] is False and event.details["rows"] == 1
    response = client.get(reverse("members:export"), {"reveal": "1"})
    assert load_workbook(io.BytesIO(response.content)).active["E2"].value == "13800000000"
    client.force_login(personas.grid_leader)
    assert client.get(reverse("members:export")).status_code == 403
    client.force_login(personas.secretary_b)
    assert client.get(reverse("members:export"), {"community": "KJ-C01"}).status_code == 404


# --- Import pages and collective registration -------------------------------------------
def test_import_pages_upload_map_preview_commit(client, personas, django_capture_on_commit_callbacks):
    client.force_login(personas.secretary_a)
    assert client.get(reverse("members:template")).status_code == 200
    upload = io.BytesIO(xlsx([HEADER, row()]))
    upload.name = "list.xlsx"
    response = client.post(reverse("members:import"), {"org": "KJ-C01", "file": upload})
    job = ImportJob.objects.get()
    assert response.url == reverse("members:import-job", args=[job.pk])
    mapping = {f"map_{field}": index for field, index in job.mapping.items()}
    client.post(reverse("members:import-job", args=[job.pk]), {"mapping": "1", **mapping})
    page = client.get(reverse("members:import-job", args=[job.pk])).content.decode()
    assert 'id="good-rows">1<' in page and 'id="commit"' in page
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:import-job", args=[job.pk]), {"commit": "1"})
    progress = client.get(reverse("members:import-progress", args=[job.pk])).content.decode()
    assert 'data-status="done"' in progress and "100%" in progress
    assert Member.objects.count() == 1
    client.force_login(personas.secretary_b)
    assert client.get(reverse("members:import-job", args=[job.pk])).status_code == 404


def test_import_page_refuses_an_oversized_file(client, personas, settings):
    settings.KANGLE_MEMBER_IMPORT_MAX_BYTES = 1024
    client.force_login(personas.secretary_a)
    upload = io.BytesIO(b"x" * 5000)
    upload.name = "big.csv"
    page = client.post(reverse("members:import"), {"org": "KJ-C01", "file": upload}).content.decode()
    assert "文件太大" in page and not ImportJob.objects.exists()


def test_collective_registration_by_an_employer_party_org(
    client, personas, django_capture_on_commit_callbacks
):
    from kangle.members.services import employer_resolve

    _, party_org = employer_resolve("示例公司", "示例公司党支部")
    EmployerPartyOrg.objects.filter(pk=party_org.pk).update(account=personas.employer)
    client.force_login(personas.employer)
    rows = (
        "张三,13800000001,正式党员,康乐居民区,工程师\n"
        "李四\t13800000002\t预备党员\t桂林苑居民区\t职员\n"
        "王五,123,党员,康乐居民区,"
    )
    response = client.post(reverse("members:collective"), {"party_org": party_org.pk, "rows": rows})
    job = ImportJob.objects.get()
    assert response.url == reverse("members:import-job", args=[job.pk])
    assert job.status == ImportStatus.PREVIEWED and {e["row"] for e in job.errors} == {4}
    rows = "\n".join(rows.splitlines()[:2])
    client.post(reverse("members:collective"), {"party_org": party_org.pk, "rows": rows})
    job = ImportJob.objects.order_by("-created_at").first()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("members:import-job", args=[job.pk]), {"commit": "1"})
    members = Member.objects.order_by("name")
    assert [m.channel for m in members] == [Channel.COLLECTIVE, Channel.COLLECTIVE]
    assert {m.party_org_id for m in members} == {party_org.pk}
    assert {m.community.code for m in members} == {"KJ-C01", "KJ-C08"}
    # Other roles may not use the page; another party org's account does not see the job.
    client.force_login(personas.secretary_a)
    assert client.get(reverse("members:collective")).status_code == 403


# --- Base numbers -----------------------------------------------------------------------
def test_base_numbers_roll_up_and_download(client, personas):
    from kangle.members.selectors import base_numbers

    services.expected_set(actor=personas.street_admin, org=personas.tree.microgrid_a, expected=4)
    services.expected_set(actor=personas.street_admin, org=personas.tree.community_b, expected=10)
    approved = make(personas, 2, microgrid=personas.tree.microgrid_a.code)
    for member in approved:
        services.member_approve(actor=personas.street_admin, member=member)
    make(personas, 1, prefix="1370000")  # pending
    numbers = base_numbers(personas.tree.street)
    by_code = {c["unit"]["code"]: c for c in numbers["communities"]}
    assert (
        by_code["KJ-C01"]["expected"] == 4
        and by_code["KJ-C01"]["registered"] == 2
        and by_code["KJ-C01"]["pending"] == 1
    )
    assert by_code["KJ-C01"]["coverage"] == 50.0 and by_code["KJ-C01"]["grids"][0]["coverage"] == 50.0
    assert by_code["KJ-C08"]["coverage"] == 0.0
    assert numbers["total"]["expected"] == 14 and numbers["total"]["registered"] == 2
    assert {a["unit"]["code"]: a["expected"] for a in numbers["areas"]} == {"KJ-A1": 4, "KJ-A2": 10}

    client.force_login(personas.street_admin)
    page = client.get(reverse("members:base-numbers")).content.decode()
    assert 'id="total-expected">14<' in page and "chart-heatmap" in page and "echarts.min.js" in page
    client.post(
        reverse("members:base-numbers") + "?unit=KJ", {f"expected_{personas.tree.microgrid_a.code}": "8"}
    )
    assert ExpectedCount.objects.get(org=personas.tree.microgrid_a).expected == 8
    book = load_workbook(io.BytesIO(client.get(reverse("members:base-numbers-xlsx")).content))
    assert book.sheetnames == ["汇总", "居民区", "微网格", "专业特长", "服务时间", "服务意愿"]
    client.force_login(personas.secretary_b)
    assert client.get(reverse("members:base-numbers"), {"unit": "KJ-C01"}).status_code == 404
    assert client.get(reverse("members:base-numbers-xlsx"), {"unit": "KJ-C01"}).status_code == 404


@pytest.mark.parametrize("rows", [1, 3])
def test_base_numbers_query_count_is_flat(client, personas, django_assert_num_queries, rows):
    make(personas, rows, microgrid=personas.tree.microgrid_a.code, willingness="便民服务")
    make(personas, 1, community=personas.tree.community_b, prefix="1370000", willingness="便民服务、平安守护")
    from kangle.members.selectors import base_numbers, distribution

    # The wishes are counted from the part's own files, the catalogue's aspects read on their own.
    with django_assert_num_queries(9):
        base_numbers(personas.tree.street)
        found = distribution(personas.tree.street)
    wished = dict(found["willingness"])
    assert wished["便民服务"] == rows + 1 and wished["平安守护"] == 1
    assert len(wished) == ServiceAspect.objects.count() and sum(wished.values()) == rows + 2
    assert dict(distribution(personas.tree.community_b)["willingness"])["便民服务"] == 1


def test_expected_numbers_uploaded_all_or_nothing(client, personas):
    client.force_login(personas.secretary_a)
    grid = personas.tree.microgrid_a
    bad = io.BytesIO(xlsx([["微网格", "底数"], [grid.code, 12], ["NO-SUCH", 3], [grid.name, "很多"]]))
    bad.name = "expected.xlsx"
    response = client.post(reverse("members:base-numbers") + "?unit=KJ-C01", {"file": bad}, follow=True)
    page = response.content.decode()
    assert "第 3 行：未知的微网格：NO-SUCH" in page and "第 4 行：底数应为" in page
    assert not ExpectedCount.objects.exists()
    good = io.BytesIO("微网格,底数\n1号微网格,12\n".encode("gbk"))
    good.name = "expected.csv"
    client.post(reverse("members:base-numbers") + "?unit=KJ-C01", {"file": good})
    assert ExpectedCount.objects.get(org=grid).expected == 12
    client.force_login(personas.secretary_b)
    assert client.post(reverse("members:base-numbers") + "?unit=KJ-C01", {"file": good}).status_code == 404


def test_employers_page_shows_shared_records_and_admins_edit_contacts(client, personas):
    from kangle.members.models import Employer

    make(personas, 2, employer="示例公司", party_org="示例公司党支部")
    make(personas, 1, community=personas.tree.community_b, prefix="1370000", employer="示例公司")
    employer = Employer.objects.get()
    client.force_login(personas.secretary_a)
    page = client.get(reverse("members:employers")).content.decode()
    assert "示例公司党支部" in page and "<td>2</td>" in page  # only the members in the secretary's community
    assert client.post(reverse("members:employers"), {"employer": employer.pk}).status_code == 403
    client.force_login(personas.street_admin)
    form = {
        "employer": employer.pk,
        "contact_person": "王主任",
        "contact_phone": "021-12345678",
        "email": "hr@example.com",
        "address": "漕宝路 1 号",
    }
    client.post(reverse("members:employers"), form)
    employer.refresh_from_db()
    assert employer.contact_person == "王主任" and employer.email == "hr@example.com"
    page = client.post(
        reverse("members:employers"), {**form, "email": "not-an-email"}, follow=True
    ).content.decode()
    assert "电子邮箱格式不正确" in page
    assert AuditEvent.objects.filter(verb="employer.update").count() == 1
    client.force_login(personas.resident)
    assert client.get(reverse("members:employers")).status_code == 403


def test_a_raw_dump_of_the_database_shows_no_phone_id_number_or_address(
    client, personas, django_capture_on_commit_callbacks
):
    """Register through the phone page and import a list, then read every table as stored."""
    from django.db import connection

    from .conftest import id_number

    secret_id = id_number("31010419770707123")
    with django_capture_on_commit_callbacks(execute=True):
        register_post(client, id_number=secret_id, address="秘密路 99 弄 7 号 701 室")
    client.force_login(personas.secretary_a)
    upload = io.BytesIO(xlsx([HEADER + ["居住地址"], row(phone="13899990000") + ["隐秘路 8 号"]]))
    upload.name = "list.xlsx"
    client.post(reverse("members:import"), {"org": "KJ-C01", "file": upload})
    job = ImportJob.objects.get()
    client.post(
        reverse("members:import-job", args=[job.pk]),
        {"mapping": "1", **{f"map_{field}": index for field, index in job.mapping.items()}},
    )
    dump = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            for record in cursor.fetchall():
                # Binary columns (the stored upload) are decoded, so plaintext inside them would show.
                dump.extend(
                    bytes(v).decode("utf-8", "replace") if isinstance(v, bytes | memoryview) else str(v)
                    for v in record
                )
    text = "\n".join(dump)
    assert Member.objects.count() == 1 and ImportJob.objects.get().status == ImportStatus.PREVIEWED
    for secret in ("13812345678", secret_id, "秘密路", "13899990000", "隐秘路"):
        assert secret not in text, secret


def test_remaining_pages_for_anonymous_outsider_and_wrong_role(client, personas):
    member = make(personas)[0]
    job = ImportJob.objects.create(
        org=personas.tree.community_a,
        created_by=personas.secretary_a,
        created_at=member.registered_at,
        filename="x.csv",
        content=b"",
        headers=[],
    )
    anonymous_redirects = [
        reverse("members:me-edit"),
        reverse("members:import-progress", args=[job.pk]),
        reverse("members:template"),
        reverse("members:employers"),
        reverse("members:collective"),
        reverse("members:base-numbers-xlsx"),
        reverse("members:import-job", args=[job.pk]),
    ]
    for url in anonymous_redirects:
        assert client.get(url).status_code == 302, url
    client.force_login(personas.secretary_b)
    assert client.get(reverse("members:import-progress", args=[job.pk])).status_code == 404
    assert client.get(reverse("members:import-job", args=[job.pk])).status_code == 404
    assert client.post(reverse("members:import-job", args=[job.pk]), {"commit": "1"}).status_code == 404
    client.force_login(personas.resident)  # no file of their own: nothing to edit
    assert client.get(reverse("members:me-edit")).status_code == 404
    assert client.get(reverse("members:import-progress", args=[job.pk])).status_code == 403
    assert client.get(reverse("members:collective")).status_code == 403
    client.force_login(personas.employer)  # an employer account sees only its own organisation's lists
    assert client.get(reverse("members:import-job", args=[job.pk])).status_code == 403


def test_public_link_without_a_point_lists_communities_but_not_micro_grids(client, personas):
    page = client.get(reverse("members:register")).content.decode()
    assert 'value="KJ-C01"' in page and 'value="KJ-C08"' in page and 'name="microgrid"' not in page
    page = client.get(reverse("members:register") + "?point=P-A").content.decode()
    # Micro-grids are found by typing, never listed as a code list.
    assert f'value="{personas.tree.microgrid_a.code}"' not in page and 'id="id_place_query"' in page


def test_staff_edit_a_file_and_a_clash_with_another_file_is_refused(client, personas):
    first, second = make(personas, 2, microgrid=personas.tree.microgrid_a.code)
    url = reverse("members:edit", args=[first.pk])
    client.force_login(personas.secretary_a)
    assert client.get(url).status_code == 200
    form = {
        "name": "改名",
        "phone": "13800000000",
        "political_status": "probationary",
        "community": "KJ-C01",
        "microgrid": personas.tree.microgrid_a.code,
        "willingness": ["care"],
        "household": "王芳(配偶)",
    }
    assert client.post(url, form).status_code == 302
    first.refresh_from_db()
    assert (
        first.name == "改名"
        and first.political_status == "probationary"
        and first.microgrid == personas.tree.microgrid_a
    )
    assert list(first.willingness.values_list("aspect__code", flat=True)) == ["care"]
    page = client.post(url, {**form, "phone": "13800000001"}).content.decode()
    assert "已有在册档案" in page
    first.refresh_from_db()
    assert first.phone == "13800000000"
    client.force_login(personas.secretary_b)
    assert client.get(url).status_code == 404
    client.force_login(personas.grid_leader)
    assert client.get(url).status_code == 403
    client.logout()
    assert client.get(url).status_code == 302
    second.refresh_from_db()
    assert second.name == "成员1" and second.phone == "13800000001"
