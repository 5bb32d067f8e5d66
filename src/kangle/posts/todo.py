"""The posts app's lines on the staff to-do home."""

from __future__ import annotations

from django.db.models import Count, Min
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kangle.core import todo
from kangle.orgs.scope import scope_queryset
from kangle.posts.models import Claim, ClaimStatus


def claims_to_confirm(user, now):
    row = scope_queryset(user, Claim.objects.filter(status=ClaimStatus.PENDING), "post__org__path").aggregate(
        n=Count("pk"), oldest=Min("claimed_at")
    )
    return todo.TodoLine(
        key="posts.claims",
        label=_("Claims to confirm"),
        count=row["n"],
        oldest=row["oldest"],
        url=f"{reverse('posts:list')}?claims={ClaimStatus.PENDING}",
        urgency=todo.APPROVE,
        group="kangle",
    )
