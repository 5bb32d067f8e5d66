"""The posts section of the member's phone home: the next session of a post they hold."""

from kangle.core.timeutil import now
from kangle.posts.models import ClaimStatus, PostSession


def home_panel(request, member) -> dict:
    session = (
        PostSession.objects.filter(
            post__claims__member=member,
            post__claims__status__in=(ClaimStatus.PENDING, ClaimStatus.CONFIRMED),
            ends_at__gt=now(),
        )
        .select_related("post")
        .order_by("starts_at")
        .first()
    )
    return {"session": session}
