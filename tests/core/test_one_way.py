"""The "one way to do each thing" rules of docs/ARCHITECTURE.md, checked on the source so a new copy of an
old habit fails CI instead of waiting for a review.

- Messages: ``UserError(code, gettext_lazy(...), field=..., **params)`` only; no message passed as a Chinese
  and an English literal side by side, and no hand-kept ``*_ZH`` dictionary of display words.
- Validation: services take typed keyword arguments, not a ``raw: dict``; field cleaning comes from
  ``kangle.core.cleaners`` rather than per-app ``_clean`` / ``_text`` / ``_int_in`` copies.
- Modules: no module reaches into another module's private names.
- Size: no function over 80 lines unless it says why on a ``# long:`` comment line inside it.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parents[2] / "src" / "kangle"
MAX_FUNCTION_LINES = 80
LOCAL_CLEANER_NAMES = {"_clean", "_text", "_int_in", "_int", "_date", "_count"}
# Modules that are themselves the edge: they turn raw input into typed values for a service.
EDGE_PARSERS = {
    # The member record's parser, shared by the member form, the API and the spreadsheet import (a row of
    # cells is a dict by nature); it returns a typed ``Cleaned`` and bilingual problems per field.
    "members/validation.py",
}


def _modules():
    for path in sorted(SOURCE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        yield path, ast.parse(path.read_text(encoding="utf-8"))


MODULES = list(_modules())


def _where(path: Path, node: ast.AST) -> str:
    return f"{path.relative_to(SOURCE)}:{node.lineno}"


def _base_name(node: ast.expr) -> str | None:
    return node.id if isinstance(node, ast.Name) else node.attr if isinstance(node, ast.Attribute) else None


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def test_user_errors_carry_one_translatable_message():
    legacy = []
    for path, tree in MODULES:
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = _call_name(node)
            if (name == "UserError" and len(node.args) > 2) or (name == "NotAllowed" and len(node.args) > 1):
                legacy.append(_where(path, node))
        for cls in ast.walk(tree):
            # A subclass (DuplicateFile, FontMissing, …) hands its message up through super().__init__.
            if isinstance(cls, ast.ClassDef) and any(_base_name(b) == "UserError" for b in cls.bases):
                for node in ast.walk(cls):
                    if isinstance(node, ast.Call) and _call_name(node) == "__init__" and len(node.args) > 2:
                        legacy.append(_where(path, node))
    assert not legacy, f"UserError with a Chinese and an English text (use gettext_lazy): {legacy}"


def test_no_hand_kept_display_dictionaries():
    found = []
    for path, tree in MODULES:
        for node in tree.body:
            targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
            for target in targets:
                if isinstance(target, ast.Name) and target.id.endswith("_ZH"):
                    found.append(f"{_where(path, node)} {target.id}")
    assert not found, f"display words belong in the catalogues (gettext), not in dictionaries: {found}"


def test_services_take_typed_arguments_not_raw_dicts():
    found = []
    for path, tree in MODULES:
        if str(path.relative_to(SOURCE)) in EDGE_PARSERS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for argument in [*node.args.args, *node.args.kwonlyargs]:
                    annotation = argument.annotation
                    if argument.arg == "raw" and isinstance(annotation, ast.Name) and annotation.id == "dict":
                        found.append(f"{_where(path, node)} {node.name}")
    assert not found, f"parse at the edge and pass typed keyword arguments: {found}"


def test_no_local_copies_of_the_shared_cleaners():
    found = []
    for path, tree in MODULES:
        for node in tree.body:
            if isinstance(node, ast.FunctionDef) and node.name in LOCAL_CLEANER_NAMES:
                found.append(f"{_where(path, node)} {node.name}")
    assert not found, f"use kangle.core.cleaners instead of a local copy: {found}"


def test_no_module_uses_another_modules_private_names():
    found = []
    for path, tree in MODULES:
        imported_modules = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("kangle"):
                for alias in node.names:
                    if alias.name.startswith("_") and not alias.name.startswith("__"):
                        found.append(f"{_where(path, node)} imports {node.module}.{alias.name}")
                    imported_modules.add(alias.asname or alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.startswith("kangle") and alias.asname:
                        imported_modules.add(alias.asname)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id in imported_modules
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and node.attr != "_meta"  # Django's documented model metadata API
            ):
                found.append(f"{_where(path, node)} uses {node.value.id}.{node.attr}")
    assert not found, f"make the name public or move the code: {found}"


def _has_reason(path: Path, node: ast.FunctionDef) -> bool:
    lines = path.read_text(encoding="utf-8").splitlines()[node.lineno - 1 : node.end_lineno]
    return any(line.strip().startswith("# long:") for line in lines)


@pytest.mark.parametrize("limit", [MAX_FUNCTION_LINES])
def test_functions_are_short_or_say_why(limit):
    found = []
    for path, tree in MODULES:
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > limit and not _has_reason(path, node):
                    found.append(f"{_where(path, node)} {node.name} ({length} lines)")
    assert not found, f"split these into named steps, or say why on a '# long:' line: {found}"
