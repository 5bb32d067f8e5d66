"""The workbench and phone navigation, assembled from entries each app registers in its AppConfig.ready().

An entry shows to people holding any of its roles (superusers see every workbench entry).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavEntry:
    label: object  # a lazy translation
    url_name: str
    roles: frozenset[str]
    order: int = 100
    area: str = "workbench"  # or "phone"


_entries: list[NavEntry] = []


def register(label, url_name: str, roles, *, order: int = 100, area: str = "workbench") -> None:
    entry = NavEntry(label, url_name, frozenset(roles), order, area)
    if entry not in _entries:
        _entries.append(entry)


def entries_for(user_roles: set[str], *, is_superuser: bool, area: str) -> list[dict]:
    items = []
    for entry in sorted(_entries, key=lambda e: (e.order, str(e.label))):
        if entry.area != area:
            continue
        if not (entry.roles & user_roles or (is_superuser and area == "workbench")):
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        items.append({"label": entry.label, "url": url, "url_name": entry.url_name})
    return items


# A phone shows at most five tabs (适老化: few, large, always in the same place); the rest is inside them.
MAX_PHONE_TABS = 5


def phone_tabs(user_roles: set[str]) -> list[dict]:
    """The tab bar of the phone pages: entries registered with ``area="tab"``, at most five.

    The last tab (我的, the highest order) always stays: everything not in the bar is reachable from it.
    """
    tabs = []
    seen = set()
    for item in entries_for(user_roles, is_superuser=False, area="tab"):
        if item["url_name"] not in seen:
            seen.add(item["url_name"])
            tabs.append(item)
    if len(tabs) > MAX_PHONE_TABS:
        tabs = tabs[: MAX_PHONE_TABS - 1] + tabs[-1:]
    return tabs
