"""Turning what people type (forms, API, spreadsheet rows) into a clean member record, or saying why not.

``clean_member`` never raises for bad data: it returns the cleaned values and a list of ``Problem``s, so
an import preview can list every problem of every row; services raise the first one as a ``UserError``.
Full-width digits and stray spaces are folded (NFKC), not rejected. Each field has its own small cleaner;
``CLEANERS`` lists them in the order a row is checked.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kangle.core import cleaners
from kangle.core.crypto import blind_index
from kangle.core.errors import CHINESE, ENGLISH, UserError, render
from kangle.core.text import is_mobile, normalise_phone, normalise_text
from kangle.core.timeutil import today
from kangle.members.constants import (
    DAYS,
    PERIODS,
    SLOT_CODES,
    Gender,
    PoliticalStatus,
    Relation,
)
from kangle.members.idnumber import birth_year_of, gender_of, id_number_problem, normalise_id_number
from kangle.members.models import MemberWillingness, Skill
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.selectors import subtree_q

SEPARATORS = re.compile(r"[、,，;；/|\s]+")
EXCEL_EPOCH = dt.date(1899, 12, 30)

# Field names, for messages and spreadsheet headers (translated; ``label_in`` gives one language).
FIELD_LABELS = {
    "name": pgettext_lazy("person", "Name"),
    "gender": _("Gender"),
    "birth_year": _("Birth year"),
    "phone": _("Mobile number"),
    "id_number": _("ID number"),
    "address": _("Home address"),
    "political_status": _("Political status"),
    "employer": _("Employer"),
    "party_org": _("Employer Party organisation"),
    "position": _("Position"),
    "community": _("Community"),
    "microgrid": _("Micro-grid"),
    "building_group": _("Building group"),
    "skills": _("Skills"),
    "availability": _("Availability"),
    "willingness": _("Willingness"),
    "hours_per_month": _("Hours per month"),
    "household": _("Household members"),
}
REQUIRED = ("name", "phone", "political_status", "community")


def label_in(name: str, language: str) -> str:
    """A field's label in one language (Chinese spreadsheet headers, English header aliases)."""
    return render(FIELD_LABELS[name], language=language)


def chinese_label(name: str) -> str:
    return label_in(name, CHINESE)


def english_label(name: str) -> str:
    return label_in(name, ENGLISH)


# Words accepted on import for a fixed vocabulary, besides the codes themselves and the choice labels. These
# are what people type in spreadsheets (synonyms included), not display words: pages show the labels.
IMPORT_WORDS = {
    "political_status": {
        PoliticalStatus.FULL_MEMBER: ["正式党员", "中共党员", "党员"],
        PoliticalStatus.PROBATIONARY: ["预备党员", "中共预备党员"],
        PoliticalStatus.APPLICANT: ["入党申请人", "入党积极分子"],
        PoliticalStatus.MASSES: ["群众"],
    },
    "gender": {Gender.MALE: ["男", "m", "male"], Gender.FEMALE: ["女", "f", "female"]},
    "relation": {
        Relation.SPOUSE: ["配偶", "妻子", "丈夫", "爱人"],
        Relation.CHILD: ["子女", "儿子", "女儿"],
        Relation.PARENT: ["父母", "父亲", "母亲"],
        Relation.GRANDPARENT: ["祖父母", "外祖父母", "爷爷", "奶奶", "外公", "外婆"],
        Relation.GRANDCHILD: ["孙子女", "孙子", "孙女", "外孙", "外孙女"],
        Relation.SIBLING: ["兄弟姐妹", "哥哥", "弟弟", "姐姐", "妹妹"],
        Relation.OTHER: ["其他"],
    },
    "day": {"mon": ["周一", "星期一"], "tue": ["周二", "星期二"], "wed": ["周三", "星期三"]}
    | {"thu": ["周四", "星期四"], "fri": ["周五", "星期五"], "sat": ["周六", "星期六"]}
    | {"sun": ["周日", "星期日", "星期天"]},
    "period": {"am": ["上午"], "pm": ["下午"], "eve": ["晚上"]},
}
WEEKEND_WORDS = ("周末", "双休日")
WEEKDAY_EVENING_WORDS = ("工作日晚上",)


def _lookup_table(vocabulary: str, choices=None) -> dict[str, str]:
    table = {}
    for code, words in IMPORT_WORDS[vocabulary].items():
        table[str(code).lower()] = str(code)
        for word in words:
            table[word.lower()] = str(code)
    for code, label in getattr(choices, "choices", []):
        for language in (CHINESE, ENGLISH):
            table.setdefault(render(label, language=language).lower(), str(code))
    return table


POLITICAL_LOOKUP = _lookup_table("political_status", PoliticalStatus)
GENDER_LOOKUP = _lookup_table("gender", Gender)
RELATION_LOOKUP = _lookup_table("relation", Relation)
DAY_LOOKUP = {
    word: index for index, (code, _l) in enumerate(DAYS) for word in [code, *IMPORT_WORDS["day"][code]]
}
PERIOD_LOOKUP = {
    word: index for index, (code, _l) in enumerate(PERIODS) for word in [code, *IMPORT_WORDS["period"][code]]
}
SLOT_WORD = re.compile(r"^(?P<day>.+?)(?P<period>上午|下午|晚上|全天)$")


@dataclass
class Problem:
    """One thing wrong with one field: a translatable message and its parameters."""

    field: str
    message: object
    params: dict = field(default_factory=dict)

    def text(self, language: str | None = None) -> str:
        return render(self.message, self.params, language)

    @property
    def zh(self) -> str:
        return self.text(CHINESE)

    @property
    def en(self) -> str:
        return self.text(ENGLISH)

    def as_error(self) -> UserError:
        return UserError(f"invalid_{self.field}", self.message, field=self.field, **self.params)


@dataclass
class Cleaned:
    name: str = ""
    gender: str = ""
    birth_year: int | None = None
    phone: str = ""
    phone_hash: str = ""
    id_number: str = ""
    id_hash: str | None = None
    address: str = ""
    political_status: str = ""
    employer: str = ""
    party_org: str = ""
    position: str = ""
    community: OrgUnit | None = None
    estate: OrgUnit | None = None
    microgrid: OrgUnit | None = None
    building_group: OrgUnit | None = None
    skill_ids: list[int] = field(default_factory=list)
    skills_other: str = ""
    availability: int = 0
    aspect_ids: list[int] = field(default_factory=list)
    hours_per_month: int = 0
    household: list[tuple[str, str, int | None]] = field(default_factory=list)

    @property
    def org(self) -> OrgUnit | None:
        return self.building_group or self.microgrid or self.estate or self.community


class Resolver:
    """Looks up communities, places below them, skills and service aspects, with caches (an import asks
    thousands of times).

    ``root`` limits communities to a subtree (the actor's unit); a community outside it is "unknown" — the
    same answer as a community that does not exist, so nothing leaks.
    """

    def __init__(self, root: OrgUnit | None = None):
        self.root = root
        self._communities: dict[str, OrgUnit | None] = {}
        self._places: dict[int, dict[str, list[OrgUnit]]] = {}
        self._units_by_code: dict[int, dict[str, OrgUnit]] = {}
        self._skills: dict[str, int] | None = None
        self._aspects: dict[str, int] | None = None

    def community(self, value) -> OrgUnit | None:
        if isinstance(value, OrgUnit):
            if value.kind != OrgKind.COMMUNITY or (self.root and not value.path.startswith(self.root.path)):
                return None
            return value
        key = normalise_text(value)
        if not key:
            return None
        if key not in self._communities:
            rows = OrgUnit.objects.filter(kind=OrgKind.COMMUNITY, is_active=True).filter(
                Q(code=key) | Q(name=key)
            )
            if self.root is not None:
                rows = rows.filter(subtree_q(self.root.path))
            found = list(rows[:2])
            self._communities[key] = found[0] if len(found) == 1 else None
        return self._communities[key]

    def _load_places(self, community: OrgUnit) -> None:
        if community.pk in self._places:
            return
        by_key: dict[str, list[OrgUnit]] = {}
        by_code: dict[str, OrgUnit] = {}
        for unit in OrgUnit.objects.filter(subtree_q(community.path)).exclude(pk=community.pk):
            by_code[unit.code] = unit
            by_key.setdefault(f"{unit.kind}:{unit.code}", []).append(unit)
            by_key.setdefault(f"{unit.kind}:{unit.name}", []).append(unit)
        self._places[community.pk] = by_key
        self._units_by_code[community.pk] = by_code

    def place(self, community: OrgUnit, kind: str, value) -> tuple[OrgUnit | None, str]:
        """(unit, "") or (None, "unknown" | "ambiguous")."""
        if isinstance(value, OrgUnit):
            ok = value.kind == kind and value.path.startswith(community.path)
            return (value, "") if ok else (None, "unknown")
        self._load_places(community)
        found = self._places[community.pk].get(f"{kind}:{normalise_text(value)}", [])
        if len(found) > 1:
            return None, "ambiguous"
        return (found[0], "") if found else (None, "unknown")

    def ancestor(self, community: OrgUnit, unit: OrgUnit, kind: str) -> OrgUnit | None:
        self._load_places(community)
        codes = self._units_by_code[community.pk]
        for code in unit.ancestor_codes():
            candidate = codes.get(code)
            if candidate is not None and candidate.kind == kind:
                return candidate
        return None

    def skills(self) -> dict[str, int]:
        if self._skills is None:
            self._skills = {}
            for pk, code, name in Skill.objects.filter(is_active=True).values_list("pk", "code", "name"):
                self._skills[code.lower()] = pk
                self._skills[name.lower()] = pk
        return self._skills

    def aspects(self) -> dict[str, int]:
        """Active aspects of the service catalogue by code and by name (lower case) → id."""
        if self._aspects is None:
            self._aspects = {}
            catalogue = MemberWillingness._meta.get_field("aspect").related_model
            for pk, code, name in catalogue.objects.filter(is_active=True).values_list("pk", "code", "name"):
                self._aspects[code.lower()] = pk
                self._aspects[name.lower()] = pk
        return self._aspects


def _tokens(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple | set):
        return [normalise_text(str(v)) for v in value if normalise_text(str(v))]
    return [t for t in SEPARATORS.split(normalise_text(str(value))) if t]


def _year(value) -> int | None:
    """A year from 1985, "1985", "1985-03-02", "1985年3月", a date, or an Excel serial date (31107)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.year
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        if 1900 <= value <= 2100:
            return value
        if 1 <= value <= 80000:  # days since 1899-12-30, as Excel stores dates
            return (EXCEL_EPOCH + dt.timedelta(days=value)).year
        raise ValueError
    text = normalise_text(str(value))
    match = re.match(r"^(\d{4})(?:$|[-/.年]\d{1,2}(?:[-/.月]\d{1,2}日?)?(?:\s.*)?$|年$)", text)
    if match:
        return int(match.group(1))
    if re.fullmatch(r"\d{5}(?:\.0+)?", text):
        return _year(int(float(text)))
    raise ValueError


def _slot_word_mask(token: str) -> int | None:
    """周六上午 → that slot; 周六全天 → the day's three; 周末, 工作日晚上; None when not a slot word."""
    if token in WEEKEND_WORDS:
        return sum(1 << (d * 3 + p) for d in (5, 6) for p in range(len(PERIODS)))
    if token in WEEKDAY_EVENING_WORDS:
        return sum(1 << (d * 3 + 2) for d in range(5))
    match = SLOT_WORD.match(token)
    if not match or match["day"] not in DAY_LOOKUP:
        return None
    d = DAY_LOOKUP[match["day"]]
    if match["period"] == "全天":
        return sum(1 << (d * 3 + p) for p in range(len(PERIODS)))
    return 1 << (d * 3 + PERIOD_LOOKUP[match["period"]])


def _availability(value) -> tuple[int, list[str]]:
    if isinstance(value, int):
        return value, []
    mask, unknown = 0, []
    for token in _tokens(value):
        lowered = token.lower()
        word_mask = None if lowered in SLOT_CODES else _slot_word_mask(token)
        if lowered in SLOT_CODES:
            mask |= 1 << SLOT_CODES[lowered]
        elif word_mask is not None:
            mask |= word_mask
        else:
            unknown.append(token)
    return mask, unknown


def _household_item(item: dict) -> tuple[tuple[str, str, int | None] | None, str | None]:
    """(person, None), (None, what was wrong) or (None, None) for an empty row."""
    name = normalise_text(item.get("name", ""))
    relation = RELATION_LOOKUP.get(normalise_text(item.get("relation", "")).lower())
    if not name and not item.get("relation"):
        return None, None
    if not name or not relation:
        return None, name or "?"
    try:
        return (name, relation, _year(item.get("birth_year"))), None
    except ValueError:
        return None, name


def _household(value) -> tuple[list[tuple[str, str, int | None]], list[str]]:
    """From a list of dicts (forms, API) or text like "王芳(配偶)；王小明(子女)"."""
    people, bad = [], []
    if isinstance(value, list | tuple):
        for item in value:
            person, wrong = _household_item(item)
            if person:
                people.append(person)
            elif wrong:
                bad.append(wrong)
        return people, bad
    for token in re.split(r"[;；,，、]+", normalise_text(value)):
        token = token.strip()
        if not token:
            continue
        match = re.fullmatch(r"(.+?)\s*[(（]\s*(.+?)\s*[)）]", token)
        relation = RELATION_LOOKUP.get(match.group(2).lower()) if match else None
        if not match or not relation:
            bad.append(token)
            continue
        people.append((match.group(1), relation, None))
    return people, bad


# --- One cleaner per field --------------------------------------------------------------------------------
class _Row:
    """One record being cleaned: the raw values, the result so far and the problems found."""

    def __init__(self, raw: dict, resolver: Resolver, partial: bool):
        self.raw, self.resolver, self.partial = raw, resolver, partial
        self.out = Cleaned()
        self.problems: list[Problem] = []

    def bad(self, name: str, message, **params) -> None:
        self.problems.append(Problem(name, message, params))

    def checks(self, name: str) -> bool:
        """Whether ``name`` is checked at all (every field, or only those given when partial)."""
        return not self.partial or name in self.raw

    def given(self, name: str) -> bool:
        return self.raw.get(name) not in (None, "", [])

    def text(self, name: str) -> str:
        return normalise_text(self.raw.get(name))


def _clean_required(row: _Row) -> None:
    for name in REQUIRED:
        value = row.raw.get(name)
        blank = value is None or value == [] or (not isinstance(value, list | tuple) and not row.text(name))
        if row.checks(name) and blank and not isinstance(value, OrgUnit):
            row.bad(name, _("%(label)s must not be blank"), label=FIELD_LABELS[name])


def _clean_texts(row: _Row) -> None:
    out = row.out
    out.name = row.text("name")[:50]
    out.address = row.text("address")[:300]
    out.employer = row.text("employer")[:200]
    out.party_org = row.text("party_org")[:200]
    out.position = row.text("position")[:100]
    if out.party_org and not out.employer:
        row.bad("employer", _("An employer is required with an employer Party organisation"))


def _clean_id_number(row: _Row) -> None:
    if not (row.checks("id_number") and row.given("id_number")):
        return
    value = row.raw["id_number"]
    if isinstance(value, float | int) and not isinstance(value, bool):
        row.bad(
            "id_number",
            _("The ID number was stored as a number and lost digits; format the column as text"),
        )
        return
    number = normalise_id_number(value)
    problem = id_number_problem(number)
    if problem:
        row.bad("id_number", problem)
    else:
        row.out.id_number, row.out.id_hash = number, blind_index(number)


def _clean_phone(row: _Row) -> None:
    if not (row.checks("phone") and row.text("phone")):
        return
    value = row.raw["phone"]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    phone = normalise_phone(str(value))
    if is_mobile(phone):
        row.out.phone, row.out.phone_hash = phone, blind_index(phone)
    else:
        row.bad("phone", _("Malformed mobile number: %(phone)s (11 digits)"), phone=phone)


def _clean_gender(row: _Row) -> None:
    gender = row.text("gender")
    if row.checks("gender") and gender:
        code = GENDER_LOOKUP.get(gender.lower())
        if code is None:
            row.bad("gender", _("Gender must be male or female: %(value)s"), value=gender)
        row.out.gender = code or ""
    if not row.out.gender and row.out.id_number:
        row.out.gender = gender_of(row.out.id_number)


def _clean_birth_year(row: _Row) -> None:
    out = row.out
    if row.checks("birth_year") and row.given("birth_year"):
        try:
            out.birth_year = _year(row.raw["birth_year"])
        except ValueError:
            row.bad("birth_year", _("Unrecognised birth year: %(value)s"), value=str(row.raw["birth_year"]))
        if out.birth_year is not None and not 1900 <= out.birth_year <= today().year - 14:
            row.bad("birth_year", _("Implausible birth year: %(year)d"), year=out.birth_year)
            out.birth_year = None
    if out.birth_year is None and out.id_number:
        out.birth_year = birth_year_of(out.id_number)


def _clean_political_status(row: _Row) -> None:
    status = row.text("political_status")
    if row.checks("political_status") and status:
        code = POLITICAL_LOOKUP.get(status.lower())
        if code is None:
            row.bad(
                "political_status",
                _(
                    "Political status must be full member, probationary member, applicant or non-Party: %(value)s"
                ),
                value=status,
            )
        row.out.political_status = code or ""


def _clean_community(row: _Row) -> None:
    if not (row.checks("community") and row.given("community")):
        return
    value = row.raw["community"]
    community = row.resolver.community(value)
    if community is None:
        shown = value.name if isinstance(value, OrgUnit) else row.text("community")
        row.bad("community", _("Unknown community: %(value)s"), value=shown)
    row.out.community = community


def _clean_place(row: _Row, key: str, kind: str) -> None:
    community, value = row.out.community, row.raw.get(key)
    if community is None or value in (None, ""):
        return
    unit, why = row.resolver.place(community, kind, value)
    if unit is None:
        shown = value.name if isinstance(value, OrgUnit) else normalise_text(value)
        if why == "ambiguous":
            message = _("The %(label)s name “%(value)s” is not unique in %(community)s; use its code")
        else:
            message = _("%(community)s has no %(label)s called %(value)s")
        row.bad(key, message, label=FIELD_LABELS[key], value=shown, community=community.name)
    setattr(row.out, key, unit)


def _clean_places(row: _Row) -> None:
    _clean_place(row, "microgrid", OrgKind.MICROGRID)
    _clean_place(row, "building_group", OrgKind.BUILDING_GROUP)
    out, resolver = row.out, row.resolver
    if out.building_group is not None:
        parent_grid = resolver.ancestor(out.community, out.building_group, OrgKind.MICROGRID)
        if out.microgrid is None:
            out.microgrid = parent_grid
        elif parent_grid is not None and parent_grid.pk != out.microgrid.pk:
            row.bad("building_group", _("The building group is not inside the micro-grid"))
    if out.microgrid is not None:
        out.estate = resolver.ancestor(out.community, out.microgrid, OrgKind.ESTATE)


def _clean_skills(row: _Row) -> None:
    out, other = row.out, []
    if row.given("skills"):
        skills = row.resolver.skills()
        for token in _tokens(row.raw["skills"]):
            pk = skills.get(token.lower())
            if pk is None:
                other.append(token)
            elif pk not in out.skill_ids:
                out.skill_ids.append(pk)
    out.skills_other = "、".join(filter(None, ["、".join(other), row.text("skills_other")]))[:200]


def _clean_availability(row: _Row) -> None:
    if not row.given("availability"):
        return
    mask, unknown = _availability(row.raw["availability"])
    in_range = 0 <= mask < (1 << 21)
    if unknown or not in_range:
        row.bad(
            "availability",
            _("Unrecognised availability: %(value)s (e.g. 周六上午, 周日下午, 工作日晚上)"),
            value="、".join(unknown),
        )
    row.out.availability = mask if in_range else 0


def _clean_willingness(row: _Row) -> None:
    if not row.given("willingness"):
        return
    aspects = row.resolver.aspects()
    for token in _tokens(row.raw["willingness"]):
        pk = aspects.get(token.lower())
        if pk is None:
            row.bad("willingness", _("Unknown service aspect: %(value)s"), value=token)
        elif pk not in row.out.aspect_ids:
            row.out.aspect_ids.append(pk)


def _clean_hours(row: _Row) -> None:
    if not row.given("hours_per_month"):
        return
    value = row.raw["hours_per_month"]
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*\d+\.0+\s*", normalise_text(value)):
        value = normalise_text(value).split(".")[0]
    try:
        row.out.hours_per_month = cleaners.whole_number(
            value, field="hours_per_month", label=FIELD_LABELS["hours_per_month"], low=0, high=200
        )
    except UserError as error:
        row.problems.append(Problem(error.field, error.message, error.params))


def _clean_household(row: _Row) -> None:
    if not row.given("household"):
        return
    people, wrong = _household(row.raw["household"])
    if wrong:
        row.bad(
            "household",
            _("Household members must be written as name(relation): %(value)s"),
            value="、".join(wrong),
        )
    row.out.household = people


# In the order a row is checked (gender and birth year fall back to the ID number, places need the community).
CLEANERS = (
    _clean_required,
    _clean_texts,
    _clean_id_number,
    _clean_phone,
    _clean_gender,
    _clean_birth_year,
    _clean_political_status,
    _clean_community,
    _clean_places,
    _clean_skills,
    _clean_availability,
    _clean_willingness,
    _clean_hours,
    _clean_household,
)


def clean_member(raw: dict, resolver: Resolver, *, partial: bool = False) -> tuple[Cleaned, list[Problem]]:
    """Validate ``raw`` (keys as in FIELD_LABELS). With ``partial`` only the keys present are checked."""
    row = _Row(raw, resolver, partial)
    for cleaner in CLEANERS:
        cleaner(row)
    return row.out, row.problems


def clean_or_raise(raw: dict, resolver: Resolver, *, partial: bool = False) -> Cleaned:
    cleaned, problems = clean_member(raw, resolver, partial=partial)
    if problems:
        raise problems[0].as_error()
    return cleaned
