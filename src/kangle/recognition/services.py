"""Every write in recognition: letters (draft → issue → download / e-mail), nominations, stories.

A letter is drafted from the member's verified history as the points ledger records it
(``points.selectors.service_summary``: awards not reversed, with their evidence); activities feed that
history through ``points.services.award_for_service``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError, render
from kangle.core.timeutil import resolve_now
from kangle.members.models import EmployerPartyOrg, Member
from kangle.notify.services import queue_email
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import in_scope
from kangle.points.selectors import service_summary
from kangle.points.services import street_of
from kangle.recognition import permissions
from kangle.recognition.models import (
    CommendationLetter,
    DispatchChannel,
    Honour,
    LetterDispatch,
    LetterSequence,
    LetterStatus,
    Nomination,
    NominationStatus,
    NominationStep,
    NomineeKind,
    Story,
    StoryStatus,
)
from kangle.recognition.pdf import render_letter

LETTER_SUBJECT = _("Commendation letter %(number)s")
LETTER_BODY = _(
    "%(salutation)s:\n\nEnclosed is the commendation letter (%(number)s) of %(signature)s, commending "
    "comrade %(member)s of your organisation for outstanding community service.\n\n%(signature)s"
)


def _user(actor):
    return actor if getattr(actor, "is_authenticated", False) else None


def _jsonable(summary: dict) -> dict:
    out = dict(summary)
    for key in ("first", "last"):
        out[key] = timezone.localtime(out[key]).date().isoformat() if out[key] else None
    out["titles"] = [list(item) for item in summary["titles"]]
    return out


def signature_of(street: OrgUnit) -> str:
    return f"中共{street.name}工作委员会"


def number_prefix(street: OrgUnit) -> str:
    return street.name.removesuffix("街道") + "党工委表"


def draft_text(member: Member, evidence: dict) -> str:
    first = evidence.get("first") or ""
    since = f"自{first[:4]}年{int(first[5:7])}月" if first else ""
    approval = ""
    if evidence.get("approval") is not None:
        approval = f"，居民评价{evidence['ratings']}次、平均{evidence['approval']}分（满分5分）"
    titles = "、".join(f"“{title}”" for title, _count in evidence.get("titles", [])[:5])
    works = f"先后参与{titles}等服务，" if titles else ""
    return (
        f"贵单位{member.name}同志作为在职党员，{since}到{member.community.name}报到以来，主动认领服务岗位，"
        f"积极参与社区志愿服务和基层治理。{works}经社区核实，累计参与服务{evidence['services']}次、"
        f"服务时长{evidence['hours']:g}小时，惠及群众{evidence['beneficiaries']}人次，获得服务积分"
        f"{evidence['points_earned']}分{approval}。\n"
        f"{member.name}同志立足本职、心系社区，以实际行动践行了在职党员“报到服务、奉献社区”的承诺，"
        f"在居民群众中树立了良好形象。特致此信，对{member.name}同志予以表扬，并向贵单位长期以来对社区工作的"
        f"支持表示衷心感谢！\n"
        f"希望贵单位继续支持在职党员回社区报到服务，共同推动基层治理和服务群众工作。"
    )


def summary_lines(evidence: dict) -> list[str]:
    lines = [
        f"服务次数：{evidence['services']}次；服务时长：{evidence['hours']:g}小时；惠及群众：{evidence['beneficiaries']}人次；"
        f"服务积分：{evidence['points_earned']}分。",
    ]
    if evidence.get("first"):
        lines.append(f"记录期间：{evidence['first']} 至 {evidence['last']}。")
    if evidence.get("approval") is not None:
        lines.append(f"居民评价：{evidence['ratings']}次，平均{evidence['approval']}分（满分5分）。")
    else:
        lines.append("居民评价：暂无记录。")
    return lines


# ------------------------------------------------------------------------------------------------ letters
def letter_draft(*, actor, member: Member, now: dt.datetime | None = None) -> CommendationLetter:
    moment = resolve_now(now)
    if not in_scope(actor, member.community.path):
        raise Http404
    if not permissions.can_draft_letter(actor, member.community):
        raise NotAllowed()
    if member.party_org_id is None:
        raise UserError(
            "no_party_org",
            _("%(name)s's file names no employer Party organisation to address the letter to"),
            field="member",
            name=member.name,
        )
    evidence = _jsonable(service_summary(member))
    if not evidence["services"]:
        raise UserError(
            "no_verified_service",
            _("%(name)s has no verified service yet; a letter cannot be drafted"),
            field="member",
            name=member.name,
        )
    street = street_of(member.community)
    with transaction.atomic():
        letter = CommendationLetter.objects.create(
            street=street,
            org=member.community,
            member=member,
            party_org=member.party_org,
            salutation=member.party_org.name,
            body=draft_text(member, evidence),
            signature=signature_of(street),
            evidence=evidence,
            drafted_by=_user(actor),
            drafted_at=moment,
        )
        audit.record(
            actor=actor,
            verb="letter.draft",
            obj=letter,
            now=moment,
            details={"member": member.pk},
        )
    return letter


def letter_update(
    *,
    actor,
    letter: CommendationLetter,
    body: str | None = None,
    salutation: str | None = None,
    now: dt.datetime | None = None,
) -> CommendationLetter:
    moment = resolve_now(now)
    if not in_scope(actor, letter.org.path):
        raise Http404
    if not permissions.can_draft_letter(actor, letter.org):
        raise NotAllowed()
    with transaction.atomic():
        letter = CommendationLetter.objects.select_for_update().get(pk=letter.pk)
        if letter.status != LetterStatus.DRAFT:
            raise UserError("letter_issued", _("The letter has been issued and cannot change"), field="body")
        if body is not None:
            if not body.strip():
                raise UserError("body_required", _("The text cannot be empty"), field="body")
            letter.body = body.strip()
        if salutation is not None:
            if not salutation.strip():
                raise UserError("salutation_required", _("The addressee cannot be empty"), field="salutation")
            letter.salutation = salutation.strip()[:200]
        letter.save(update_fields=["body", "salutation"])
        audit.record(actor=actor, verb="letter.update", obj=letter, now=moment)
    return letter


def letter_issue(*, actor, letter: CommendationLetter, now: dt.datetime | None = None) -> CommendationLetter:
    """Number, date and render the letter; from now on it is fixed."""
    moment = resolve_now(now)
    if not in_scope(actor, letter.org.path):
        raise Http404
    if not permissions.can_issue_letter(actor, letter.street):
        raise NotAllowed(_("Only a street admin may issue a letter"))
    day = timezone.localtime(moment).date()
    with transaction.atomic():
        letter = CommendationLetter.objects.select_for_update().select_related("street").get(pk=letter.pk)
        if letter.status != LetterStatus.DRAFT:
            raise UserError("letter_issued", _("The letter has already been issued"), field="letter")
        LetterSequence.objects.get_or_create(street=letter.street, year=day.year)
        sequence = LetterSequence.objects.select_for_update().get(street=letter.street, year=day.year)
        sequence.last += 1
        sequence.save(update_fields=["last"])
        letter.year, letter.serial = day.year, sequence.last
        letter.number = f"{number_prefix(letter.street)}〔{day.year}〕{sequence.last:03d}号"
        letter.issued_on, letter.issued_at, letter.issued_by = day, moment, _user(actor)
        letter.status = LetterStatus.ISSUED
        letter.pdf = render_letter(
            number=letter.number,
            salutation=letter.salutation,
            body=letter.body,
            signature=letter.signature,
            issued_on=day,
            summary_lines=summary_lines(letter.evidence),
        )
        letter.save(
            update_fields=["year", "serial", "number", "issued_on", "issued_at", "issued_by", "status", "pdf"]
        )
        audit.record(
            actor=actor,
            verb="letter.issue",
            obj=letter,
            now=moment,
            details={"number": letter.number},
        )
    return letter


def can_see_letter(actor, letter: CommendationLetter) -> bool:
    if permissions.is_party_org_account(actor, letter.party_org):
        return letter.status == LetterStatus.ISSUED
    return in_scope(actor, letter.org.path) and permissions.is_staff(actor)


def letter_download(*, actor, letter: CommendationLetter, now: dt.datetime | None = None) -> bytes:
    """The issued PDF; every download is recorded (staff in scope, or the addressed Party organisation)."""
    moment = resolve_now(now)
    if not can_see_letter(actor, letter):
        raise Http404
    if letter.status != LetterStatus.ISSUED or not letter.pdf:
        raise UserError(
            "letter_not_issued", _("The letter has not been issued yet"), field="letter", status=409
        )
    with transaction.atomic():
        LetterDispatch.objects.create(
            letter=letter, channel=DispatchChannel.DOWNLOAD, actor=_user(actor), at=moment
        )
        audit.record(actor=actor, verb="letter.download", obj=letter, now=moment)
    return bytes(letter.pdf)


def letter_send(*, actor, letter: CommendationLetter, now: dt.datetime | None = None) -> LetterDispatch:
    """E-mail the issued PDF to the employer Party organisation's contact (through the outbox)."""
    moment = resolve_now(now)
    if not can_see_letter(actor, letter):
        raise Http404
    if not permissions.can_issue_letter(actor, letter.street):
        raise NotAllowed(_("Only a street admin may send a letter"))
    if letter.status != LetterStatus.ISSUED:
        raise UserError("letter_not_issued", _("Issue the letter before sending it"), field="letter")
    party_org: EmployerPartyOrg = letter.party_org
    address = party_org.email or party_org.employer.email
    if not address:
        raise UserError(
            "no_email", _("%(name)s has no e-mail address on file"), field="party_org", name=party_org.name
        )
    params = {
        "number": letter.number,
        "salutation": letter.salutation,
        "signature": letter.signature,
        "member": letter.member.name,
    }
    with transaction.atomic():
        message = queue_email(
            to=address,
            # An employer's address has no account behind it: the letter goes in the deployment's language.
            subject=render(LETTER_SUBJECT, params, settings.LANGUAGE_CODE),
            body=render(LETTER_BODY, params, settings.LANGUAGE_CODE),
            attachment_name=f"commendation-{letter.year}-{letter.serial:03d}.pdf",
            attachment=bytes(letter.pdf),
            reference=f"letter:{letter.pk}",
            now=moment,
        )
        dispatch = LetterDispatch.objects.create(
            letter=letter,
            channel=DispatchChannel.EMAIL,
            to=address,
            actor=_user(actor),
            at=moment,
            outbox_id=message.pk,
        )
        audit.record(actor=actor, verb="letter.send", obj=letter, now=moment, details={"to": address})
    return dispatch


# -------------------------------------------------------------------------------------------- nominations
def nominate(
    *,
    actor,
    honour: str,
    reason: str,
    member: Member | None = None,
    party_org: EmployerPartyOrg | None = None,
    honour_name: str = "",
    now: dt.datetime | None = None,
) -> Nomination:
    """Nominate a member (community staff and above, in scope) or a branch (street admins)."""
    moment = resolve_now(now)
    if (member is None) == (party_org is None):
        raise UserError("nominee_required", _("Choose one member or one branch"), field="member")
    if member is not None:
        if not in_scope(actor, member.community.path):
            raise Http404
        if not permissions.can_nominate(actor, member.community):
            raise NotAllowed()
        unit, kind = member.community, NomineeKind.MEMBER
    else:
        streets = (
            [OrgUnit.objects.get(pk=pk) for pk in actor.units_for("street_admin")]
            if actor.is_authenticated
            else []
        )
        if actor.is_superuser and not streets:
            raise UserError("street_required", _("Nominate a branch as a street admin"), field="party_org")
        if not streets:
            raise Http404
        unit, kind = streets[0], NomineeKind.BRANCH
    if honour not in Honour.values:
        raise UserError("invalid_honour", _("Unknown honour"), field="honour")
    if honour == Honour.OTHER and not honour_name.strip():
        raise UserError("honour_name_required", _("Name the honour"), field="honour_name")
    reason = (reason or "").strip()
    if not reason:
        raise UserError("reason_required", _("A reason for the nomination is required"), field="reason")
    evidence = _jsonable(service_summary(member)) if member is not None else {}
    with transaction.atomic():
        nomination = Nomination.objects.create(
            kind=kind,
            honour=honour,
            honour_name=honour_name.strip()[:100],
            member=member,
            party_org=party_org,
            org=unit,
            reason=reason,
            evidence=evidence,
            nominated_by=_user(actor),
            nominated_at=moment,
        )
        NominationStep.objects.create(
            nomination=nomination,
            step="nominate",
            decision="submitted",
            comment=reason[:500],
            actor=_user(actor),
            at=moment,
        )
        audit.record(
            actor=actor,
            verb="nomination.create",
            obj=nomination,
            now=moment,
            details={"honour": honour, "kind": kind},
        )
    return nomination


def nomination_review(
    *, actor, nomination: Nomination, approve: bool, comment: str = "", now: dt.datetime | None = None
) -> Nomination:
    """The next review step: area review (member nominations), then street review."""
    moment = resolve_now(now)
    if not in_scope(actor, nomination.org.path):
        raise Http404
    with transaction.atomic():
        nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
        needs_area = nomination.kind == NomineeKind.MEMBER and nomination.status == NominationStatus.SUBMITTED
        if needs_area:
            if not permissions.can_review_as_area(actor, nomination.org):
                raise NotAllowed(_("The area reviews this step"))
            step, passed = "area_review", NominationStatus.AREA_APPROVED
        elif nomination.status in (NominationStatus.AREA_APPROVED, NominationStatus.SUBMITTED):
            if not permissions.can_review_as_street(actor, nomination.org):
                raise NotAllowed(_("The street reviews this step"))
            step, passed = "street_review", NominationStatus.STREET_APPROVED
        else:
            raise UserError("not_under_review", _("This nomination is not under review"), field="status")
        if not approve and not comment.strip():
            raise UserError("comment_required", _("Give a comment when not approving"), field="comment")
        nomination.status = passed if approve else NominationStatus.REJECTED
        nomination.save(update_fields=["status"])
        NominationStep.objects.create(
            nomination=nomination,
            step=step,
            decision="approve" if approve else "reject",
            comment=comment.strip()[:500],
            actor=_user(actor),
            at=moment,
        )
        audit.record(
            actor=actor,
            verb="nomination.review",
            obj=nomination,
            now=moment,
            details={"step": step, "approve": approve},
        )
    return nomination


def nomination_result(
    *,
    actor,
    nomination: Nomination,
    honoured: bool,
    result: str,
    result_on: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Nomination:
    """Record the outcome (e.g. named district excellent Party member); it shows on the member's file."""
    moment = resolve_now(now)
    if not in_scope(actor, nomination.org.path):
        raise Http404
    if not permissions.can_review_as_street(actor, nomination.org):
        raise NotAllowed()
    result = (result or "").strip()
    if not result:
        raise UserError("result_required", _("Describe the result"), field="result")
    with transaction.atomic():
        nomination = Nomination.objects.select_for_update().get(pk=nomination.pk)
        if nomination.status != NominationStatus.STREET_APPROVED:
            raise UserError(
                "not_recommended", _("Only a nomination the street recommended gets a result"), field="status"
            )
        nomination.status = NominationStatus.HONOURED if honoured else NominationStatus.NOT_HONOURED
        nomination.result = result[:300]
        nomination.result_on = result_on or timezone.localtime(moment).date()
        nomination.save(update_fields=["status", "result", "result_on"])
        NominationStep.objects.create(
            nomination=nomination,
            step="result",
            decision="honoured" if honoured else "not_honoured",
            comment=result[:500],
            actor=_user(actor),
            at=moment,
        )
        audit.record(
            actor=actor,
            verb="nomination.result",
            obj=nomination,
            now=moment,
            details={"honoured": honoured},
        )
    return nomination


# ------------------------------------------------------------------------------------------------ stories
def story_create(
    *,
    actor,
    org: OrgUnit,
    title: str,
    body: str,
    summary: str = "",
    members=(),
    activity_refs=(),
    now: dt.datetime | None = None,
) -> Story:
    moment = resolve_now(now)
    if not in_scope(actor, org.path):
        raise Http404
    if not permissions.can_publish_story(actor, org):
        raise NotAllowed()
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise UserError("title_required", _("A title is required"), field="title")
    if not body:
        raise UserError("body_required", _("The text is required"), field="body")
    members = list(members)
    for member in members:
        if not in_scope(actor, member.community.path):
            raise Http404
    refs = [str(ref)[:80] for ref in activity_refs]
    with transaction.atomic():
        story = Story.objects.create(
            org=org,
            title=title[:120],
            summary=(summary or "").strip()[:300],
            body=body,
            activity_refs=refs,
            created_by=_user(actor),
            created_at=moment,
        )
        story.members.set(members)
        audit.record(actor=actor, verb="story.create", obj=story, now=moment)
    return story


def story_publish(*, actor, story: Story, publish: bool = True, now: dt.datetime | None = None) -> Story:
    moment = resolve_now(now)
    if not in_scope(actor, story.org.path):
        raise Http404
    if not permissions.can_publish_story(actor, story.org):
        raise NotAllowed()
    with transaction.atomic():
        story.status = StoryStatus.PUBLISHED if publish else StoryStatus.DRAFT
        story.published_at = moment if publish else None
        story.save(update_fields=["status", "published_at"])
        audit.record(actor=actor, verb="story.publish", obj=story, now=moment, details={"publish": publish})
    return story
