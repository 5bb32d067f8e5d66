"""Fixed vocabularies of the member file.

Display words are the ``gettext_lazy`` labels of these choices (Chinese in the app's catalogue). The nine
service aspects are not here: they live in the service catalogue's table (``posts.ServiceAspect``), which a
member's willingness points at, so the catalogue is the one place an aspect is named. ``Aspect`` below only
lists the codes that table was seeded with (posts migration 0002), for the demo and tests.
"""

from __future__ import annotations

import enum

from django.db import models
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Aspect(enum.StrEnum):
    """The codes of the nine seeded service aspects (names: the catalogue table, never here)."""

    CONVENIENCE = "convenience"
    CIVIC = "civic"
    CULTURE = "culture"
    SAFETY = "safety"
    BUILDING_GROUP = "building_group"
    DELIBERATION = "deliberation"
    ELDERLY = "elderly"
    PROFESSIONAL = "professional"
    CARE = "care"


class PoliticalStatus(models.TextChoices):
    FULL_MEMBER = "full", _("Party member")
    PROBATIONARY = "probationary", _("Probationary Party member")
    APPLICANT = "applicant", _("Applicant for Party membership")
    MASSES = "masses", _("Non-Party")


class Gender(models.TextChoices):
    MALE = "m", _("Male")
    FEMALE = "f", _("Female")


class Channel(models.TextChoices):
    PHONE = "phone", _("Self-registration on the phone")
    DESK = "desk", _("At a registration point")
    COLLECTIVE = "collective", _("Collective registration by the employer")
    IMPORT = "import", _("Imported from another platform")


class Status(models.TextChoices):
    PENDING = "pending", _("Pending")
    APPROVED = "approved", _("Approved")
    RETURNED = "returned", _("Returned")
    TRANSFERRED = "transferred", _("Transferred")
    LEFT = "left", _("Left")


# A file in any of these states is the person's one active file.
ACTIVE_STATUSES = (Status.PENDING, Status.APPROVED, Status.RETURNED, Status.TRANSFERRED)


class Relation(models.TextChoices):
    SPOUSE = "spouse", _("Spouse")
    CHILD = "child", _("Child")
    PARENT = "parent", _("Parent")
    GRANDPARENT = "grandparent", _("Grandparent")
    GRANDCHILD = "grandchild", _("Grandchild")
    SIBLING = "sibling", _("Sibling")
    OTHER = "other", _("Other")


DAYS = [
    ("mon", _("Monday")),
    ("tue", _("Tuesday")),
    ("wed", _("Wednesday")),
    ("thu", _("Thursday")),
    ("fri", _("Friday")),
    ("sat", _("Saturday")),
    ("sun", _("Sunday")),
]
PERIODS = [
    ("am", _("Morning")),
    ("pm", _("Afternoon")),
    ("eve", _("Evening")),
]
# Slot index = day * 3 + period; availability is a 21-bit mask with bit ``index`` set when free.
SLOTS = [
    (d * 3 + p, f"{day}_{period}")
    for d, (day, _d) in enumerate(DAYS)
    for p, (period, _p) in enumerate(PERIODS)
]
SLOT_CODES = {code: index for index, code in SLOTS}
ALL_SLOTS_MASK = (1 << 21) - 1


def _slot_label(index: int) -> str:
    return gettext("%(day)s %(period)s") % {"day": DAYS[index // 3][1], "period": PERIODS[index % 3][1]}


# A slot's name ("Saturday morning", 周六上午) in the reader's language, rendered when shown.
slot_label = lazy(_slot_label, str)


# The skill taxonomy seeded by migration 0002 (a frozen copy lives there); street admins edit it afterwards.
DEFAULT_SKILLS = [
    ("medical", "医疗"),
    ("legal", "法律"),
    ("haircut", "理发"),
    ("repair", "水电维修"),
    ("counselling", "心理咨询"),
    ("tutoring", "教育辅导"),
    ("it", "信息技术"),
    ("arts", "文艺"),
    ("driving", "驾驶"),
    ("language", "外语"),
    ("finance", "财会金融"),
    ("cooking", "烹饪"),
    ("nursing", "护理照护"),
    ("photography", "摄影摄像"),
]
