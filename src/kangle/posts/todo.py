"""The posts app's lines on the staff to-do home."""

from __future__ import annotations

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kangle.core import todo
from kangle.orgs.scope import scope_queryset
from kangle.posts.models import Claim, ClaimStatus


def claims_to_confirm(user, now):
    return todo.tally(
        scope_queryset(user, Claim.objects.filter(status=ClaimStatus.PENDING), "post__org__path"),
        "claimed_at",
        key="posts.claims",
        label=_("Claims to confirm"),
        url=f"{reverse('posts:list')}?claims={ClaimStatus.PENDING}",
        urgency=todo.APPROVE,
        group="kangle",
    )
