"""Periodic jobs of the members app (listed in settings.KANGLE_PERIODIC_JOBS)."""

from __future__ import annotations

from kangle.members.services import anonymise_left_members as _anonymise


def anonymise_left_members(**_) -> None:
    _anonymise()
