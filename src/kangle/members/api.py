"""/api/v1/members: list/filter, detail, create, approve, return, transfer, leave — all scoped.

Outside the caller's subtree is a 404; a wrong role inside it is a 403; personal data is masked.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema

from kangle.core.crypto import blind_index
from kangle.core.errors import NotAllowed
from kangle.core.pagination import Listing, paginate_trusted
from kangle.core.roles import person_key
from kangle.core.text import normalise_phone
from kangle.members import permissions, selectors, services
from kangle.members.access import access_member
from kangle.members.constants import Channel
from kangle.members.models import Member
from kangle.orgs.models import OrgKind, OrgUnit, RegistrationPoint
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset

router = Router(tags=["members"])


class MemberRow(Schema):
    id: int
    name: str
    phone: str
    community: str
    community_name: str
    microgrid: str | None
    status: str
    channel: str
    point: str | None

    @staticmethod
    def from_member(m: Member) -> dict:
        return {
            "id": m.pk,
            "name": m.name,
            "phone": m.masked_phone,
            "community": m.community.code,
            "community_name": m.community.name,
            "microgrid": m.microgrid.code if m.microgrid_id else None,
            "status": m.status,
            "channel": m.channel,
            "point": m.point.code if m.point_id else None,
        }


class MemberDetail(MemberRow):
    gender: str
    birth_year: int | None
    id_number: str
    address: str
    political_status: str
    employer: str | None
    party_org: str | None
    position: str
    skills: list[str]
    skills_other: str
    availability: list[str]
    willingness: list[str]
    hours_per_month: int
    household: list[dict]
    return_reason: str
    history: list[dict]


class MemberIn(Schema):
    name: str
    phone: str
    political_status: str
    community: str
    gender: str = ""
    birth_year: int | str | None = None
    id_number: str = ""
    address: str = ""
    employer: str = ""
    party_org: str = ""
    position: str = ""
    microgrid: str = ""
    skills: list[str] = []
    skills_other: str = ""
    availability: list[str] = []
    willingness: list[str] = []
    hours_per_month: int | None = None
    household: list[dict] = []
    point: str = ""
    merge_into: int | None = None


class ReasonIn(Schema):
    reason: str = ""


class TransferIn(Schema):
    to_community: str
    reason: str = ""


def _require_staff(request) -> None:
    if not permissions.can_view_members(request.user):
        raise NotAllowed()


def _detail(m: Member) -> dict:
    from kangle.members.constants import SLOTS

    parts = selectors.file_parts(m.pk)
    return {
        **MemberRow.from_member(m),
        "gender": m.gender,
        "birth_year": m.birth_year,
        "id_number": m.masked_id_number,
        "address": m.masked_address,
        "political_status": m.political_status,
        "employer": m.employer.name if m.employer_id else None,
        "party_org": m.party_org.name if m.party_org_id else None,
        "position": m.position,
        "skills": [row["code"] for row in parts["skills"]],
        "skills_other": m.skills_other,
        "availability": [code for index, code in SLOTS if m.has_slot(index)],
        "willingness": [row["aspect__code"] for row in parts["willingness"]],
        "hours_per_month": m.hours_per_month,
        "household": parts["household"],
        "return_reason": m.return_reason,
        "history": [
            {"from": h["from_status"], "to": h["to_status"], "reason": h["reason"], "at": h["at"].isoformat()}
            for h in parts["history"]
        ],
    }


def _get(request, pk: int) -> Member:
    _require_staff(request)
    return access_member(request.user, pk)


@router.get("/", response=list[MemberRow])
@paginate_trusted(page_size=50)
def member_list(
    request,
    community: str = "",
    microgrid: str = "",
    skill: str = "",
    status: str = "",
    channel: str = "",
    phone: str = "",
):
    _require_staff(request)
    normalised = normalise_phone(phone)
    filters = {
        "community": community,
        "microgrid": microgrid,
        "skill": skill,
        "status": status,
        "channel": channel,
        "phone_hash": blind_index(normalised) if normalised else "",
    }
    given = tuple(name for name, value in filters.items() if value)
    actor = request.user

    def matching(*values) -> list:
        return [
            selectors.filter_members(selectors.members_for(actor), **dict(zip(given, values, strict=True)))
        ]

    return Listing.shaped(
        ("members.list", person_key(actor), given),
        lambda *values: [
            selectors.list_rows(actor, files, dict(zip(given, values, strict=True)).get("community", ""))
            for files in matching(*values)
        ],
        tuple(filters[name] for name in given),
        matching,  # counted without the joins of the shown columns
        rows=selectors.with_phone_masks,
        row=_row_out,
        seek=selectors.ROW_ORDER,
    )


def _row_out(row: dict) -> dict:
    return {
        "id": row["id"],
        "name": row["name"],
        "phone": row["phone_mask"],
        "community": row["community__code"],
        "community_name": row["community__name"],
        "microgrid": row["microgrid__code"],
        "status": row["status"],
        "channel": row["channel"],
        "point": row["point__code"],
    }


@router.get("/{pk}", response=MemberDetail)
def member_detail(request, pk: int):
    return _detail(_get(request, pk))


@router.post("/", response={201: MemberDetail})
def member_create(request, payload: MemberIn):
    _require_staff(request)
    data = payload.dict()
    point_code, merge_into_pk = data.pop("point"), data.pop("merge_into")
    point = None
    if point_code:
        point = scope_queryset(request.user, RegistrationPoint.objects.filter(code=point_code)).first()
        if point is None:
            raise Http404
    community = OrgUnit.objects.filter(code=payload.community, kind=OrgKind.COMMUNITY).first()
    if community is not None:
        data["community"] = community
    merge_into = (
        get_in_scope_or_404(request.user, Member.objects.all(), "org__path", pk=merge_into_pk)
        if merge_into_pk
        else None
    )
    try:
        registration = services.member_register(
            actor=request.user, data=data, channel=Channel.DESK, point=point, merge_into=merge_into
        )
    except PermissionDenied:
        raise NotAllowed() from None
    return 201, _detail(_get(request, registration.member.pk))


@router.post("/{pk}/approve", response=MemberDetail)
def member_approve(request, pk: int):
    member = services.member_approve(actor=request.user, member=_get(request, pk))
    return _detail(_get(request, member.pk))


@router.post("/{pk}/return", response=MemberDetail)
def member_return(request, pk: int, payload: ReasonIn):
    member = services.member_return(actor=request.user, member=_get(request, pk), reason=payload.reason)
    return _detail(_get(request, member.pk))


@router.post("/{pk}/transfer", response=MemberRow)
def member_transfer(request, pk: int, payload: TransferIn):
    member = _get(request, pk)
    target = OrgUnit.objects.filter(code=payload.to_community, kind=OrgKind.COMMUNITY).first()
    if target is None:
        from kangle.core.errors import UserError

        raise UserError(
            "invalid_community",
            _("Unknown community: %(to_community)s"),
            field="to_community",
            to_community=payload.to_community,
        )
    member = services.member_transfer(
        actor=request.user, member=member, to_community=target, reason=payload.reason
    )
    member = Member.objects.select_related("community", "microgrid", "point").get(pk=member.pk)
    return MemberRow.from_member(member)


@router.post("/{pk}/leave", response=MemberDetail)
def member_leave(request, pk: int, payload: ReasonIn):
    member = services.member_leave(actor=request.user, member=_get(request, pk), reason=payload.reason)
    return _detail(_get(request, member.pk))
