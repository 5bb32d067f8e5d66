"""What other apps do when a unit moves, registered in their AppConfig.ready().

The organisation app sits below the apps that place their records in the tree, so it cannot update them
itself: a member file names its community, estate and micro-grid besides its unit, and a unit moved to
another community must take its files along. Each app registers a function called with the moved unit and
the person moving it, inside the move's transaction, once the subtree's paths have changed; a
``UserError`` it raises refuses the move, and nothing of it is kept.
"""

from __future__ import annotations

from collections.abc import Callable

_followers: list[Callable] = []


def on_move(follow: Callable) -> None:
    """Call ``follow(unit, actor)`` after every move of a unit, its subtree's paths already changed."""
    if follow not in _followers:
        _followers.append(follow)


def moved(unit, actor) -> None:
    for follow in _followers:
        follow(unit, actor)
