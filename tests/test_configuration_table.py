"""Settings come through ``kangle.config`` only, and README's configuration table names exactly the
KANGLE_* variables the code reads.

The code is read, not run: every ``config.<parser>("KANGLE_…", …)`` call in ``src/`` is a variable the
product reads; anything else that touches the environment or reads a setting with a fallback is refused.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src" / "kangle"
README = ROOT / "README.md"

# Besides config.py, only process plumbing may touch the environment: the WSGI entry point and the CLI
# name the settings module, and the CLI hands its environment to the processes it starts. Neither reads a
# KANGLE_* variable (checked below).
ENVIRONMENT_PLUMBING = {"config.py", "wsgi.py", "cli.py"}


def python_files() -> list[Path]:
    return sorted(path for path in SRC.rglob("*.py") if "migrations" not in path.parts)


@functools.cache
def parsed(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def is_environ(node: ast.AST) -> bool:
    """``os.environ`` or ``os.getenv`` (the two ways in)."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr in {"environ", "getenv"}
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def variables_read_in_code() -> dict[str, list[str]]:
    """KANGLE_* name → where it is read (module:line), from calls like ``config.integer("KANGLE_X", …)``."""
    found: dict[str, list[str]] = {}
    for path in python_files():
        for node in ast.walk(parsed(path)):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func, first = node.func, node.args[0]
            if (
                isinstance(func, ast.Attribute)
                and isinstance(func.value, ast.Name)
                and func.value.id == "config"
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value.startswith("KANGLE_")
            ):
                found.setdefault(first.value, []).append(f"{path.relative_to(SRC)}:{node.lineno}")
    return found


def variables_in_readme() -> set[str]:
    """The first column of the configuration table: `KANGLE_X`, `KANGLE_A` / `KANGLE_B`, and the short form
    `KANGLE_EMAIL_HOST`, `_PORT` (a leading underscore continues the first name's prefix)."""
    text = README.read_text(encoding="utf-8")
    table = text.split("## Configuration", 1)[1].split("\n## ", 1)[0].split("\n###", 1)[0]
    names: set[str] = set()
    for line in table.splitlines():
        if not line.startswith("| `"):
            continue
        first_column = line.split("|")[1]
        tokens = re.findall(r"`([A-Z_]+)`", first_column)
        if not tokens or not tokens[0].startswith("KANGLE_"):
            continue
        prefix = tokens[0].rsplit("_", 1)[0]
        names.update(token if token.startswith("KANGLE_") else prefix + token for token in tokens)
    return names


def test_the_readme_table_is_parsed():
    names = variables_in_readme()
    # The short forms expand, and the table is long enough that an empty parse cannot pass.
    assert {"KANGLE_HOME", "KANGLE_EMAIL_PORT", "KANGLE_LOGIN_LOCK_MINUTES", "KANGLE_SMS_SIGN"} <= names
    assert len(names) >= 20


def test_every_variable_the_code_reads_is_in_the_readme_table():
    undocumented = {
        name: places for name, places in variables_read_in_code().items() if name not in variables_in_readme()
    }
    assert not undocumented, f"add these to README.md's configuration table: {undocumented}"


def test_every_variable_in_the_readme_table_is_read_by_the_code():
    stale = variables_in_readme() - set(variables_read_in_code())
    assert not stale, f"README.md documents variables nothing reads: {sorted(stale)}"


@pytest.mark.parametrize("path", python_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_settings_are_read_only_through_config(path):
    tree = parsed(path)
    where = path.relative_to(SRC)
    for node in ast.walk(tree):
        if is_environ(node) and path.name not in ENVIRONMENT_PLUMBING:
            pytest.fail(f"{where}:{node.lineno} reads the environment; add a setting via kangle.config")
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) == 3
            and isinstance(node.args[0], ast.Name)
            and node.args[0].id == "settings"
        ):
            pytest.fail(
                f"{where}:{node.lineno} reads a setting with a fallback; define it in settings.py instead"
            )
    if path.name in ENVIRONMENT_PLUMBING - {"config.py"}:
        kangle_names = [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value.startswith("KANGLE_")
        ]
        assert not kangle_names, f"{where} names {kangle_names}; read them in settings.py through config"


def test_the_checks_catch_what_they_are_meant_to(tmp_path, monkeypatch):
    """A module that reads the environment directly or a setting with a fallback is refused."""
    bad = tmp_path / "bad.py"
    bad.write_text("import os\nA = os.environ.get('KANGLE_X')\n", encoding="utf-8")
    monkeypatch.setattr("test_configuration_table.SRC", tmp_path)
    with pytest.raises(pytest.fail.Exception, match="reads the environment"):
        test_settings_are_read_only_through_config(bad)
    fallback = tmp_path / "fallback.py"  # another file: parsed() caches by path
    fallback.write_text(
        "from django.conf import settings\nB = getattr(settings, 'KANGLE_Y', 1)\n", encoding="utf-8"
    )
    with pytest.raises(pytest.fail.Exception, match="with a fallback"):
        test_settings_are_read_only_through_config(fallback)
