"""Fixed vocabularies of the member file.

``ASPECTS`` are the 9 service aspects of DOMAIN.md (Part A, item 3). The catalogue itself (ServiceCategory /
ServiceAspect, editable) belongs to ``posts``, which sits above ``members``; a member's willingness is stored
here as these aspect codes, and ``posts`` keys its ServiceAspect rows by the same codes.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Aspect(models.TextChoices):
    CONVENIENCE = "convenience", _("Convenience services")
    CIVIC = "civic", _("Civic practice")
    CULTURE = "culture", _("Culture, sport and tutoring")
    SAFETY = "safety", _("Safety patrol")
    BUILDING_GROUP = "building_group", _("Building-group work")
    DELIBERATION = "deliberation", _("Deliberation and mediation")
    ELDERLY = "elderly", _("Help for the elderly and needy")
    PROFESSIONAL = "professional", _("Professional help")
    CARE = "care", _("One-to-one care")


# The Chinese names people type in spreadsheets, for import.
ASPECT_NAMES_ZH = {
    Aspect.CONVENIENCE: "便民服务",
    Aspect.CIVIC: "文明实践",
    Aspect.CULTURE: "文体教育",
    Aspect.SAFETY: "平安守护",
    Aspect.BUILDING_GROUP: "楼组建设",
    Aspect.DELIBERATION: "议事协商",
    Aspect.ELDERLY: "助老帮困",
    Aspect.PROFESSIONAL: "专业帮扶",
    Aspect.CARE: "结对关爱",
}


class PoliticalStatus(models.TextChoices):
    FULL_MEMBER = "full", _("Party member")
    PROBATIONARY = "probationary", _("Probationary Party member")
    APPLICANT = "applicant", _("Applicant for Party membership")
    MASSES = "masses", _("Non-Party")


POLITICAL_NAMES_ZH = {
    PoliticalStatus.FULL_MEMBER: ["正式党员", "中共党员", "党员"],
    PoliticalStatus.PROBATIONARY: ["预备党员", "中共预备党员"],
    PoliticalStatus.APPLICANT: ["入党申请人", "入党积极分子"],
    PoliticalStatus.MASSES: ["群众"],
}


class Gender(models.TextChoices):
    MALE = "m", _("Male")
    FEMALE = "f", _("Female")


GENDER_NAMES_ZH = {Gender.MALE: ["男", "m", "male"], Gender.FEMALE: ["女", "f", "female"]}


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
    ("mon", _("Monday"), "周一"),
    ("tue", _("Tuesday"), "周二"),
    ("wed", _("Wednesday"), "周三"),
    ("thu", _("Thursday"), "周四"),
    ("fri", _("Friday"), "周五"),
    ("sat", _("Saturday"), "周六"),
    ("sun", _("Sunday"), "周日"),
]
PERIODS = [
    ("am", _("Morning"), "上午"),
    ("pm", _("Afternoon"), "下午"),
    ("eve", _("Evening"), "晚上"),
]
# Slot index = day * 3 + period; availability is a 21-bit mask with bit ``index`` set when free.
SLOTS = [
    (d * 3 + p, f"{day}_{period}")
    for d, (day, _d, _dz) in enumerate(DAYS)
    for p, (period, _p, _pz) in enumerate(PERIODS)
]
SLOT_CODES = {code: index for index, code in SLOTS}
ALL_SLOTS_MASK = (1 << 21) - 1


def slot_label_zh(index: int) -> str:
    return DAYS[index // 3][2] + PERIODS[index % 3][2]


SLOT_NAMES_ZH = {slot_label_zh(index): index for index, _code in SLOTS}


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
