"""The workbench and phone navigation, assembled from entries each app registers in its AppConfig.ready().

An entry shows to people holding any of its roles (superusers see every workbench entry). Workbench entries
fall into groups — 康乐吾家, 民情快办, 白蚁防治, 统计, 管理 — and a role sees only the groups it works in.
``register(...)`` takes an optional ``group``; without one the group follows the URL's namespace, so an
entry registered with the plain signature still lands where it belongs.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from kangle.core.roles import Role

KANGLE, CASES, TERMITE, FIGURES, MANAGE = "kangle", "cases", "termite", "figures", "manage"
GROUPS = {
    KANGLE: _("Kangle at home"),
    CASES: _("Quick response"),
    TERMITE: _("Termite control"),
    FIGURES: _("Figures"),
    MANAGE: _("Administration"),
}
# The group an entry lands in when its registration names none: by the URL namespace, then by the view
# name (figure pages go to 统计 whichever app draws them).
NAMESPACE_GROUPS = {
    "members": KANGLE,
    "posts": KANGLE,
    "activities": KANGLE,
    "recognition": KANGLE,
    "points": KANGLE,
    "cases": CASES,
    "prevention": TERMITE,
    "reports": FIGURES,
    "orgs": MANAGE,
    "accounts": MANAGE,
    "notify": MANAGE,
    "admin": MANAGE,
}
FIGURE_WORDS = ("figures", "rankings", "dashboard", "cockpit", "map")
# The groups each staff role works in (superusers: all).
ROLE_GROUPS = {
    Role.STREET_ADMIN: {KANGLE, CASES, TERMITE, FIGURES, MANAGE},
    Role.AREA_ADMIN: {KANGLE, CASES, TERMITE, FIGURES, MANAGE},
    Role.COMMUNITY_SECRETARY: {KANGLE, CASES, FIGURES, MANAGE},
    Role.COMMUNITY_STAFF: {KANGLE, CASES, MANAGE},
    Role.GRID_LEADER: {KANGLE, CASES, MANAGE},
    Role.EMPLOYER_PARTY_ORG: {KANGLE, MANAGE},
}


def default_group(url_name: str) -> str:
    namespace, _sep, name = url_name.rpartition(":")
    if any(word in name for word in FIGURE_WORDS):
        return FIGURES
    return NAMESPACE_GROUPS.get(namespace.split(":")[0], MANAGE)


@dataclass(frozen=True)
class NavEntry:
    label: object  # a lazy translation
    url_name: str
    roles: frozenset[str]
    order: int = 100
    area: str = "workbench"  # or "phone"
    group: str = MANAGE


_entries: list[NavEntry] = []
# entries_for's answers per (roles, superuser, area, language, URL prefix and conf): the entries are
# registered once at start-up, so every page used to sort and reverse the same list again.
_answers: dict[tuple, list[dict]] = {}


def register(
    label, url_name: str, roles, *, order: int = 100, area: str = "workbench", group: str | None = None
) -> None:
    if group is not None and group not in GROUPS:
        raise ValueError(f"unknown navigation group {group!r}; one of {sorted(GROUPS)}")
    entry = NavEntry(label, url_name, frozenset(roles), order, area, group or default_group(url_name))
    if entry not in _entries:
        _entries.append(entry)
        _answers.clear()


def groups_of(user_roles: set[str], *, is_superuser: bool) -> set[str]:
    if is_superuser:
        return set(GROUPS)
    shown: set[str] = set()
    for role in user_roles:
        shown |= ROLE_GROUPS.get(role, set())
    return shown


def answers_key(user_roles: set[str], *, is_superuser: bool, area: str) -> tuple:
    """Everything ``entries_for``'s answer depends on: equal keys, equal entries in the same words."""
    # len(_entries): an entry registered later makes new keys, so no answer or markup kept for the old ones
    # is served again.
    return (
        frozenset(user_roles),
        is_superuser,
        area,
        get_language(),
        get_script_prefix(),
        get_urlconf(),
        len(_entries),
    )


def entries_for(user_roles: set[str], *, is_superuser: bool, area: str) -> list[dict]:
    """The entries a role set sees in ``area``, in order (computed once per role set, then reused)."""
    key = answers_key(user_roles, is_superuser=is_superuser, area=area)
    items = _answers.get(key)
    if items is None:
        items = _answers[key] = _entries_for(user_roles, is_superuser=is_superuser, area=area)
    return [dict(item) for item in items]  # callers may change their copy


def _entries_for(user_roles: set[str], *, is_superuser: bool, area: str) -> list[dict]:
    items = []
    seen: set[str] = set()
    groups = groups_of(user_roles, is_superuser=is_superuser) if area == "workbench" else None
    for entry in sorted(_entries, key=lambda e: (e.order, str(e.label))):
        if entry.area != area:
            continue
        if not (entry.roles & user_roles or (is_superuser and area == "workbench")):
            continue
        if groups is not None and entry.group not in groups:
            continue
        if entry.url_name in seen:
            continue
        try:
            url = reverse(entry.url_name)
        except NoReverseMatch:
            continue
        seen.add(entry.url_name)
        items.append({"label": entry.label, "url": url, "url_name": entry.url_name, "group": entry.group})
    return items


def grouped(items: list[dict]) -> list[dict]:
    """Workbench entries in their groups, in the groups' fixed order; empty groups left out."""
    return [
        {"key": key, "label": label, "items": [item for item in items if item["group"] == key]}
        for key, label in GROUPS.items()
        if any(item["group"] == key for item in items)
    ]


def breadcrumb(items: list[dict], path: str, view_name: str) -> list[dict]:
    """Where this page sits: the group, then the navigation entry it belongs to when it is not that entry."""
    best = None
    for item in items:
        if item["url_name"] == view_name:
            best = item
            break
        if (
            item["url"] != "/"
            and path.startswith(item["url"])
            and (best is None or len(item["url"]) > len(best["url"]))
        ):
            best = item
    if best is None:
        group = default_group(view_name) if view_name else None
        return [{"label": GROUPS[group], "url": ""}] if group and view_name != "home" else []
    crumbs = [{"label": GROUPS[best["group"]], "url": ""}]
    if best["url_name"] != view_name:
        crumbs.append({"label": best["label"], "url": best["url"]})
    return crumbs


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
