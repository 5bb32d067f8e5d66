"""Sections of the member file (一人一档) contributed by the apps above members.

Points, activities and recognition know members; members must not know them. So each of them registers a
panel here in its AppConfig.ready() — a template and a function giving its context — and the member file
page shows every registered panel. The arrow keeps pointing down.

A panel has a place: ``"file"`` (the member file on the workbench) or ``"home"`` (the member's phone home,
showing their next things).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Panel:
    template: str
    context: Callable  # (request, member) -> dict, or None to leave the panel out
    order: int = 100
    place: str = "file"


_panels: list[Panel] = []


def register(template: str, context: Callable, *, order: int = 100, place: str = "file") -> None:
    panel = Panel(template, context, order, place)
    if panel not in _panels:
        _panels.append(panel)


def panels_for(request, member, *, place: str = "file") -> list[dict]:
    shown = []
    for panel in sorted(_panels, key=lambda p: (p.order, p.template)):
        if panel.place != place:
            continue
        context = panel.context(request, member)
        if context is not None:
            shown.append({"template": panel.template, "context": context})
    return shown
