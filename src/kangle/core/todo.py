"""The staff to-do home (待办), assembled from lines each app contributes in its AppConfig.ready().

The home page lives low in the layers and must not know the apps above it, so — like the member-file
panels — each app registers a source here: a function giving, for one person, the count and the oldest
item of one kind of waiting work. A source runs a fixed number of queries whatever the number of items, so
the home page's query count is flat; a source whose items can run into thousands stops counting at a cap
and says "100+".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

# Urgency ranks, most urgent first: the home orders its lines by rank, then by the oldest item's age.
BREACHED = 0
DUE_SOON = 10
DECIDE = 20  # somebody waits on a decision (extension, returned case)
DISPATCH = 30
APPROVE = 40
ROUTINE = 50


@dataclass(frozen=True)
class TodoLine:
    key: str
    label: object  # a lazy translation
    count: int
    oldest: dt.datetime | None
    url: str
    urgency: int = ROUTINE
    group: str = ""
    detail: str = ""  # an extra phrase, e.g. who has not answered yet
    capped: bool = False  # at least ``count`` (the line stopped counting there)

    @property
    def count_text(self) -> str:
        return f"{self.count}+" if self.capped else str(self.count)


@dataclass(frozen=True)
class TodoSource:
    key: str
    lines: Callable  # (user, now) -> TodoLine | None
    roles: frozenset[str]
    order: int = 100


_sources: list[TodoSource] = []


def register(key: str, lines: Callable, roles, *, order: int = 100) -> None:
    source = TodoSource(key, lines, frozenset(roles), order)
    if all(existing.key != key for existing in _sources):
        _sources.append(source)


def lines_for(user, *, now: dt.datetime) -> list[TodoLine]:
    """The lines with waiting work for ``user``, most urgent first (lines with nothing waiting are left out)."""
    roles = set(user.roles)
    shown: list[TodoLine] = []
    for source in sorted(_sources, key=lambda s: (s.order, s.key)):
        if not (source.roles & roles or user.is_superuser):
            continue
        line = source.lines(user, now)
        if line is not None and line.count:
            shown.append(line)
    shown.sort(key=lambda line: (line.urgency, line.oldest or now, line.key))
    return shown


def age_label(oldest: dt.datetime | None, now: dt.datetime) -> str:
    """How long the oldest item has waited — or, for a deadline still ahead, how long is left."""
    from django.utils.translation import gettext as _

    if oldest is None:
        return ""
    if oldest > now:
        return _("due in %(span)s") % {"span": _span(int((oldest - now).total_seconds()))}
    return _("oldest waiting %(span)s") % {"span": _span(int((now - oldest).total_seconds()))}


def _span(seconds: int) -> str:
    from django.utils.translation import gettext as _
    from django.utils.translation import ngettext

    if seconds < 3600:
        minutes = max(1, seconds // 60)
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    if seconds < 2 * 86400:
        hours = seconds // 3600
        return ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours}
    days = seconds // 86400
    return _("%(n)d days") % {"n": days}
