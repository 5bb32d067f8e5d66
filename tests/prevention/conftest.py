"""Prevention fixtures: the termite category, a contractor covering 康健街道, points, a round, a campaign."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from kangle.cases.models import CaseCategory, Contractor
from kangle.core.roles import Role
from kangle.core.uploads import ValidatedImage, validate_image
from kangle.prevention import services
from kangle.prevention.models import PlaceType, TeamRole

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 6, 10, 10, 0, tzinfo=SH)


@pytest.fixture(autouse=True)
def _deployment_language():
    """The brief and the exports speak the requester's language: tests that call them without a request
    read the deployment's, whatever an earlier test's request left active in this thread."""
    with translation.override(settings.LANGUAGE_CODE):
        yield


def png_upload(name="photo.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (90, 60, 30)).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


@pytest.fixture(autouse=True)
def _fast_passwords(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def photo() -> ValidatedImage:
    return validate_image(png_upload())


@pytest.fixture
def termite(db) -> CaseCategory:
    return CaseCategory.objects.select_related("policy").get(code="termite")


@pytest.fixture
def technician(personas):
    from personas import make_user

    return make_user("kj_technician", Role.CONTRACTOR, personas.tree.street)


@pytest.fixture
def contractor_org(personas, termite, technician) -> Contractor:
    contractor = Contractor.objects.create(name="康健白蚁防治所", org=personas.tree.street, priority=1)
    contractor.categories.add(termite)
    contractor.users.add(technician)
    return contractor


def make_point(personas, code="MP1", org=None, place_type=PlaceType.GREEN_BELT, **extra):
    return services.point_create(
        actor=personas.street_admin,
        code=code,
        name=f"{code} 树根诱饵站",
        org=org or personas.tree.estate_a,
        latitude=Decimal("31.164000"),
        longitude=Decimal("121.423000"),
        place_type=place_type,
        device_type="地下诱饵站",
        bait_type="氟铃脲饵剂",
        installed_on=dt.date(2026, 3, 1),
        now=T0 - dt.timedelta(days=30),
        **extra,
    )


@pytest.fixture
def point(personas):
    return make_point(personas)


@pytest.fixture
def point_b(personas):
    return make_point(personas, code="MPB", org=personas.tree.estate_b)


@pytest.fixture
def inspection_round(personas):
    return services.round_open(actor=personas.street_admin, org=personas.tree.street, now=T0)


@pytest.fixture
def campaign(personas, contractor_org):
    return services.campaign_create(
        actor=personas.area_admin,
        name="康乐地毯式巡查",
        org=personas.tree.community_a,
        starts_on=dt.date(2026, 6, 1),
        ends_on=dt.date(2026, 6, 30),
        units=[personas.tree.estate_a],
        team=[(TeamRole.AREA_OFFICE, "第一片区工作站"), (TeamRole.CONTRACTOR, "康健白蚁防治所")],
        contractor=contractor_org,
        now=T0,
    )
