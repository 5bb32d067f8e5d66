"""Commendation letters, nominations and stories (services)."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess

import pytest
from django.http import Http404

from kangle.core.errors import NotAllowed, UserError
from kangle.notify.models import OutboxMessage
from kangle.recognition import services
from kangle.recognition.models import LetterDispatch, NominationStatus
from kangle.recognition.pdf import chinese_date
from points.conftest import T0, award

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(member_a, rule):
    award(
        member_a,
        "s1",
        difficulty=4,
        minutes=180,
        evidence={"title": "爱心益剪", "beneficiaries": 35, "rating": 5},
    )
    award(
        member_a,
        "s2",
        difficulty=3,
        minutes=120,
        at=T0 + dt.timedelta(days=30),
        evidence={"title": "夏送凉", "beneficiaries": 12, "rating": 4},
    )
    return member_a


def test_chinese_date():
    assert chinese_date(dt.date(2026, 11, 29)) == "二〇二六年十一月二十九日"
    assert chinese_date(dt.date(2026, 1, 10)) == "二〇二六年一月十日"
    assert chinese_date(dt.date(2026, 10, 1)) == "二〇二六年十月一日"


def test_letter_draft_from_verified_history(personas, served):
    letter = services.letter_draft(actor=personas.secretary_a, member=served, now=T0 + dt.timedelta(days=40))
    ev = letter.evidence
    assert (ev["services"], ev["hours"], ev["beneficiaries"], ev["ratings"], ev["approval"]) == (
        2,
        5.0,
        47,
        2,
        4.5,
    )
    assert "王建华" in letter.body and "47人次" in letter.body and "“爱心益剪”" in letter.body
    assert letter.salutation == "美发沙龙有限公司党支部" and letter.signature == "中共康健街道工作委员会"
    assert letter.status == "draft" and not letter.number


def test_letter_for_member_without_verified_service(personas, member_a, rule):
    with pytest.raises(UserError) as caught:
        services.letter_draft(actor=personas.secretary_a, member=member_a, now=T0)
    assert caught.value.code == "no_verified_service" and caught.value.field == "member"
    # A reversed award does not count as verified service.
    award(member_a, "x")
    from kangle.points.services import reverse_award

    reverse_award(actor=None, source_type="test", source_id="x", reason="撤销")
    with pytest.raises(UserError) as caught:
        services.letter_draft(actor=personas.secretary_a, member=member_a, now=T0)
    assert caught.value.code == "no_verified_service"


def test_letter_permissions(personas, served):
    with pytest.raises(Http404):
        services.letter_draft(actor=personas.secretary_b, member=served, now=T0)
    with pytest.raises(Http404):
        services.letter_draft(actor=personas.member, member=served, now=T0)
    letter = services.letter_draft(actor=personas.secretary_a, member=served, now=T0 + dt.timedelta(days=40))
    with pytest.raises(NotAllowed):
        services.letter_issue(actor=personas.secretary_a, letter=letter)
    with pytest.raises(Http404):
        services.letter_download(
            actor=personas.employer, letter=letter
        )  # not issued: not shown to the employer


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_issue_numbers_renders_and_sends(personas, served, tmp_path):
    moment = T0 + dt.timedelta(days=40)
    first = services.letter_draft(actor=personas.secretary_a, member=served, now=moment)
    second = services.letter_draft(actor=personas.street_admin, member=served, now=moment)
    first = services.letter_issue(actor=personas.street_admin, letter=first, now=moment)
    second = services.letter_issue(actor=personas.street_admin, letter=second, now=moment)
    assert first.number == "康健党工委表〔2026〕001号" and second.number == "康健党工委表〔2026〕002号"
    assert first.pdf[:5] == b"%PDF-"
    pdf = tmp_path / "letter.pdf"
    pdf.write_bytes(first.pdf)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")], check=True
    )
    assert list(tmp_path.glob("page*.png"))
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert "NotoSerifCJK" in fonts.replace(" ", "") or "Noto" in fonts
    assert " yes " in fonts  # embedded
    with pytest.raises(UserError):
        services.letter_update(actor=personas.secretary_a, letter=first, body="改")

    dispatch = services.letter_send(actor=personas.street_admin, letter=first, now=moment)
    mail = OutboxMessage.objects.get(pk=dispatch.outbox_id)
    assert mail.to == "party@example.com" and bytes(mail.attachment) == bytes(first.pdf)
    assert mail.attachment_name.endswith(".pdf")
    # An employer's address has no account behind it: the mail is in the deployment's language.
    assert mail.subject == f"表扬信 {first.number}"
    assert mail.body == (
        f"{first.salutation}：\n\n随信附上{first.signature}表扬信（{first.number}），"
        f"表扬贵单位{first.member.name}同志在社区服务中的突出表现。\n\n{first.signature}"
    )
    data = services.letter_download(actor=personas.employer, letter=first, now=moment)
    assert data == bytes(first.pdf)
    assert set(LetterDispatch.objects.values_list("channel", flat=True)) == {"email", "download"}
    with pytest.raises(Http404):
        services.letter_download(actor=personas.secretary_b, letter=first)


def test_nomination_steps_and_result(personas, served):
    nomination = services.nominate(
        actor=personas.secretary_a,
        member=served,
        honour="excellent_member",
        reason="带领支部党员每月义务理发",
        now=T0,
    )
    assert nomination.evidence["services"] == 2
    with pytest.raises(NotAllowed):
        services.nomination_review(actor=personas.secretary_a, nomination=nomination, approve=True)
    with pytest.raises(Http404):
        services.nomination_review(actor=personas.secretary_b, nomination=nomination, approve=True)
    nomination = services.nomination_review(
        actor=personas.area_admin, nomination=nomination, approve=True, now=T0
    )
    assert nomination.status == NominationStatus.AREA_APPROVED
    with pytest.raises(NotAllowed):
        services.nomination_review(actor=personas.area_admin, nomination=nomination, approve=True)
    with pytest.raises(UserError):
        services.nomination_result(
            actor=personas.street_admin, nomination=nomination, honoured=True, result="x"
        )
    nomination = services.nomination_review(
        actor=personas.street_admin, nomination=nomination, approve=True, now=T0
    )
    nomination = services.nomination_result(
        actor=personas.street_admin,
        nomination=nomination,
        honoured=True,
        result="2026年度徐汇区优秀共产党员",
        now=T0,
    )
    assert nomination.status == "honoured" and served.nominations.get().result == "2026年度徐汇区优秀共产党员"
    assert [s.step for s in nomination.steps.all()] == ["nominate", "area_review", "street_review", "result"]


def test_nomination_outside_scope_is_404(personas, member_b, rule):
    with pytest.raises(Http404):
        services.nominate(actor=personas.secretary_a, member=member_b, honour="excellent_member", reason="x")


def test_nomination_bad_input(personas, served, party_org):
    with pytest.raises(UserError) as caught:
        services.nominate(actor=personas.secretary_a, member=served, honour="excellent_member", reason=" ")
    assert caught.value.field == "reason"
    with pytest.raises(UserError) as caught:
        services.nominate(actor=personas.secretary_a, member=served, honour="nope", reason="x")
    assert caught.value.field == "honour"
    with pytest.raises(UserError) as caught:
        services.nominate(actor=personas.secretary_a, honour="excellent_member", reason="x")
    assert caught.value.field == "member"
    with pytest.raises(Http404):
        services.nominate(actor=personas.secretary_a, party_org=party_org, honour="advanced_org", reason="x")
    branch = services.nominate(
        actor=personas.street_admin, party_org=party_org, honour="advanced_org", reason="集体报到、集体服务"
    )
    rejected = services.nomination_review(
        actor=personas.street_admin, nomination=branch, approve=False, comment="材料不全"
    )
    assert rejected.status == "rejected"
    with pytest.raises(UserError):
        services.nomination_review(actor=personas.street_admin, nomination=branch, approve=True)


def test_story_publish(personas, served):
    with pytest.raises(UserError) as caught:
        services.story_create(actor=personas.secretary_a, org=personas.tree.community_a, title="", body="x")
    assert caught.value.field == "title"
    with pytest.raises(Http404):
        services.story_create(actor=personas.secretary_b, org=personas.tree.community_a, title="t", body="b")
    story = services.story_create(
        actor=personas.secretary_a,
        org=personas.tree.community_a,
        title="剪出温暖",
        body="正文",
        members=[served],
        activity_refs=["activity:1"],
    )
    assert story.status == "draft"
    story = services.story_publish(actor=personas.secretary_a, story=story, now=T0)
    assert story.status == "published" and story.published_at == T0
