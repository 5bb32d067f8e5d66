import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import load_workbook

from kangle.core.errors import UserError
from kangle.core.models import AuditEvent
from kangle.members import importing
from kangle.members.constants import Channel
from kangle.members.importing import import_preview, import_request_commit, import_set_mapping, import_upload
from kangle.members.models import HouseholdMember, ImportJob, ImportStatus, Member, StatusChange
from kangle.members.spreadsheets import read_table, template_bytes

from .conftest import HEADER, row, xlsx

pytestmark = pytest.mark.django_db


def upload(personas, content, filename="list.xlsx", org=None):
    actor = personas.street_admin if org is not None else personas.secretary_a
    return import_upload(
        actor=actor, org=org or personas.tree.community_a, filename=filename, content=content
    )


def preview(personas, content, filename="list.xlsx", org=None):
    actor = personas.street_admin if org is not None else personas.secretary_a
    return import_preview(actor=actor, job=upload(personas, content, filename, org))


def reasons(job):
    return {(e["row"], e["field"]): e["zh"] for e in job.errors}


def commit(personas, job, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        import_request_commit(actor=personas.secretary_a, job=job)
    return ImportJob.objects.get(pk=job.pk)


def test_a_clean_list_imports_all_rows_through_the_background_task(
    personas, django_capture_on_commit_callbacks
):
    content = xlsx(
        [HEADER, row(), row(name="王五", phone="13800000002", 微网格=personas.tree.microgrid_a.code)]
    )
    job = preview(personas, content)
    assert job.status == ImportStatus.PREVIEWED and job.good_rows == 2 and job.errors == []
    assert not Member.objects.exists()  # the dry run writes nothing
    # The upload and its parsed rows are stored encrypted, and dropped once imported.
    assert b"13800000001" not in bytes(job.content) and b"13800000001" not in bytes(job.parsed)
    assert "张三".encode() not in bytes(job.parsed)
    job = commit(personas, job, django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.DONE and job.created_count == 2 and job.progress_percent == 100
    assert bytes(job.content) == b"" and bytes(job.parsed) == b""
    with pytest.raises(UserError) as caught:
        import_set_mapping(actor=personas.secretary_a, job=job, mapping=job.mapping)
    assert caught.value.status == 409
    with pytest.raises(UserError):
        import_request_commit(actor=personas.secretary_a, job=job)
    assert Member.objects.count() == 2
    members = list(Member.objects.order_by("name"))
    assert {m.channel for m in members} == {Channel.IMPORT}
    assert (
        members[1].microgrid == personas.tree.microgrid_a or members[0].microgrid == personas.tree.microgrid_a
    )
    assert all(m.employer.name == "示例公司" and m.party_org.name == "示例公司党支部" for m in members)
    assert StatusChange.objects.count() == 2
    assert AuditEvent.objects.filter(verb="member.import").get().details["created"] == 2


def test_every_bad_row_is_listed_with_a_chinese_reason(personas):
    content = xlsx(
        [
            HEADER,
            row(),  # 2: good
            row(name="", phone="13800000002"),  # 3: blank name
            row(phone="1380000"),  # 4: malformed phone
            row(phone="13800000001"),  # 5: duplicate of row 2
            row(phone="13800000005", 身份证号="110105194912310021"),  # 6: bad check digit
            row(phone="13800000006", 居民区="火星居民区"),  # 7: unknown community
            row(phone="13800000007", 微网格="X-M9"),  # 8: unknown micro-grid
            row(phone="13800000008", 居民区="桂林苑居民区"),  # 9: outside the chosen community's subtree
        ]
    )
    job = preview(personas, content)
    found = reasons(job)
    assert "姓名不能为空" in found[(3, "name")]
    assert "手机号格式不正确" in found[(4, "phone")]
    assert "与第 2 行重复" in found[(5, "phone")]
    assert "校验位" in found[(6, "id_number")]
    assert "未知的居民区" in found[(7, "community")]
    assert "没有这个微网格" in found[(8, "microgrid")]
    assert "未知的居民区" in found[(9, "community")]
    assert job.good_rows == 1
    with pytest.raises(UserError) as caught:
        import_request_commit(actor=personas.secretary_a, job=job)
    assert caught.value.code == "has_errors"
    assert not Member.objects.exists()


def test_a_person_who_already_has_a_file_is_a_bad_row(personas):
    from kangle.members.services import member_register

    member_register(
        actor=personas.secretary_a,
        data={
            "name": "甲",
            "phone": "13800000001",
            "political_status": "full",
            "community": personas.tree.community_a,
        },
        channel=Channel.DESK,
    )
    job = preview(personas, xlsx([HEADER, row()]))
    assert "已有在册档案" in reasons(job)[(2, "phone")]


def test_full_width_digits_and_spaces_are_normalised(personas):
    job = preview(
        personas, xlsx([HEADER, row(name=" 张 三 ", phone="１３８ ０００ ００００１", 出生年份="１９８５")])
    )
    assert job.errors == [] and job.good_rows == 1


def test_merged_cells_give_their_value_to_every_row(personas):
    rows = [
        HEADER,
        row(phone="13800000001"),
        row(phone="13800000002", 居民区=None),
        row(phone="13800000003", 居民区=None),
    ]
    # Column I is 居民区; rows 2-4 merged as offices do for a block of one community.
    job = preview(personas, xlsx(rows, merged=["I2:I4"]), org=personas.tree.street)
    assert job.errors == [] and job.good_rows == 3


def test_hidden_sheets_are_ignored_and_blank_rows_skipped(personas):
    content = xlsx(
        [[], HEADER, row(), [None] * len(HEADER), row(phone="13800000002"), []],
        hidden_first=[["这是隐藏的工作表"], ["垃圾数据"]],
    )
    job = preview(personas, content)
    assert job.errors == [] and job.good_rows == 2


def test_dates_stored_as_serial_numbers_and_real_dates_give_the_birth_year(personas):
    content = xlsx(
        [
            HEADER,
            row(出生年份=31107),
            row(phone="13800000002", 出生年份=dt.datetime(1979, 5, 4)),
            row(phone="13800000003", 出生年份="1990-07-01"),
        ]
    )
    job = preview(personas, content)
    assert job.errors == []
    table = read_table(content, "x.xlsx")
    assert table.rows[0][1][2] == 31107
    from kangle.members.validation import _year

    assert _year(31107) == 1985


def test_formulas_are_refused_not_evaluated(personas):
    job = preview(
        personas,
        xlsx([HEADER, row(phone="=13800000000+1"), row(phone="13800000002", 姓名='=HYPERLINK("x")')]),
    )
    found = reasons(job)
    assert "公式" in found[(2, "phone")]
    assert "公式" in found[(3, "name")]


def test_an_id_number_stored_as_a_number_is_refused(personas):
    job = preview(personas, xlsx([HEADER, row(身份证号=310104198503021234)]))
    assert "存成了数字" in reasons(job)[(2, "id_number")]


def test_missing_required_columns_are_named_and_the_mapping_can_fix_them(personas):
    header = ["名字X", "联系电话", "政治面貌"]
    job = upload(personas, xlsx([header, ["张三", "13800000001", "正式党员"]]))
    assert "name" not in job.mapping and job.mapping["phone"] == 1
    job = import_preview(actor=personas.secretary_a, job=job)
    assert any("缺少必填列：姓名" in e["zh"] for e in job.errors)
    job = import_set_mapping(
        actor=personas.secretary_a, job=job, mapping={"name": 0, "phone": 1, "political_status": 2}
    )
    job = import_preview(actor=personas.secretary_a, job=job)
    assert job.errors == [] and job.good_rows == 1


def test_wrong_columns_and_bad_mappings_are_refused(personas):
    job = upload(personas, xlsx([["订单号", "金额"], ["A1", 3]]))
    job = import_preview(actor=personas.secretary_a, job=job)
    zh = " ".join(e["zh"] for e in job.errors)
    assert "缺少必填列：姓名" in zh and "缺少必填列：手机号" in zh and "缺少必填列：政治面貌" in zh
    with pytest.raises(UserError) as caught:
        import_set_mapping(
            actor=personas.secretary_a, job=job, mapping={"name": 0, "phone": 0, "political_status": 1}
        )
    assert "多个字段" in caught.value.zh
    with pytest.raises(UserError):
        import_set_mapping(
            actor=personas.secretary_a, job=job, mapping={"name": 7, "phone": 1, "political_status": 1}
        )


def test_a_list_for_a_street_needs_a_community_column(personas):
    job = preview(
        personas,
        xlsx([["姓名", "手机号", "政治面貌"], ["张三", "13800000001", "正式党员"]]),
        org=personas.tree.street,
    )
    assert any("缺少必填列：居民区" in e["zh"] for e in job.errors)


def test_gbk_and_utf8_csv(personas):
    text = (
        "姓名,手机号,政治面貌,居民区\n"
        "张三,13800000001,正式党员,康乐居民区\n"
        "李四,13800000002,预备党员,康乐居民区\n"
    )
    for encoding, name in (("gbk", "gbk.csv"), ("utf-8-sig", "utf8.csv"), ("utf-8", "plain.csv")):
        job = preview(personas, text.encode(encoding), filename=name)
        assert job.errors == [] and job.good_rows == 2, encoding


def test_unreadable_and_unsupported_files_are_refused_politely(personas):
    with pytest.raises(UserError) as caught:
        upload(personas, b"not a zip", "list.xlsx")
    assert "无法读取" in caught.value.zh
    with pytest.raises(UserError) as caught:
        upload(personas, b"x", "list.xls")
    assert ".xlsx" in caught.value.zh
    with pytest.raises(UserError) as caught:
        upload(personas, b"\xff\xfe\x00\x00\xff", "list.csv")
    assert caught.value.code in ("bad_encoding", "empty_file")


def test_a_file_over_the_size_limit_is_refused(personas, settings):
    settings.KANGLE_MEMBER_IMPORT_MAX_BYTES = 2048
    with pytest.raises(UserError) as caught:
        upload(personas, b"a" * 4096, "big.csv")
    assert caught.value.status == 413 and "文件太大" in caught.value.zh and "too large" in caught.value.en
    assert not ImportJob.objects.exists()


def test_a_crash_in_the_middle_of_the_commit_leaves_nothing(
    personas, monkeypatch, django_capture_on_commit_callbacks
):
    content = xlsx(
        [[*HEADER, "家庭成员"], *[[*row(phone=f"1380000{n:04d}"), "王芳(配偶)"] for n in range(30)]]
    )
    job = preview(personas, content)
    assert job.errors == [] and job.good_rows == 30
    monkeypatch.setattr(importing, "BATCH", 10)

    calls = {"n": 0}
    real = HouseholdMember.objects.bulk_create

    def crash(objs, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # after the first batch of ten files is written
            raise RuntimeError("disk full")
        return real(objs, *args, **kwargs)

    monkeypatch.setattr(HouseholdMember.objects, "bulk_create", crash)
    # The task fails (the immediate backend records the exception as the task's result).
    with django_capture_on_commit_callbacks(execute=True):
        import_request_commit(actor=personas.secretary_a, job=job)
    job.refresh_from_db()
    assert calls["n"] == 2
    assert job.status == ImportStatus.FAILED and "未导入任何数据" in job.message
    assert (
        Member.objects.count() == 0
        and HouseholdMember.objects.count() == 0
        and StatusChange.objects.count() == 0
    )


def test_rows_that_became_duplicates_before_the_commit_abort_it(personas, django_capture_on_commit_callbacks):
    from kangle.members.services import member_register

    job = preview(personas, xlsx([HEADER, row(), row(phone="13800000002")]))
    member_register(
        actor=personas.secretary_a,
        data={
            "name": "甲",
            "phone": "13800000002",
            "political_status": "full",
            "community": personas.tree.community_a,
        },
        channel=Channel.DESK,
    )
    job = commit(personas, job, django_capture_on_commit_callbacks)
    assert job.status == ImportStatus.FAILED and Member.objects.count() == 1


def test_outsider_and_wrong_role_cannot_import(personas):
    from django.http import Http404

    from kangle.core.errors import NotAllowed

    with pytest.raises(Http404):
        import_upload(
            actor=personas.secretary_b, org=personas.tree.community_a, filename="a.csv", content=b"x"
        )
    with pytest.raises(NotAllowed):
        import_upload(actor=personas.grid_leader, org=personas.tree.grid_a, filename="a.csv", content=b"x")


def test_template_round_trip(personas):
    content = template_bytes(["医疗", "法律"], ["便民服务", "平安守护"])
    sheets = load_workbook(io.BytesIO(content)).sheetnames
    assert sheets == ["在职党员", "填写说明"]
    job = preview(personas, content)
    assert job.errors == [] and job.good_rows == 1


def test_the_template_names_aspects_as_the_catalogue_does(client, personas):
    from kangle.posts.models import ServiceAspect

    ServiceAspect.objects.filter(code="convenience").update(name="便民志愿")
    client.force_login(personas.secretary_a)
    content = client.get(reverse("members:template")).content
    notes = [row[0] for row in load_workbook(io.BytesIO(content))["填写说明"].iter_rows(values_only=True)]
    aspects = next(note for note in notes if note and note.startswith("服务意愿"))
    assert "便民志愿" in aspects and "便民服务" not in aspects


def test_management_command_dry_run_and_commit(personas, tmp_path, capsys):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(xlsx([HEADER, row(phone="123")]))
    call_command("import_members", str(bad), "KJ-C01")
    out = capsys.readouterr().out
    assert "第 2 行" in out and "手机号格式不正确" in out
    with pytest.raises(CommandError):
        call_command("import_members", str(bad), "KJ-C01", "--commit")
    good = tmp_path / "good.csv"
    good.write_bytes("姓名,手机号,政治面貌\n张三,13800000001,正式党员\n".encode("gbk"))
    call_command("import_members", str(good), "KJ-C01")
    assert not Member.objects.exists()
    call_command("import_members", str(good), "KJ-C01", "--commit")
    assert Member.objects.get().community == personas.tree.community_a
    with pytest.raises(CommandError):
        call_command("import_members", str(good), "NOPE")
