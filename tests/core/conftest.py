"""Fixtures shared by the to-do tests."""

from core.todo_items import termite  # noqa: F401 - a fixture, found by name
