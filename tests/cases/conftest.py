"""Fixtures for 民情快办: the seeded categories, a contractor for the personas, a validated photo."""

from __future__ import annotations

import pytest

from cases.helpers import upload
from kangle.cases.defaults import seed
from kangle.cases.models import CaseCategory, Contractor, Milestone, SlaPolicy
from kangle.core.uploads import ValidatedImage, validate_image


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Personas are created per test; a fast hasher keeps the suite quick (login still checks it)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def photo() -> ValidatedImage:
    return validate_image(upload())


@pytest.fixture
def termite(db) -> CaseCategory:
    # The categories come from a data migration; transactional tests flush them, so seed again (idempotent).
    seed(SlaPolicy, Milestone, CaseCategory)
    return CaseCategory.objects.select_related("policy").get(code="termite")


@pytest.fixture
def contractor_org(personas, termite) -> Contractor:
    contractor = Contractor.objects.create(name="白蚁防治所", org=personas.tree.street, priority=1)
    contractor.categories.add(termite)
    contractor.users.add(personas.contractor)
    return contractor


@pytest.fixture
def other_contractor(personas, termite, django_user_model) -> tuple[Contractor, object]:
    from kangle.core.roles import Role
    from personas import make_user

    user = make_user("contractor_2", Role.CONTRACTOR, personas.tree.street)
    contractor = Contractor.objects.create(name="另一家公司", org=personas.tree.street)
    contractor.categories.add(termite)
    contractor.users.add(user)
    return contractor, user
