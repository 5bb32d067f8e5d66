"""The points section of the member file."""

from kangle.points import selectors, services


def member_panel(request, member) -> dict:
    return {
        "balance": services.balance_of(member),
        "entries": list(selectors.history(member)[:10]),
    }
