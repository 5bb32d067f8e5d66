"""Audit verbs have one form, ``<entity>.<verb>``, and the events written under the old app-prefixed names are
renamed (and back) by the core data migration."""

from __future__ import annotations

import ast
import importlib
import itertools
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.utils import timezone

from kangle.core.models import AuditEvent

SRC = Path(__file__).resolve().parents[2] / "src" / "kangle"
VERB = re.compile(r"^[a-z_]+\.[a-z_]+$")
APP_NAMES = {
    "activities",
    "cases",
    "members",
    "points",
    "posts",
    "prevention",
    "recognition",
    "drills",
    "reports",
    "people",
    "accounts",
    "orgs",
    "notify",
    "core",
}
rename = importlib.import_module("kangle.core.migrations.0004_audit_verbs_entity_prefix")


def _sources():
    for path in sorted(SRC.rglob("*.py")):
        if "migrations" not in path.parts:
            yield path, ast.parse(path.read_text(encoding="utf-8"))


def _spellings(node) -> list[str]:
    """Every verb an expression can produce; a name or attribute inside an f-string stands for one word."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _spellings(node.body) + _spellings(node.orelse)
    if isinstance(node, ast.JoinedStr):
        parts = []
        for value in node.values:
            if isinstance(value, ast.FormattedValue):
                parts.append(_spellings(value.value) or ["word"])
            else:
                parts.append(_spellings(value))
        return ["".join(combo) for combo in itertools.product(*parts)]
    return []


def written_verbs() -> dict[str, str]:
    """Verb spelling -> where it is written: every ``verb=`` keyword in the source, in any call."""
    found = {}
    for path, tree in _sources():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for keyword in node.keywords:
                    if keyword.arg == "verb":
                        for verb in _spellings(keyword.value):
                            found.setdefault(verb, f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def test_the_source_writes_verbs():
    verbs = written_verbs()
    assert len(verbs) > 100
    assert {"member.reveal", "case.accept", "activity.create", "record.reject", "post.word"} <= set(verbs)


def test_every_verb_is_entity_dot_verb():
    bad = {
        verb: where
        for verb, where in written_verbs().items()
        if not VERB.match(verb) or verb.split(".")[0] in APP_NAMES
    }
    assert bad == {}


def test_no_old_verb_is_left_anywhere_in_the_source():
    # Also catches verbs handed on positionally (SQL parameters, helper arguments).
    left = {}
    for path, tree in _sources():
        # An object type may share its spelling with an old verb ("prevention.warning").
        object_types = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.keyword) and node.arg == "object_type"
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and node.value in rename.RENAMED
                and id(node) not in object_types
            ):
                left[node.value] = f"{path.relative_to(SRC)}:{node.lineno}"
    assert left == {}


def test_the_table_renames_into_the_one_form_and_stays_reversible():
    new_names = list(rename.RENAMED.values())
    assert len(set(new_names)) == len(new_names)
    assert not set(new_names) & set(rename.RENAMED)
    for new in new_names:
        assert VERB.match(new), new
        assert new.split(".")[0] not in APP_NAMES, new


@pytest.mark.django_db
def test_the_migration_renames_stored_events_and_back():
    AuditEvent.objects.all().delete()
    for verb in ("activities.activity_create", "points.award", "orgunit.update.admin", "case.accept"):
        AuditEvent.objects.create(verb=verb, at=timezone.now())

    rename.forwards(apps, None)
    assert sorted(AuditEvent.objects.values_list("verb", flat=True)) == [
        "activity.create",
        "case.accept",
        "ledger.award",
        "orgunit.admin_update",
    ]

    rename.backwards(apps, None)
    assert sorted(AuditEvent.objects.values_list("verb", flat=True)) == [
        "activities.activity_create",
        "case.accept",
        "orgunit.update.admin",
        "points.award",
    ]
