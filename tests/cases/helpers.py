"""Helpers for 民情快办 tests: a fixed clock, image bytes, reporting a case and walking it along the flow."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from kangle.cases import services
from kangle.cases.models import Channel

SH = ZoneInfo("Asia/Shanghai")
# A Wednesday in June (the rainy season), 10:00 Shanghai time.
T0 = dt.datetime(2026, 6, 10, 10, 0, tzinfo=SH)
RESIDENT_PHONE = "13812345678"


def png_bytes(color=(200, 30, 30), size=(8, 8)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(name="photo.png", content: bytes | None = None, content_type="image/png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes() if content is None else content, content_type=content_type)


def report(personas, category, *, now=T0, address="康健路 300 弄 5 号 201 室", org=None, **extra):
    return services.case_report(
        actor=personas.secretary_a,
        category=category,
        org=org or personas.tree.estate_a,
        channel=Channel.WALK_IN,
        title="屋内出现飞蚁",
        description="门框有蛀痕",
        resident_name="王阿姨",
        phone=RESIDENT_PHONE,
        address=address,
        now=now,
        **extra,
    )


def walk_in_body(category, org, address: str) -> dict:
    """What a desk posts to ``POST /api/v1/cases/`` for a walk-in report at ``address``."""
    return {
        "category": category.code,
        "org": org.code,
        "channel": "walk_in",
        "title": "飞蚁",
        "resident_name": "李先生",
        "phone": RESIDENT_PHONE,
        "address": address,
    }


def advance(personas, case, photo, *, to: str, now=T0, contractor=None):
    """Walk a case along the flow up to the status ``to`` (each step a minute after the last)."""
    order = ["accepted", "dispatched", "assigned", "booked", "contacted", "on_site", "work_done"]
    moment = now
    actor = personas.contractor
    for status in order[: order.index(to) + 1]:
        moment += dt.timedelta(minutes=1)
        if status == "accepted":
            case = services.case_accept(actor=personas.secretary_a, case=case, now=moment)
        elif status == "dispatched":
            case = services.case_dispatch(
                actor=personas.secretary_a, case=case, contractor=contractor, now=moment
            )
        elif status == "assigned":
            case = services.case_contractor_accept(actor=actor, case=case, now=moment)
        elif status == "booked":
            services.case_book(
                actor=actor,
                case=case,
                slot_start=moment + dt.timedelta(hours=2),
                slot_end=moment + dt.timedelta(hours=4),
                now=moment,
            )
        elif status == "contacted":
            case = services.case_contact(actor=actor, case=case, now=moment)
        elif status == "on_site":
            case = services.case_check_in(
                actor=actor, case=case, photos=[photo], early_reason="居民在家，同意提前上门", now=moment
            )
        elif status == "work_done":
            case = services.case_finish(actor=actor, case=case, now=moment)
        case.refresh_from_db()
    return case
