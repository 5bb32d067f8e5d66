import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.http import Http404
from django.urls import reverse

from kangle.core.crypto import blind_index
from kangle.core.errors import NotAllowed, UserError
from kangle.core.models import AuditEvent
from kangle.core.roles import Role
from kangle.members import services
from kangle.members.constants import Channel, Status
from kangle.members.models import HouseholdMember, Member, MemberWillingness, Skill, StatusChange
from kangle.notify.models import Notification, OutboxMessage

from .conftest import id_number

pytestmark = pytest.mark.django_db
NOW = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


def data(tree, **extra):
    values = {
        "name": "李四",
        "phone": "13811112222",
        "political_status": "full",
        "community": tree.community_a,
    }
    values.update(extra)
    return values


def desk(personas, **extra):
    return services.member_register(
        actor=personas.secretary_a,
        data=data(personas.tree, **extra),
        channel=Channel.DESK,
        point=personas.tree.point_a,
        now=NOW,
    ).member


def test_register_at_a_desk_stores_everything_and_audits(personas):
    member = desk(
        personas,
        skills="医疗、魔术",
        availability=["sat_am", "sun_pm"],
        willingness="便民服务、平安守护",
        microgrid=personas.tree.microgrid_a.code,
        household="王芳(配偶)；王小明(子女)",
        hours_per_month="8",
        id_number=id_number(),
        address="康健路 100 弄 1 号",
    )
    member.refresh_from_db()
    assert member.status == Status.PENDING and member.channel == Channel.DESK
    assert member.point == personas.tree.point_a
    assert member.org == personas.tree.microgrid_a and member.estate == personas.tree.estate_a
    assert list(member.skills.values_list("code", flat=True)) == ["medical"]
    assert member.skills_other == "魔术"
    assert member.has_slot(15) and member.has_slot(19) and not member.has_slot(0)
    assert set(MemberWillingness.objects.filter(member=member).values_list("aspect__code", flat=True)) == {
        "convenience",
        "safety",
    }
    assert [(h.name, h.relation) for h in HouseholdMember.objects.filter(member=member)] == [
        ("王芳", "spouse"),
        ("王小明", "child"),
    ]
    assert member.birth_year == 1985 and member.gender == "m"  # taken from the ID number
    assert StatusChange.objects.get(member=member).to_status == Status.PENDING
    assert AuditEvent.objects.filter(verb="member.register", object_id=str(member.pk)).exists()


def test_personal_data_is_encrypted_at_rest(personas):
    member = desk(personas, id_number=id_number(), address="康健路 100 弄 1 号 302 室")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT phone, id_number, address, phone_hash FROM members_member WHERE id = %s", [member.pk]
        )
        phone, number, address, phone_hash = cursor.fetchone()
    for stored, plain in ((phone, "13811112222"), (number, id_number()), (address, "康健路")):
        assert stored.startswith("enc1:") and plain not in stored
    assert phone_hash == blind_index("13811112222")
    # Exact search by phone works through the keyed hash.
    assert Member.objects.get(phone_hash=blind_index("138 1111 2222".replace(" ", ""))).pk == member.pk


def test_full_width_digits_and_stray_spaces_are_normalised_not_rejected(personas):
    member = desk(personas, phone=" １３８ １１１１ ２２２２ ", name="  李　四 ")
    assert member.phone == "13811112222"
    assert member.name == "李 四"


@pytest.mark.parametrize(
    ("extra", "field", "fragment"),
    [
        ({"phone": "1381111222"}, "phone", "手机号格式不正确"),
        ({"phone": "23811112222"}, "phone", "手机号格式不正确"),
        ({"phone": ""}, "phone", "手机号不能为空"),
        ({"name": "   "}, "name", "姓名不能为空"),
        ({"political_status": ""}, "political_status", "政治面貌不能为空"),
        ({"political_status": "党外人士"}, "political_status", "政治面貌应为"),
        ({"id_number": "110105194912310021"}, "id_number", "校验位"),
        ({"community": "不存在居民区"}, "community", "未知的居民区"),
        ({"microgrid": "NO-SUCH-GRID"}, "microgrid", "没有这个微网格"),
        ({"availability": "随时"}, "availability", "无法识别的服务时间"),
        ({"willingness": "唱歌"}, "willingness", "未知的服务意愿"),
        ({"birth_year": "去年"}, "birth_year", "无法识别的出生年份"),
        ({"hours_per_month": "500"}, "hours_per_month", "每月可服务小时"),
    ],
)
def test_bad_input_is_refused_with_chinese_and_english_naming_the_field(personas, extra, field, fragment):
    with pytest.raises(UserError) as caught:
        desk(personas, **extra)
    assert caught.value.field == field
    assert fragment in caught.value.zh and caught.value.en
    assert not Member.objects.exists()


def test_a_micro_grid_of_another_community_is_unknown(personas):
    other = personas.tree.estate_b.code
    with pytest.raises(UserError) as caught:
        desk(personas, microgrid=other)
    assert caught.value.field == "microgrid"


def test_duplicate_phone_is_caught_and_a_merge_offered(personas):
    first = services.member_register(
        actor=None, data=data(personas.tree), channel=Channel.PHONE, now=NOW
    ).member
    with pytest.raises(services.DuplicateFile) as caught:
        desk(personas, position="工程师", skills="法律")
    assert caught.value.existing.pk == first.pk and caught.value.visible
    merged = services.member_register(
        actor=personas.secretary_a,
        data=data(personas.tree, position="工程师", skills="法律"),
        channel=Channel.DESK,
        merge_into=first,
        now=NOW,
    )
    assert merged.merged and merged.member.pk == first.pk
    assert Member.objects.count() == 1
    first.refresh_from_db()
    assert first.position == "工程师" and first.skills.filter(code="legal").exists()
    assert AuditEvent.objects.filter(verb="member.merge").count() == 1


def test_duplicate_id_number_with_another_phone_is_caught(personas):
    desk(personas, id_number=id_number())
    with pytest.raises(services.DuplicateFile):
        desk(personas, phone="13999998888", id_number=id_number())


def test_phone_self_registration_duplicate_does_not_reveal_the_file(personas):
    desk(personas)
    with pytest.raises(services.DuplicateFile) as caught:
        services.member_register(actor=None, data=data(personas.tree), channel=Channel.PHONE, now=NOW)
    assert not caught.value.visible and "李" not in caught.value.zh


def test_the_database_refuses_two_active_files_for_one_phone(personas):
    first = desk(personas)
    clone = Member(
        community=first.community,
        org=first.community,
        name="x",
        phone=first.phone,
        phone_hash=first.phone_hash,
        political_status="full",
        channel=Channel.IMPORT,
        registered_at=NOW,
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()
    # Once the first file has left, the person may register again.
    services.member_leave(actor=personas.secretary_a, member=first, now=NOW)
    again = desk(personas)
    assert again.pk != first.pk


def test_outsider_gets_404_and_wrong_role_403(personas):
    member = desk(personas)
    with pytest.raises(Http404):
        services.member_approve(actor=personas.secretary_b, member=member, now=NOW)
    with pytest.raises(NotAllowed):
        services.member_approve(
            actor=personas.grid_leader,
            member=desk(personas, phone="13722223333", microgrid=personas.tree.microgrid_a.code),
            now=NOW,
        )
    with pytest.raises(Http404):
        services.member_register(
            actor=personas.secretary_b, data=data(personas.tree), channel=Channel.DESK, now=NOW
        )
    with pytest.raises(Http404):
        services.member_reveal(actor=personas.secretary_b, member=member)
    member.refresh_from_db()
    assert member.status == Status.PENDING


def test_approve_notifies_by_inbox_and_sms_and_grants_the_member_role(
    personas, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        registration = services.member_register(
            actor=personas.member,
            data=data(personas.tree, phone="13900000006"),
            channel=Channel.PHONE,
            user=personas.member,
            now=NOW,
        )
    with django_capture_on_commit_callbacks(execute=True):
        member = services.member_approve(actor=personas.secretary_a, member=registration.member, now=NOW)
    assert member.status == Status.APPROVED and member.approved_at == NOW
    notice = Notification.objects.filter(recipient=personas.member).order_by("-id").first()
    assert notice.title == "报到审核已通过"
    sms = OutboxMessage.objects.get(body__contains="报到审核已通过")
    assert sms.to == "13900000006"
    assert personas.member.role_assignments.filter(
        role=Role.MEMBER, org=personas.tree.community_a, is_active=True
    ).exists()


def test_return_needs_a_reason_the_member_sees_and_an_edit_resubmits(
    personas, django_capture_on_commit_callbacks
):
    member = services.member_register(
        actor=personas.member,
        data=data(personas.tree, phone="13900000006"),
        channel=Channel.PHONE,
        user=personas.member,
        now=NOW,
    ).member
    with pytest.raises(UserError) as caught:
        services.member_return(actor=personas.secretary_a, member=member, reason="  ", now=NOW)
    assert caught.value.field == "reason"
    with django_capture_on_commit_callbacks(execute=True):
        services.member_return(actor=personas.secretary_a, member=member, reason="请填写工作单位", now=NOW)
    member.refresh_from_db()
    assert member.status == Status.RETURNED and member.return_reason == "请填写工作单位"
    assert OutboxMessage.objects.filter(body__contains="请填写工作单位").exists()
    services.member_update(actor=personas.member, member=member, data={"employer": "示例公司"}, now=NOW)
    member.refresh_from_db()
    assert (
        member.status == Status.PENDING and member.employer.name == "示例公司" and member.return_reason == ""
    )
    assert list(member.history.values_list("to_status", flat=True)) == ["pending", "returned", "pending"]


def test_a_member_cannot_move_their_own_file_to_another_community(personas):
    member = services.member_register(
        actor=personas.member, data=data(personas.tree), channel=Channel.PHONE, user=personas.member, now=NOW
    ).member
    services.member_update(
        actor=personas.member, member=member, data={"community": personas.tree.community_b}, now=NOW
    )
    member.refresh_from_db()
    assert member.community == personas.tree.community_a


def test_transfer_moves_the_file_to_the_new_community_which_approves(
    personas, django_capture_on_commit_callbacks
):
    member = desk(personas)
    services.member_approve(actor=personas.secretary_a, member=member, now=NOW)
    with django_capture_on_commit_callbacks(execute=True):
        services.member_transfer(
            actor=personas.secretary_a, member=member, to_community=personas.tree.community_b, now=NOW
        )
    member.refresh_from_db()
    assert member.status == Status.TRANSFERRED and member.community == personas.tree.community_b
    assert OutboxMessage.objects.filter(body__contains="桂林苑居民区").exists()
    # The old community no longer sees it; the new one approves it.
    with pytest.raises(Http404):
        services.member_approve(actor=personas.secretary_a, member=member, now=NOW)
    services.member_approve(actor=personas.secretary_b, member=member, now=NOW)
    member.refresh_from_db()
    assert member.status == Status.APPROVED


def test_transfer_refuses_the_same_community_and_leave_twice(personas):
    member = desk(personas)
    with pytest.raises(UserError):
        services.member_transfer(
            actor=personas.secretary_a, member=member, to_community=personas.tree.community_a, now=NOW
        )
    services.member_leave(actor=personas.secretary_a, member=member, now=NOW)
    with pytest.raises(UserError) as caught:
        services.member_leave(actor=personas.secretary_a, member=member, now=NOW)
    assert caught.value.status == 409


def test_reveal_is_for_secretaries_and_is_audited(personas):
    member = desk(personas, id_number=id_number(), microgrid=personas.tree.microgrid_a.code)
    revealed = services.member_reveal(actor=personas.secretary_a, member=member)
    assert revealed["phone"] == "13811112222"
    assert AuditEvent.objects.filter(verb="member.reveal", actor=personas.secretary_a).count() == 1
    with pytest.raises(NotAllowed):
        services.member_reveal(actor=personas.grid_leader, member=Member.objects.get(pk=member.pk))


@pytest.mark.parametrize(
    ("days_after", "minutes", "anonymised"), [(365, -1, False), (365, 0, True), (365, 1, True)]
)
def test_left_files_are_anonymised_after_the_retention_period(
    personas, settings, days_after, minutes, anonymised
):
    settings.KANGLE_MEMBER_RETENTION_DAYS = 365
    member = desk(
        personas,
        id_number=id_number(),
        address="康健路 1 号",
        skills="医疗",
        willingness="便民服务",
        household="王芳(配偶)",
    )
    services.member_leave(actor=personas.secretary_a, member=member, now=NOW)
    moment = NOW + dt.timedelta(days=days_after, minutes=minutes)
    count = services.anonymise_left_members(now=moment)
    member.refresh_from_db()
    assert (count == 1) is anonymised
    if anonymised:
        assert (
            member.name.startswith("已匿名")
            and member.phone == ""
            and member.id_hash is None
            and member.address == ""
        )
        assert not HouseholdMember.objects.filter(member=member).exists()
        # Statistics stay: community, skills, willingness, history.
        assert member.community == personas.tree.community_a and member.skills.count() == 1
        assert member.willingness.count() == 1 and member.history.count() == 2
        assert services.anonymise_left_members(now=moment) == 0  # idempotent
    else:
        assert member.phone == "13811112222"


def test_periodic_job_is_registered(settings):
    assert ("kangle.members.jobs.anonymise_left_members", 3600) in settings.KANGLE_PERIODIC_JOBS
    from kangle.members.jobs import anonymise_left_members

    anonymise_left_members(worker_id="w", started_at=NOW, jobs_run=0)


def test_expected_numbers_per_micro_grid(personas):
    row = services.expected_set(
        actor=personas.secretary_a, org=personas.tree.microgrid_a, expected=30, now=NOW
    )
    assert row.expected == 30
    with pytest.raises(UserError):
        services.expected_set(actor=personas.secretary_a, org=personas.tree.microgrid_a, expected=-1, now=NOW)
    with pytest.raises(UserError):
        services.expected_set(actor=personas.secretary_a, org=personas.tree.estate_a, expected=3, now=NOW)
    with pytest.raises(Http404):
        services.expected_set(actor=personas.secretary_b, org=personas.tree.microgrid_a, expected=3, now=NOW)


def test_skill_taxonomy_is_seeded_and_editable(db):
    names = set(Skill.objects.values_list("name", flat=True))
    assert {
        "医疗",
        "法律",
        "理发",
        "水电维修",
        "心理咨询",
        "教育辅导",
        "信息技术",
        "文艺",
        "驾驶",
        "外语",
    } <= names
    Skill.objects.create(code="gardening", name="园艺")
    assert Skill.objects.filter(name="园艺").exists()


def test_renaming_an_aspect_in_the_catalogue_reaches_member_files(client, personas):
    from kangle.posts.models import ServiceAspect

    member = desk(personas, willingness="便民服务")
    ServiceAspect.objects.filter(code="convenience").update(name="便民志愿")
    client.force_login(personas.secretary_a)
    page = client.get(reverse("members:detail", args=[member.pk])).content.decode()
    assert "便民志愿" in page and "便民服务" not in page
    # The new name is what an import or a form accepts; the old one no longer names anything.
    other = desk(personas, phone="13800138123", name="王五", willingness="便民志愿")
    assert list(other.willingness.values_list("aspect__code", flat=True)) == ["convenience"]
    with pytest.raises(UserError) as caught:
        desk(personas, phone="13800138124", name="赵六", willingness="便民服务")
    assert caught.value.field == "willingness" and "未知的服务意愿：便民服务" in caught.value.zh
