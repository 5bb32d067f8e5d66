"""/api/v1/posts: catalogue, posts, claims, recommendations both ways and bulk proposals — all scoped.

Outside the caller's subtree (or a member's reach) is a 404; a wrong role inside it is a 403.
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from ninja import Router, Schema
from ninja.pagination import paginate

from kangle.core.errors import NotAllowed, UserError
from kangle.core.pagination import Listing, Pagination
from kangle.members.models import Member
from kangle.orgs.access import access_unit
from kangle.orgs.scope import get_in_scope_or_404
from kangle.posts import matching, permissions, selectors, services
from kangle.posts.models import BulkProposal, Claim, Post, PostStatus, ServiceAspect, ServiceCategory
from kangle.posts.schedule import codes_from_mask

router = Router(tags=["posts"])


# --- Schemas ----------------------------------------------------------------------------------------------
class AspectOut(Schema):
    code: str
    name: str
    description: str
    sort_order: int
    is_active: bool


class CategoryOut(Schema):
    code: str
    name: str
    sort_order: int
    is_active: bool
    aspects: list[AspectOut]


class CatalogueEdit(Schema):
    name: str | None = None
    sort_order: int | None = None
    is_active: bool | None = None
    description: str | None = None


class SessionIn(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime


class PostIn(Schema):
    title: str
    aspect: str
    org: str
    venue: int | None = None
    description: str = ""
    required_skills: list[str] = []
    preferred_skills: list[str] = []
    weekly_slots: list[str] = []
    starts_on: str
    ends_on: str | None = None
    sessions: list[SessionIn] = []
    capacity: int | str = 1
    difficulty: int | str = 1
    needs_confirmation: bool = False
    publish: bool = False


class PostOut(Schema):
    id: int
    title: str
    aspect: str
    aspect_name: str
    org: str
    org_name: str
    venue: str | None
    status: str
    capacity: int
    claimed: int
    difficulty: int
    weekly_slots: list[str]
    starts_on: dt.date
    ends_on: dt.date | None
    needs_confirmation: bool

    @staticmethod
    def of(p: Post) -> dict:
        return {
            "id": p.pk,
            "title": p.title,
            "aspect": p.aspect.code,
            "aspect_name": p.aspect.name,
            "org": p.org.code,
            "org_name": p.org.name,
            "venue": p.venue.name if p.venue_id else None,
            "status": p.status,
            "capacity": p.capacity,
            "claimed": p.claimed_count,
            "difficulty": p.difficulty,
            "weekly_slots": codes_from_mask(p.weekly_slots),
            "starts_on": p.starts_on,
            "ends_on": p.ends_on,
            "needs_confirmation": p.needs_confirmation,
        }


class PostDetailOut(PostOut):
    description: str
    required_skills: list[str]
    preferred_skills: list[str]
    sessions: list[SessionIn]


class ClaimOut(Schema):
    id: int
    post: int
    post_title: str
    member: int
    member_name: str
    status: str
    source: str
    claimed_at: dt.datetime
    reason: str

    @staticmethod
    def of(c: Claim) -> dict:
        return {
            "id": c.pk,
            "post": c.post_id,
            "post_title": c.post.title,
            "member": c.member_id,
            "member_name": c.member.name,
            "status": c.status,
            "source": c.source,
            "claimed_at": c.claimed_at,
            "reason": c.reason,
        }


class MatchOut(Schema):
    id: int
    name: str
    score: int
    reasons: str


class PostReasonIn(Schema):
    reason: str = ""


class InviteIn(Schema):
    member_id: int


class ProposalIn(Schema):
    post_ids: list[int]
    org: str | None = None


class PairIn(Schema):
    post_id: int
    member_id: int


class ProposalConfirmIn(Schema):
    items: list[PairIn]


class ProposalItemOut(Schema):
    post_id: int
    member_id: int
    member_name: str
    score: int
    reasons: str


class ProposalOut(Schema):
    id: int
    status: str
    org: str
    total_score: int
    greedy_score: int
    items: list[ProposalItemOut]


# --- Helpers ----------------------------------------------------------------------------------------------
def _require_staff(request) -> None:
    if not permissions.can_view_posts(request.user):
        raise NotAllowed()


def _post(request, pk: int) -> Post:
    _require_staff(request)
    return get_in_scope_or_404(
        request.user, Post.objects.select_related("org", "aspect", "venue"), "org__path", pk=pk
    )


def _managed_post(request, pk: int) -> Post:
    post = _post(request, pk)
    if not permissions.can_manage_post(request.user, post.org):
        raise NotAllowed()
    return post


def _post_fields(payload: PostIn) -> dict:
    """The schema's fields as the keyword arguments of the post services (``services.PostInput``)."""
    fields = payload.dict(exclude={"publish"})
    fields["sessions"] = [(s.starts_at, s.ends_at) for s in payload.sessions]
    return fields


def _detail(post: Post) -> dict:
    return {
        **PostOut.of(post),
        "description": post.description,
        "required_skills": [s.code for s in post.required_skills.all()],
        "preferred_skills": [s.code for s in post.preferred_skills.all()],
        "sessions": [{"starts_at": s.starts_at, "ends_at": s.ends_at} for s in post.sessions.all()],
    }


class _Ranking:
    """A ranking (matching) paged like every list: ``rank(n)`` returns the best ``n``. Its count is what has
    been ranked so far, marked capped while a full page came back (more may follow)."""

    def __init__(self, rank, row):
        self.rank, self.row = rank, row

    def paginate(self, *, limit: int, offset: int = 0, after: str | None = None) -> dict:
        if after:
            raise UserError("invalid_cursor", _("This list has no cursor"), field="after")
        ranked = self.rank(offset + limit)
        items = ranked[offset : offset + limit]
        return {
            "items": [self.row(m) for m in items],
            "count": len(ranked),
            "count_capped": len(items) == limit,
            "next": None,
        }


def _category_out(c) -> dict:
    return {
        "code": c.code,
        "name": c.name,
        "sort_order": c.sort_order,
        "is_active": c.is_active,
        "aspects": list(c.aspects.all()),
    }


def _proposal_out(proposal: BulkProposal) -> dict:
    return {
        "id": proposal.pk,
        "status": proposal.status,
        "org": proposal.org.code,
        "total_score": proposal.total_score,
        "greedy_score": proposal.greedy_score,
        "items": [
            {
                "post_id": i.post_id,
                "member_id": i.member_id,
                "member_name": i.member.name,
                "score": i.score,
                "reasons": i.reasons,
            }
            for i in proposal.items.select_related("member")
        ],
    }


# --- Catalogue --------------------------------------------------------------------------------------------
@router.get("/catalogue", response=list[CategoryOut])
@paginate(Pagination, page_size=50)
def catalogue(request):
    return Listing(selectors.catalogue_categories(), row=_category_out)


@router.patch("/catalogue/aspects/{code}", response=AspectOut)
def aspect_edit(request, code: str, payload: CatalogueEdit):
    if not permissions.can_manage_catalogue(request.user):
        raise NotAllowed()
    aspect = get_object_or_404(ServiceAspect, code=code)
    return services.aspect_update(actor=request.user, aspect=aspect, **payload.dict())


@router.patch("/catalogue/categories/{code}", response=CategoryOut)
def category_edit(request, code: str, payload: CatalogueEdit):
    if not permissions.can_manage_catalogue(request.user):
        raise NotAllowed()
    category = get_object_or_404(ServiceCategory, code=code)
    fields = payload.dict()
    fields.pop("description", None)
    category = services.category_update(actor=request.user, category=category, **fields)
    return _category_out(category)


# --- Member side ------------------------------------------------------------------------------------------
@router.get("/recommendations", response=list[MatchOut])
@paginate(Pagination, page_size=10, max_size=50)
def recommendations(request):
    member = services.member_of(request.user)
    if member is None:
        raise Http404
    return _Ranking(
        lambda n: matching.posts_for_member(member, limit=n),
        lambda m: {"id": m.obj.pk, "name": m.obj.title, "score": m.score, "reasons": m.reasons},
    )


@router.get("/mine", response=list[ClaimOut])
@paginate(Pagination, page_size=50)
def my_claims(request):
    member = services.member_of(request.user)
    if member is None:
        raise Http404
    rows = selectors.member_claims(member).select_related("member").order_by("-claimed_at", "-id")
    return Listing(rows, row=ClaimOut.of, seek=("-claimed_at", "-id"))


@router.post("/{int:pk}/claim", response={201: ClaimOut})
def claim(request, pk: int):
    member = services.member_of(request.user)
    post = get_object_or_404(Post.objects.select_related("org"), pk=pk)
    if member is None or post.status == PostStatus.DRAFT or not permissions.member_reaches(member, post):
        raise Http404
    return 201, ClaimOut.of(services.claim_create(actor=request.user, post=post))


@router.post("/claims/{int:pk}/withdraw", response=ClaimOut)
def claim_withdraw(request, pk: int, payload: PostReasonIn):
    claim = get_object_or_404(
        Claim.objects.select_related("post__org", "member"), pk=pk, member__user=request.user
    )
    return ClaimOut.of(services.claim_withdraw(actor=request.user, claim=claim, reason=payload.reason))


# --- Staff side -------------------------------------------------------------------------------------------
@router.get("/", response=list[PostOut])
@paginate(Pagination, page_size=50)
def post_list(request, status: str = "", aspect: str = "", org: str = ""):
    _require_staff(request)
    rows = selectors.filter_posts(selectors.posts_for(request.user), status=status, aspect=aspect, org=org)
    return Listing(rows.order_by("-created_at", "-id"), row=PostOut.of, seek=("-created_at", "-id"))


@router.post("/", response={201: PostDetailOut})
def post_create(request, payload: PostIn):
    _require_staff(request)
    post = services.post_create(actor=request.user, publish=payload.publish, **_post_fields(payload))
    return 201, _detail(post)


@router.get("/{int:pk}", response=PostDetailOut)
def post_detail(request, pk: int):
    return _detail(_post(request, pk))


@router.patch("/{int:pk}", response=PostDetailOut)
def post_update(request, pk: int, payload: PostIn):
    post = _managed_post(request, pk)
    return _detail(services.post_update(actor=request.user, post=post, **_post_fields(payload)))


@router.post("/{int:pk}/status/{action}", response=PostOut)
def post_status(request, pk: int, action: str):
    if action not in ("publish", "close", "reopen"):
        raise Http404
    post = _managed_post(request, pk)
    return PostOut.of(services.post_set_status(actor=request.user, post=post, action=action))


@router.get("/{int:pk}/claims", response=list[ClaimOut])
@paginate(Pagination, page_size=50)
def post_claims(request, pk: int):
    post = _post(request, pk)
    rows = post.claims.select_related("member", "post").order_by("-claimed_at", "-id")
    return Listing(rows, row=ClaimOut.of, seek=("-claimed_at", "-id"))


@router.get("/{int:pk}/candidates", response=list[MatchOut])
@paginate(Pagination, page_size=20)
def candidates(request, pk: int):
    post = _managed_post(request, pk)
    return _Ranking(
        lambda n: matching.members_for_post(post, limit=n),
        lambda m: {"id": m.obj.pk, "name": m.obj.name, "score": m.score, "reasons": m.reasons},
    )


@router.post("/{int:pk}/invitations", response={201: dict})
def invite(request, pk: int, payload: InviteIn):
    post = _managed_post(request, pk)
    member = get_object_or_404(Member.objects.select_related("community"), pk=payload.member_id)
    match = next((m for m in matching.members_for_post(post, limit=200) if m.obj.pk == member.pk), None)
    invitation = services.invitation_send(
        actor=request.user, post=post, member=member, reasons=match.reasons if match else ""
    )
    return 201, {"id": invitation.pk, "post": post.pk, "member": member.pk}


def _staff_claim(request, pk: int) -> Claim:
    _require_staff(request)
    claim = get_in_scope_or_404(
        request.user, Claim.objects.select_related("post__org", "member"), "post__org__path", pk=pk
    )
    if not permissions.can_manage_post(request.user, claim.post.org):
        raise NotAllowed()
    return claim


@router.post("/claims/{int:pk}/confirm", response=ClaimOut)
def claim_confirm(request, pk: int):
    return ClaimOut.of(services.claim_confirm(actor=request.user, claim=_staff_claim(request, pk)))


@router.post("/claims/{int:pk}/remove", response=ClaimOut)
def claim_remove(request, pk: int, payload: PostReasonIn):
    return ClaimOut.of(
        services.claim_remove(actor=request.user, claim=_staff_claim(request, pk), reason=payload.reason)
    )


@router.post("/bulk/proposals", response={201: ProposalOut})
def proposal_create(request, payload: ProposalIn):
    _require_staff(request)
    posts = list(selectors.posts_for(request.user).filter(pk__in=payload.post_ids))
    if len(posts) != len(set(payload.post_ids)):
        raise Http404
    if payload.org:
        org = access_unit(request.user, payload.org)
    else:
        org = next((p.org for p in posts if all(q.org.path.startswith(p.org.path) for q in posts)), None)
        if org is None:
            raise UserError(
                "org_required",
                _("The posts belong to different units; give the proposal's unit (org)"),
                field="org",
            )
    proposal = services.proposal_create(actor=request.user, org=org, posts=posts)
    return 201, _proposal_out(proposal)


@router.get("/bulk/proposals/{int:pk}", response=ProposalOut)
def proposal_detail(request, pk: int):
    _require_staff(request)
    return _proposal_out(
        get_in_scope_or_404(request.user, BulkProposal.objects.select_related("org"), "org__path", pk=pk)
    )


@router.post("/bulk/proposals/{int:pk}/confirm", response=list[ClaimOut])
def proposal_confirm(request, pk: int, payload: ProposalConfirmIn):
    _require_staff(request)
    proposal = get_in_scope_or_404(
        request.user, BulkProposal.objects.select_related("org"), "org__path", pk=pk
    )
    claims = services.proposal_confirm(
        actor=request.user, proposal=proposal, pairs=[(i.post_id, i.member_id) for i in payload.items]
    )
    return [ClaimOut.of(c) for c in claims]
