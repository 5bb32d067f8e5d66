"""Reads of posts and claims reused by pages and the API."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from kangle.orgs.scope import scope_queryset
from kangle.posts.models import ACTIVE_CLAIM_STATUSES, Claim, ClaimStatus, Post, PostStatus, ServiceCategory


def posts_for(actor) -> QuerySet[Post]:
    """Posts in the actor's subtree with what a list row shows (no per-row queries)."""
    return scope_queryset(actor, Post.objects.all(), "org__path").select_related(
        "org", "aspect__category", "venue"
    )


def filter_posts(
    rows: QuerySet[Post], *, status: str = "", aspect: str = "", org: str = "", claims: str = ""
) -> QuerySet[Post]:
    if claims in ClaimStatus.values:
        # Posts with at least one claim in that state (the to-do home links "claims to confirm" here).
        rows = rows.filter(Exists(Claim.objects.filter(post=OuterRef("pk"), status=claims)))
    if status:
        rows = rows.filter(status=status)
    if aspect:
        rows = rows.filter(aspect__code=aspect)
    if org:
        rows = rows.filter(org__code=org)
    return rows


def claims_for(actor) -> QuerySet[Claim]:
    return scope_queryset(actor, Claim.objects.all(), "post__org__path").select_related(
        "post__org", "post__aspect", "member__community", "member__microgrid"
    )


def member_claims(member) -> QuerySet[Claim]:
    return (
        Claim.objects.filter(member=member)
        .select_related("post__aspect", "post__venue", "post__org")
        .prefetch_related("post__sessions")
    )


def active_claims(post: Post) -> QuerySet[Claim]:
    return post.claims.filter(status__in=ACTIVE_CLAIM_STATUSES).select_related(
        "member__community", "member__microgrid"
    )


def open_posts_under(unit) -> QuerySet[Post]:
    """Open posts a recruitment notice lists: owned by ``unit``, below it, or above it (they reach it too)."""
    from kangle.orgs.selectors import subtree_q

    codes = unit.ancestor_codes()
    return (
        Post.objects.filter(status=PostStatus.OPEN)
        .filter(subtree_q(unit.path, "org__path") | Q(org__code__in=codes))
        .select_related("org", "aspect", "venue")
        .prefetch_related("sessions")
        .order_by("aspect__sort_order", "pk")
    )


def catalogue_categories() -> QuerySet[ServiceCategory]:
    """The catalogue's categories in order, each with its aspects in order (prefetched)."""
    from kangle.posts.models import ServiceAspect

    return ServiceCategory.objects.prefetch_related(
        Prefetch("aspects", queryset=ServiceAspect.objects.order_by("sort_order", "code"))
    ).order_by("sort_order", "code", "id")


def catalogue() -> list[ServiceCategory]:
    return list(catalogue_categories())
