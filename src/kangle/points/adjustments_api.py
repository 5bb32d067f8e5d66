"""/api/v1/adjustments/…: manual point adjustments with a second approval above the street's limit."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from ninja import Router, Schema
from ninja.pagination import paginate

from kangle.core.pagination import Listing, Pagination
from kangle.core.roles import Role
from kangle.members.models import Member
from kangle.orgs.models import OrgUnit
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset
from kangle.points.models import AdjustmentRequest, AdjustmentStatus
from kangle.points.services import adjustments

router = Router(tags=["adjustments"])


class AdjustmentRequestIn(Schema):
    member: int
    points: int
    reason: str


class AdjustOut(Schema):
    status: str  # "applied" or "pending"
    request: int | None
    entry: int | None
    points: int


class RequestOut(Schema):
    id: int
    member: int
    points: int
    reason: str
    status: str
    requested_by: str
    requested_at: dt.datetime


class DecideIn(Schema):
    approve: bool


class LimitIn(Schema):
    street: str
    approval_above: int


def _require(request) -> None:
    if not (request.user.is_superuser or request.user.has_role(Role.STREET_ADMIN)):
        raise Http404


def _request_out(r: AdjustmentRequest) -> dict:
    return {
        "id": r.pk,
        "member": r.member_id,
        "points": r.points,
        "reason": r.reason,
        "status": r.status,
        "requested_by": r.requested_by.username,
        "requested_at": r.requested_at,
    }


@router.post("/", response={201: AdjustOut, 202: AdjustOut})
def adjust(request, payload: AdjustmentRequestIn):
    _require(request)
    member = get_in_scope_or_404(request.user, Member.objects.select_related("community"), pk=payload.member)
    result = adjustments.points_adjust_request(
        actor=request.user, member=member, points=payload.points, reason=payload.reason
    )
    if isinstance(result, AdjustmentRequest):
        return 202, {"status": "pending", "request": result.pk, "entry": None, "points": result.points}
    return 201, {"status": "applied", "request": None, "entry": result.pk, "points": result.points}


@router.get("/requests", response=list[RequestOut])
@paginate(Pagination, page_size=50)
def pending(request):
    _require(request)
    rows = scope_queryset(
        request.user,
        AdjustmentRequest.objects.filter(status=AdjustmentStatus.PENDING).select_related("requested_by"),
        "org_path",
    )
    return Listing(rows.order_by("-requested_at", "-id"), row=_request_out, seek=("-requested_at", "-id"))


@router.post("/requests/{request_id}/decide", response=RequestOut)
def decide(request, request_id: int, payload: DecideIn):
    _require(request)
    pending_request = adjustments.access_request(request.user, request_id)
    decided = adjustments.adjustment_decide(
        actor=request.user, request=pending_request, approve=payload.approve
    )
    return _request_out(AdjustmentRequest.objects.select_related("requested_by").get(pk=decided.pk))


@router.put("/limit", response=LimitIn)
def set_limit(request, payload: LimitIn):
    _require(request)
    street = get_in_scope_or_404(request.user, OrgUnit.objects.all(), path_field="path", code=payload.street)
    row = adjustments.adjustment_limit_set(
        actor=request.user, street=street, approval_above=payload.approval_above
    )
    return {"street": street.code, "approval_above": row.approval_above}
