"""Pages: the staff workbench (posts, claims, candidates, catalogue, bulk proposals), the member's phone pages
(为你推荐, my posts, a post) and the public recruitment notice (招募令) with its QR code."""

from __future__ import annotations

import io

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from kangle.accounts.decorators import require_staff, staff_required
from kangle.core.errors import UserError, form_error
from kangle.core.forms import errors_text
from kangle.core.public_url import base_url
from kangle.members.models import Member
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import get_in_scope_or_404, scope_queryset
from kangle.posts import matching, permissions, selectors, services
from kangle.posts.forms import BulkStartForm, CatalogueForm, PostForm, ProposalForm, ReasonForm
from kangle.posts.models import (
    BulkProposal,
    Claim,
    ClaimStatus,
    Post,
    PostStatus,
    ProposalStatus,
    ServiceAspect,
    ServiceCategory,
)
from kangle.posts.schedule import codes_from_mask, slot_labels


def _manager_only(request, org) -> None:
    if not permissions.can_manage_post(request.user, org):
        raise PermissionDenied


def _scoped_post(request, pk: int) -> Post:
    return get_in_scope_or_404(
        request.user, Post.objects.select_related("org", "aspect__category", "venue"), "org__path", pk=pk
    )


# --- Workbench --------------------------------------------------------------------------------------------
@staff_required
def post_list(request):
    rows = selectors.filter_posts(
        selectors.posts_for(request.user),
        status=request.GET.get("status", ""),
        aspect=request.GET.get("aspect", ""),
        claims=request.GET.get("claims", ""),
    )
    page = Paginator(rows.order_by("-created_at", "-id"), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "posts/list.html",
        {
            "page": page,
            "statuses": PostStatus.choices,
            "aspects": ServiceAspect.objects.select_related("category"),
            "filters": request.GET,
        },
    )


@staff_required
def post_new(request):
    if not any(permissions.can_manage_post(request.user, u) for u in _manageable_units(request.user)[:50]):
        raise PermissionDenied
    form = PostForm(request.POST or None, actor=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            post = services.post_create(
                actor=request.user, publish="publish" in request.POST, **form.post_fields()
            )
        except UserError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("The post has been saved."))
            return redirect("posts:detail", post.pk)
    return render(request, "posts/form.html", {"form": form, "post": None})


def _manageable_units(user):
    return list(
        scope_queryset(
            user, OrgUnit.objects.filter(kind__in=[OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY]), "path"
        ).order_by("depth", "path")
    )


def _initial(post: Post) -> dict:
    return {
        "title": post.title,
        "aspect": post.aspect.code,
        "org": post.org.code,
        "venue": str(post.venue_id or ""),
        "description": post.description,
        "required_skills": [s.code for s in post.required_skills.all()],
        "preferred_skills": [s.code for s in post.preferred_skills.all()],
        "weekly_slots": codes_from_mask(post.weekly_slots),
        "starts_on": post.starts_on.isoformat(),
        "ends_on": post.ends_on.isoformat() if post.ends_on else "",
        "sessions": "\n".join(_session_text(s) for s in post.sessions.all()),
        "capacity": post.capacity,
        "difficulty": post.difficulty,
        "needs_confirmation": post.needs_confirmation,
    }


def _session_text(session) -> str:
    from django.utils import timezone

    start, end = timezone.localtime(session.starts_at), timezone.localtime(session.ends_at)
    return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}"


@staff_required
def post_edit(request, pk: int):
    post = _scoped_post(request, pk)
    _manager_only(request, post.org)
    form = PostForm(request.POST or None, actor=request.user, initial=_initial(post))
    if request.method == "POST" and form.is_valid():
        try:
            services.post_update(actor=request.user, post=post, **form.post_fields())
        except UserError as exc:
            form_error(form, exc)
        else:
            messages.success(request, _("The post has been saved."))
            return redirect("posts:detail", post.pk)
    return render(request, "posts/form.html", {"form": form, "post": post})


@staff_required
def post_detail(request, pk: int):
    post = _scoped_post(request, pk)
    can_manage = permissions.can_manage_post(request.user, post.org)
    candidates = matching.members_for_post(post, limit=20) if can_manage else []
    invited = set(post.invitations.values_list("member_id", flat=True))
    return render(
        request,
        "posts/detail.html",
        {
            "post": post,
            "claims": post.claims.select_related("member__community", "member__microgrid").order_by(
                "status", "-claimed_at"
            ),
            "sessions": post.sessions.all(),
            "slots": slot_labels(post.weekly_slots),
            "can_manage": can_manage,
            "candidates": candidates,
            "invited": invited,
            "reason_form": ReasonForm(),
            "notice_url": reverse("posts:notice", args=[post.org.code]),
        },
    )


@staff_required
@require_POST
def post_status(request, pk: int, action: str):
    post = _scoped_post(request, pk)
    _manager_only(request, post.org)
    if action not in ("publish", "close", "reopen"):
        raise Http404
    try:
        services.post_set_status(actor=request.user, post=post, action=action)
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect("posts:detail", post.pk)


@staff_required
@require_POST
def post_invite(request, pk: int, member_pk: int):
    post = _scoped_post(request, pk)
    _manager_only(request, post.org)
    member = get_object_or_404(Member.objects.select_related("community"), pk=member_pk)
    match = next((m for m in matching.members_for_post(post, limit=200) if m.obj.pk == member.pk), None)
    try:
        services.invitation_send(
            actor=request.user, post=post, member=member, reasons=match.reasons if match else ""
        )
    except UserError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("The invitation has been sent."))
    return redirect("posts:detail", post.pk)


@login_required
@require_POST
def claim_action(request, pk: int, action: str):
    form = ReasonForm(request.POST)
    if action == "withdraw":
        claim = get_object_or_404(
            Claim.objects.select_related("member", "post__org"), pk=pk, member__user=request.user
        )
        if not form.is_valid():
            messages.error(request, errors_text(form))
            return redirect("posts:mine")
        try:
            services.claim_withdraw(actor=request.user, claim=claim, reason=form.cleaned_data["reason"])
        except UserError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("You have withdrawn from the post."))
        return redirect("posts:mine")
    require_staff(request)
    claim = get_in_scope_or_404(
        request.user, Claim.objects.select_related("post__org", "member"), "post__org__path", pk=pk
    )
    _manager_only(request, claim.post.org)
    if action not in ("confirm", "remove"):
        raise Http404
    if not form.is_valid():
        messages.error(request, errors_text(form))
        return redirect("posts:detail", claim.post_id)
    try:
        if action == "confirm":
            services.claim_confirm(actor=request.user, claim=claim)
        else:
            services.claim_remove(actor=request.user, claim=claim, reason=form.cleaned_data["reason"])
    except UserError as exc:
        messages.error(request, str(exc))
    return redirect("posts:detail", claim.post_id)


@login_required
def catalogue(request):
    if not permissions.can_manage_catalogue(request.user):
        raise PermissionDenied
    if request.method == "POST":
        form = CatalogueForm(request.POST)
        if not form.is_valid():
            if "kind" in form.errors or "code" in form.errors:
                raise Http404
            messages.error(request, errors_text(form))
            return redirect("posts:catalogue")
        kind, code = form.cleaned_data["kind"], form.cleaned_data["code"]
        model = ServiceAspect if kind == "aspect" else ServiceCategory
        obj = get_object_or_404(model, code=code)
        try:
            if model is ServiceAspect:
                services.aspect_update(actor=request.user, aspect=obj, **form.catalogue_fields())
            else:
                services.category_update(actor=request.user, category=obj, **form.catalogue_fields())
        except UserError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("The catalogue has been saved."))
        return redirect("posts:catalogue")
    return render(request, "posts/catalogue.html", {"categories": selectors.catalogue()})


@staff_required
def bulk_start(request):
    units = [u for u in _manageable_units(request.user) if permissions.can_manage_post(request.user, u)]
    if not units:
        raise PermissionDenied
    rows = selectors.posts_for(request.user).filter(status=PostStatus.OPEN).order_by("org__path", "pk")[:500]
    form = BulkStartForm(request.POST or None)
    if request.method == "POST" and not form.is_valid():
        messages.error(request, errors_text(form))
    elif request.method == "POST":
        wanted = set(form.cleaned_data["posts"])
        chosen = [p for p in rows if p.pk in wanted]
        unit = next((u for u in units if all(p.org.path.startswith(u.path) for p in chosen)), units[0])
        try:
            proposal = services.proposal_create(actor=request.user, org=unit, posts=chosen)
        except UserError as exc:
            messages.error(request, str(exc))
        else:
            return redirect("posts:bulk-proposal", proposal.pk)
    return render(request, "posts/bulk_start.html", {"posts": rows})


@staff_required
def bulk_proposal(request, pk: int):
    proposal = get_in_scope_or_404(
        request.user, BulkProposal.objects.select_related("org"), "org__path", pk=pk
    )
    _manager_only(request, proposal.org)
    items = list(proposal.items.select_related("post", "member__community", "member__microgrid"))
    posts = list(proposal.posts.order_by("pk"))
    form = ProposalForm(request.POST or None, posts=posts)
    if request.method == "POST" and proposal.status == ProposalStatus.DRAFT and not form.is_valid():
        messages.error(request, errors_text(form))
    elif request.method == "POST" and proposal.status == ProposalStatus.DRAFT:
        try:
            claims = services.proposal_confirm(actor=request.user, proposal=proposal, pairs=form.pairs())
        except UserError as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("%(n)s members have been assigned.") % {"n": len(claims)})
            return redirect("posts:bulk-proposal", proposal.pk)
    proposed = {i.member_id for i in items}
    groups = []
    for post in posts:
        alternatives = []
        if proposal.status == ProposalStatus.DRAFT:
            alternatives = [m for m in matching.members_for_post(post, limit=8) if m.obj.pk not in proposed][
                :5
            ]
        groups.append(
            {"post": post, "items": [i for i in items if i.post_id == post.pk], "alternatives": alternatives}
        )
    return render(request, "posts/bulk_proposal.html", {"proposal": proposal, "groups": groups})


# --- Phone ------------------------------------------------------------------------------------------------
@login_required
def for_me(request):
    """为你推荐: the member's home for service posts."""
    member = services.member_of(request.user)
    recommendations = matching.posts_for_member(member, limit=10) if member else []
    return render(
        request,
        "posts/for_me.html",
        {
            "member": member,
            "recommendations": recommendations,
            "no_skills": member is not None and not member.skills.exists(),
            "no_times": member is not None and member.availability == 0,
        },
    )


@login_required
def my_claims(request):
    member = services.member_of(request.user)
    claims = list(selectors.member_claims(member)) if member else []
    return render(request, "posts/mine.html", {"member": member, "claims": claims})


def _reachable_post(request, pk: int) -> tuple[Post, Member]:
    member = services.member_of(request.user)
    post = get_object_or_404(Post.objects.select_related("org", "aspect", "venue"), pk=pk)
    if member is None or post.status == PostStatus.DRAFT or not permissions.member_reaches(member, post):
        raise Http404
    return post, member


@login_required
def phone_detail(request, pk: int):
    post, member = _reachable_post(request, pk)
    claim = Claim.objects.filter(
        post=post, member=member, status__in=[ClaimStatus.PENDING, ClaimStatus.CONFIRMED]
    ).first()
    return render(
        request,
        "posts/phone_detail.html",
        {
            "post": post,
            "claim": claim,
            "slots": slot_labels(post.weekly_slots),
            "sessions": post.sessions.all(),
            "skills": post.required_skills.all(),
            "preferred": post.preferred_skills.all(),
        },
    )


@login_required
@require_POST
def phone_claim(request, pk: int):
    post, _member = _reachable_post(request, pk)
    try:
        claim = services.claim_create(actor=request.user, post=post)
    except UserError as exc:
        messages.error(request, str(exc))
        return redirect("posts:phone-detail", post.pk)
    if claim.status == ClaimStatus.PENDING:
        messages.success(request, _("Claim submitted; the community will confirm it."))
    else:
        messages.success(request, _("Claimed. Thank you!"))
    return redirect("posts:mine")


# --- Public recruitment notice (招募令) ------------------------------------------------------------------
def _notice_unit(code: str) -> OrgUnit:
    return get_object_or_404(
        OrgUnit, code=code, kind__in=[OrgKind.STREET, OrgKind.AREA, OrgKind.COMMUNITY], is_active=True
    )


def notice(request, code: str):
    unit = _notice_unit(code)
    posts = list(selectors.open_posts_under(unit)[:200])
    return render(
        request,
        "posts/notice.html",
        {
            "unit": unit,
            "posts": posts,
            "url": base_url(request) + reverse("posts:notice", args=[code]),
        },
    )


def notice_qr(request, code: str):
    unit = _notice_unit(code)
    qr = segno.make(base_url(request) + reverse("posts:notice", args=[code]), error="m")
    buffer = io.BytesIO()
    qr.save(buffer, kind="svg", scale=6, border=2, xmldecl=False, title=unit.name)
    return HttpResponse(buffer.getvalue(), content_type="image/svg+xml")
