"""The points section of the member file."""

from kangle.points import selectors, services
from kangle.points.models import Benefit


def member_panel(request, member) -> dict:
    return {
        "balance": services.balance_of(member),
        "entries": list(selectors.history(member)[:10]),
    }


def home_panel(request, member) -> dict:
    """The member's phone home: the balance, what it unlocks now and what the next points would unlock."""

    balance = services.balance_of(member)
    benefits = Benefit.objects.filter(is_active=True, org__code__in=member.org.ancestor_codes()).order_by(
        "min_points", "name"
    )
    unlocked = [b for b in benefits[:50] if b.min_points <= balance]
    upcoming = benefits.filter(min_points__gt=balance).first()
    return {"balance": balance, "unlocked": unlocked[:5], "upcoming": upcoming}
