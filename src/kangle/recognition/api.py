"""/api/v1/recognition: commendation letters, nominations and member stories.

Staff see letters and nominations about members in their subtree (outside: 404); an employer Party
organisation's account sees the issued letters addressed to it. Published stories are public.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.pagination import paginate

from kangle.core.errors import UserError
from kangle.core.pagination import Listing, Pagination
from kangle.members.models import EmployerPartyOrg, Member
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404
from kangle.recognition import services
from kangle.recognition.models import CommendationLetter, Nomination, Story, StoryStatus
from kangle.recognition.selectors import access_letter, letters_for, nominations_for

router = Router(tags=["recognition"])


class LetterOut(Schema):
    id: int
    member: int
    member_name: str
    party_org: str
    status: str
    number: str
    issued_on: dt.date | None
    salutation: str
    body: str
    signature: str
    evidence: dict
    dispatches: list[dict]

    @staticmethod
    def of(letter: CommendationLetter, dispatches=()) -> dict:
        return {
            "id": letter.pk,
            "member": letter.member_id,
            "member_name": letter.member.name,
            "party_org": letter.party_org.name,
            "status": letter.status,
            "number": letter.number,
            "issued_on": letter.issued_on,
            "salutation": letter.salutation,
            "body": letter.body,
            "signature": letter.signature,
            "evidence": letter.evidence,
            "dispatches": [{"channel": d.channel, "to": d.to, "at": d.at} for d in dispatches],
        }


class LetterIn(Schema):
    member: int


class LetterPatch(Schema):
    body: str | None = None
    salutation: str | None = None


class NominationOut(Schema):
    id: int
    kind: str
    honour: str
    honour_label: str
    nominee: str
    member: int | None
    party_org: int | None
    status: str
    reason: str
    evidence: dict
    result: str
    result_on: dt.date | None
    steps: list[dict]

    @staticmethod
    def of(n: Nomination) -> dict:
        return {
            "id": n.pk,
            "kind": n.kind,
            "honour": n.honour,
            "honour_label": str(n.honour_label),
            "nominee": n.nominee_name,
            "member": n.member_id,
            "party_org": n.party_org_id,
            "status": n.status,
            "reason": n.reason,
            "evidence": n.evidence,
            "result": n.result,
            "result_on": n.result_on,
            "steps": [
                {"step": s.step, "decision": s.decision, "comment": s.comment, "at": s.at}
                for s in n.steps.all()
            ],
        }


class NominationIn(Schema):
    honour: str
    reason: str
    member: int | None = None
    party_org: int | None = None
    honour_name: str = ""


class ReviewIn(Schema):
    approve: bool
    comment: str = ""


class ResultIn(Schema):
    honoured: bool
    result: str
    result_on: dt.date | None = None


class StoryOut(Schema):
    id: int
    title: str
    summary: str
    body: str
    status: str
    published_at: dt.datetime | None
    members: list[str]
    activity_refs: list[str]

    @staticmethod
    def of(s: Story) -> dict:
        return {
            "id": s.pk,
            "title": s.title,
            "summary": s.summary,
            "body": s.body,
            "status": s.status,
            "published_at": s.published_at,
            "members": [m.name for m in s.members.all()],
            "activity_refs": s.activity_refs,
        }


class StoryIn(Schema):
    org: str
    title: str
    body: str
    summary: str = ""
    members: list[int] = []
    activity_refs: list[str] = []


# ------------------------------------------------------------------------------------------ letters
@router.get("/letters", response=list[LetterOut])
@paginate(Pagination, page_size=50)
def letters_list(request):
    rows = letters_for(request.user).order_by("-drafted_at", "-id")
    return Listing(rows, row=LetterOut.of, seek=("-drafted_at", "-id"))


@router.post("/letters", response={201: LetterOut})
def letters_draft(request, payload: LetterIn):
    member = get_in_scope_or_404(
        request.user, Member.objects.select_related("community", "party_org"), pk=payload.member
    )
    return 201, LetterOut.of(services.letter_draft(actor=request.user, member=member))


@router.get("/letters/{letter_id}", response=LetterOut)
def letters_detail(request, letter_id: int):
    letter = access_letter(request.user, letter_id)
    return LetterOut.of(letter, letter.dispatches.all())


@router.patch("/letters/{letter_id}", response=LetterOut)
def letters_update(request, letter_id: int, payload: LetterPatch):
    letter = access_letter(request.user, letter_id)
    letter = services.letter_update(
        actor=request.user, letter=letter, body=payload.body, salutation=payload.salutation
    )
    return LetterOut.of(letter)


@router.post("/letters/{letter_id}/issue", response=LetterOut)
def letters_issue(request, letter_id: int):
    letter = services.letter_issue(actor=request.user, letter=access_letter(request.user, letter_id))
    return LetterOut.of(letter, letter.dispatches.all())


@router.post("/letters/{letter_id}/send", response=LetterOut)
def letters_send(request, letter_id: int):
    letter = access_letter(request.user, letter_id)
    services.letter_send(actor=request.user, letter=letter)
    return LetterOut.of(letter, letter.dispatches.all())


@router.get("/letters/{letter_id}/pdf")
def letters_pdf(request, letter_id: int):
    letter = access_letter(request.user, letter_id)
    data = services.letter_download(actor=request.user, letter=letter)
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="commendation-{letter.year}-{letter.serial:03d}.pdf"'
    )
    return response


# -------------------------------------------------------------------------------------- nominations
@router.get("/nominations", response=list[NominationOut])
@paginate(Pagination, page_size=50)
def nominations_list(request):
    rows = nominations_for(request.user).order_by("-nominated_at", "-id")
    return Listing(rows, row=NominationOut.of, seek=("-nominated_at", "-id"))


@router.post("/nominations", response={201: NominationOut})
def nominations_create(request, payload: NominationIn):
    member = party_org = None
    if payload.member is not None:
        member = get_in_scope_or_404(
            request.user, Member.objects.select_related("community"), pk=payload.member
        )
    if payload.party_org is not None:
        party_org = EmployerPartyOrg.objects.filter(pk=payload.party_org).first()
        if party_org is None:
            raise Http404
    nomination = services.nominate(
        actor=request.user,
        honour=payload.honour,
        reason=payload.reason,
        member=member,
        party_org=party_org,
        honour_name=payload.honour_name,
    )
    return 201, NominationOut.of(nomination)


def _nomination(request, nomination_id: int) -> Nomination:
    return get_in_scope_or_404(
        request.user, Nomination.objects.select_related("member", "party_org", "org"), pk=nomination_id
    )


@router.post("/nominations/{nomination_id}/review", response=NominationOut)
def nominations_review(request, nomination_id: int, payload: ReviewIn):
    nomination = services.nomination_review(
        actor=request.user,
        nomination=_nomination(request, nomination_id),
        approve=payload.approve,
        comment=payload.comment,
    )
    return NominationOut.of(nomination)


@router.post("/nominations/{nomination_id}/result", response=NominationOut)
def nominations_result(request, nomination_id: int, payload: ResultIn):
    nomination = services.nomination_result(
        actor=request.user,
        nomination=_nomination(request, nomination_id),
        honoured=payload.honoured,
        result=payload.result,
        result_on=payload.result_on,
    )
    return NominationOut.of(nomination)


# ------------------------------------------------------------------------------------------ stories
@router.get("/stories", response=list[StoryOut], auth=None)
@paginate(Pagination, page_size=50)
def stories_public(request):
    rows = (
        Story.objects.filter(status=StoryStatus.PUBLISHED)
        .prefetch_related("members")
        .order_by("-published_at", "-id")
    )
    return Listing(rows, row=StoryOut.of, seek=("-published_at", "-id"))


@router.post("/stories", response={201: StoryOut})
def stories_create(request, payload: StoryIn):
    org = OrgUnit.objects.filter(code=payload.org).first()
    if org is None:
        raise UserError("unknown_unit", _("No organisation unit %(org)s"), field="org", org=payload.org)
    members = list(Member.objects.select_related("community").filter(pk__in=payload.members))
    if len(members) != len(set(payload.members)):
        raise UserError("unknown_member", _("Some members do not exist"), field="members")
    story = services.story_create(
        actor=request.user,
        org=org,
        title=payload.title,
        body=payload.body,
        summary=payload.summary,
        members=members,
        activity_refs=payload.activity_refs,
    )
    return 201, StoryOut.of(story)


@router.post("/stories/{story_id}/publish", response=StoryOut)
def stories_publish(request, story_id: int):
    story = get_in_scope_or_404(request.user, Story.objects.select_related("org"), pk=story_id)
    return StoryOut.of(services.story_publish(actor=request.user, story=story))
