"""Turning what people type (forms, API, spreadsheet rows) into a clean member record, or saying why not.

``clean_member`` never raises for bad data: it returns the cleaned values and a list of ``Problem``s, so
an import preview can list every problem of every row; services raise the first one as a ``UserError``.
Full-width digits and stray spaces are folded (NFKC), not rejected.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.db.models import Q

from kangle.core.crypto import blind_index
from kangle.core.errors import UserError
from kangle.core.text import is_mobile, normalise_phone, normalise_text
from kangle.core.timeutil import today
from kangle.members.constants import (
    ASPECT_NAMES_ZH,
    DAYS,
    GENDER_NAMES_ZH,
    PERIODS,
    POLITICAL_NAMES_ZH,
    SLOT_CODES,
    SLOT_NAMES_ZH,
    Aspect,
    Relation,
)
from kangle.members.idnumber import birth_year_of, gender_of, id_number_problem, normalise_id_number
from kangle.members.models import Skill
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.selectors import subtree_q

SEPARATORS = re.compile(r"[、,，;；/|\s]+")
EXCEL_EPOCH = dt.date(1899, 12, 30)

# Field names, for messages: (中文, English).
FIELD_LABELS = {
    "name": ("姓名", "name"),
    "gender": ("性别", "gender"),
    "birth_year": ("出生年份", "birth year"),
    "phone": ("手机号", "mobile number"),
    "id_number": ("身份证号", "ID number"),
    "address": ("居住地址", "home address"),
    "political_status": ("政治面貌", "political status"),
    "employer": ("工作单位", "employer"),
    "party_org": ("单位党组织", "employer Party organisation"),
    "position": ("职务", "position"),
    "community": ("居民区", "community"),
    "microgrid": ("微网格", "micro-grid"),
    "building_group": ("楼组", "building group"),
    "skills": ("专业特长", "skills"),
    "availability": ("服务时间", "availability"),
    "willingness": ("服务意愿", "willingness"),
    "hours_per_month": ("每月可服务小时", "hours per month"),
    "household": ("家庭成员", "household members"),
}
REQUIRED = ("name", "phone", "political_status", "community")

RELATION_NAMES_ZH = {
    Relation.SPOUSE: ["配偶", "妻子", "丈夫", "爱人"],
    Relation.CHILD: ["子女", "儿子", "女儿"],
    Relation.PARENT: ["父母", "父亲", "母亲"],
    Relation.GRANDPARENT: ["祖父母", "外祖父母", "爷爷", "奶奶", "外公", "外婆"],
    Relation.GRANDCHILD: ["孙子女", "孙子", "孙女", "外孙", "外孙女"],
    Relation.SIBLING: ["兄弟姐妹", "哥哥", "弟弟", "姐姐", "妹妹"],
    Relation.OTHER: ["其他"],
}


@dataclass
class Problem:
    field: str
    zh: str
    en: str

    def as_error(self) -> UserError:
        return UserError(f"invalid_{self.field}", self.zh, self.en, field=self.field)


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
    aspects: list[str] = field(default_factory=list)
    hours_per_month: int = 0
    household: list[tuple[str, str, int | None]] = field(default_factory=list)

    @property
    def org(self) -> OrgUnit | None:
        return self.building_group or self.microgrid or self.estate or self.community


def _lookup_table(names: dict) -> dict[str, str]:
    table = {}
    for code, words in names.items():
        table[str(code).lower()] = str(code)
        for word in [words] if isinstance(words, str) else words:
            table[word.lower()] = str(code)
    return table


POLITICAL_LOOKUP = _lookup_table(POLITICAL_NAMES_ZH)
GENDER_LOOKUP = _lookup_table(GENDER_NAMES_ZH)
ASPECT_LOOKUP = _lookup_table(ASPECT_NAMES_ZH) | {
    str(label).lower(): a.value for a, label in zip(Aspect, Aspect.labels, strict=True)
}
RELATION_LOOKUP = _lookup_table(RELATION_NAMES_ZH)


class Resolver:
    """Looks up communities, places below them and skills, with caches (an import asks thousands of times).

    ``root`` limits communities to a subtree (the actor's unit); a community outside it is "unknown" — the
    same answer as a community that does not exist, so nothing leaks.
    """

    def __init__(self, root: OrgUnit | None = None):
        self.root = root
        self._communities: dict[str, OrgUnit | None] = {}
        self._places: dict[int, dict[str, list[OrgUnit]]] = {}
        self._units_by_code: dict[int, dict[str, OrgUnit]] = {}
        self._skills: dict[str, int] | None = None

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


def _availability(value) -> tuple[int, list[str]]:
    if isinstance(value, int):
        return value, []
    mask, unknown = 0, []
    for token in _tokens(value):
        lowered = token.lower()
        if lowered in SLOT_CODES:
            mask |= 1 << SLOT_CODES[lowered]
        elif token in SLOT_NAMES_ZH:
            mask |= 1 << SLOT_NAMES_ZH[token]
        elif token in ("周末", "双休日"):
            mask |= sum(1 << (d * 3 + p) for d in (5, 6) for p in range(3))
        elif token == "工作日晚上":  # noqa: S105 - a word people type, not a secret
            mask |= sum(1 << (d * 3 + 2) for d in range(5))
        elif token.endswith("全天") and token[:-2] in [z for _c, _l, z in DAYS]:
            d = [z for _c, _l, z in DAYS].index(token[:-2])
            mask |= sum(1 << (d * 3 + p) for p in range(len(PERIODS)))
        else:
            unknown.append(token)
    return mask, unknown


def _household(value) -> tuple[list[tuple[str, str, int | None]], list[str]]:
    """From a list of dicts (forms, API) or text like "王芳(配偶)；王小明(子女)"."""
    people, bad = [], []
    if isinstance(value, list | tuple):
        for item in value:
            name = normalise_text(item.get("name", ""))
            relation = RELATION_LOOKUP.get(normalise_text(item.get("relation", "")).lower())
            if not name and not item.get("relation"):
                continue
            if not name or not relation:
                bad.append(name or "?")
                continue
            try:
                year = _year(item.get("birth_year"))
            except ValueError:
                bad.append(name)
                continue
            people.append((name, relation, year))
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


def clean_member(raw: dict, resolver: Resolver, *, partial: bool = False) -> tuple[Cleaned, list[Problem]]:
    """Validate ``raw`` (keys as in FIELD_LABELS). With ``partial`` only the keys present are checked."""
    out = Cleaned()
    problems: list[Problem] = []

    def bad(name: str, zh: str, en: str) -> None:
        problems.append(Problem(name, zh, en))

    def present(name: str) -> bool:
        return not partial or name in raw

    text = {
        key: value if isinstance(value, list | tuple | int | float | dt.date) else normalise_text(value)
        for key, value in raw.items()
        if key in FIELD_LABELS and value is not None
    }
    for name in REQUIRED:
        value = text.get(name)
        if present(name) and (value is None or value == "" or value == []):
            zh, en = FIELD_LABELS[name]
            bad(name, f"{zh}不能为空", f"The {en} must not be blank")

    out.name = normalise_text(raw.get("name"))[:50]

    if present("id_number") and raw.get("id_number") not in (None, ""):
        if isinstance(raw["id_number"], float | int) and not isinstance(raw["id_number"], bool):
            bad(
                "id_number",
                "身份证号被存成了数字，末几位已丢失；请把该列设为文本格式后重新导出",
                "The ID number was stored as a number and lost digits; format the column as text",
            )
        else:
            number = normalise_id_number(raw["id_number"])
            problem = id_number_problem(number)
            if problem:
                bad("id_number", *problem)
            else:
                out.id_number, out.id_hash = number, blind_index(number)

    if present("phone") and text.get("phone") not in (None, ""):
        value = raw["phone"]
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        phone = normalise_phone(str(value))
        if not is_mobile(phone):
            bad(
                "phone",
                f"手机号格式不正确：{phone}（应为 11 位手机号）",
                f"Malformed mobile number: {phone} (11 digits)",
            )
        else:
            out.phone, out.phone_hash = phone, blind_index(phone)

    gender = text.get("gender")
    if present("gender") and gender:
        code = GENDER_LOOKUP.get(str(gender).lower())
        if code is None:
            bad("gender", f"性别应为“男”或“女”：{gender}", f"Gender must be male or female: {gender}")
        out.gender = code or ""
    if not out.gender and out.id_number:
        out.gender = gender_of(out.id_number)

    if present("birth_year") and raw.get("birth_year") not in (None, ""):
        try:
            out.birth_year = _year(raw["birth_year"])
        except ValueError:
            bad(
                "birth_year",
                f"无法识别的出生年份：{raw['birth_year']}",
                f"Unrecognised birth year: {raw['birth_year']}",
            )
        if out.birth_year is not None and not 1900 <= out.birth_year <= today().year - 14:
            bad(
                "birth_year", f"出生年份不合理：{out.birth_year}", f"Implausible birth year: {out.birth_year}"
            )
            out.birth_year = None
    if out.birth_year is None and out.id_number:
        out.birth_year = birth_year_of(out.id_number)

    status = text.get("political_status")
    if present("political_status") and status:
        code = POLITICAL_LOOKUP.get(str(status).lower())
        if code is None:
            bad(
                "political_status",
                f"政治面貌应为正式党员、预备党员、入党申请人或群众：{status}",
                "Political status must be full member, probationary member, applicant or "
                f"non-Party: {status}",
            )
        out.political_status = code or ""

    out.address = normalise_text(raw.get("address"))[:300]
    out.employer = normalise_text(raw.get("employer"))[:200]
    out.party_org = normalise_text(raw.get("party_org"))[:200]
    out.position = normalise_text(raw.get("position"))[:100]
    if out.party_org and not out.employer:
        bad(
            "employer",
            "填写单位党组织时必须同时填写工作单位",
            "An employer is required with an employer Party organisation",
        )

    if present("community") and raw.get("community") not in (None, ""):
        community = resolver.community(raw["community"])
        if community is None:
            shown = raw["community"].name if isinstance(raw["community"], OrgUnit) else text["community"]
            bad("community", f"未知的居民区：{shown}", f"Unknown community: {shown}")
        out.community = community
    if out.community is not None:
        for key, kind in (("microgrid", OrgKind.MICROGRID), ("building_group", OrgKind.BUILDING_GROUP)):
            value = raw.get(key)
            if value in (None, ""):
                continue
            unit, why = resolver.place(out.community, kind, value)
            if unit is None:
                zh, en = FIELD_LABELS[key]
                shown = value.name if isinstance(value, OrgUnit) else normalise_text(value)
                if why == "ambiguous":
                    bad(
                        key,
                        f"{zh}名称“{shown}”在{out.community.name}不唯一，请填写编码",
                        f"The {en} name '{shown}' is not unique in {out.community.code}; use its code",
                    )
                else:
                    bad(
                        key,
                        f"{out.community.name}没有这个{zh}：{shown}",
                        f"Unknown {en} in {out.community.code}: {shown}",
                    )
            setattr(out, key, unit)
        if out.building_group is not None:
            parent_grid = resolver.ancestor(out.community, out.building_group, OrgKind.MICROGRID)
            if out.microgrid is None:
                out.microgrid = parent_grid
            elif parent_grid is not None and parent_grid.pk != out.microgrid.pk:
                bad(
                    "building_group",
                    "楼组不在所填微网格内",
                    "The building group is not inside the micro-grid",
                )
        if out.microgrid is not None:
            out.estate = resolver.ancestor(out.community, out.microgrid, OrgKind.ESTATE)

    if raw.get("skills") not in (None, ""):
        skills = resolver.skills()
        other = []
        for token in _tokens(raw["skills"]):
            pk = skills.get(token.lower()) if not isinstance(token, int) else token
            if pk is None:
                other.append(token)
            elif pk not in out.skill_ids:
                out.skill_ids.append(pk)
        out.skills_other = "、".join(other)
    extra = normalise_text(raw.get("skills_other"))
    if extra:
        out.skills_other = "、".join(filter(None, [out.skills_other, extra]))
    out.skills_other = out.skills_other[:200]

    if raw.get("availability") not in (None, ""):
        mask, unknown = _availability(raw["availability"])
        if unknown or not 0 <= mask < (1 << 21):
            bad(
                "availability",
                f"无法识别的服务时间：{'、'.join(unknown)}（例如“周六上午、周日下午、工作日晚上”）",
                f"Unrecognised availability: {', '.join(unknown)} (e.g. 周六上午, 周日下午, 工作日晚上)",
            )
        out.availability = mask if 0 <= mask < (1 << 21) else 0

    if raw.get("willingness") not in (None, ""):
        for token in _tokens(raw["willingness"]):
            code = ASPECT_LOOKUP.get(token.lower())
            if code is None:
                bad("willingness", f"未知的服务意愿：{token}", f"Unknown service aspect: {token}")
            elif code not in out.aspects:
                out.aspects.append(code)

    if raw.get("hours_per_month") not in (None, ""):
        try:
            hours = float(normalise_text(str(raw["hours_per_month"])))
            if not hours.is_integer() or not 0 <= hours <= 200:
                raise ValueError
            out.hours_per_month = int(hours)
        except ValueError:
            bad(
                "hours_per_month",
                "每月可服务小时应为 0 到 200 的整数",
                "Hours per month must be a whole number from 0 to 200",
            )

    if raw.get("household") not in (None, "", []):
        people, wrong = _household(raw["household"])
        if wrong:
            bad(
                "household",
                f"家庭成员应写成“姓名(关系)”：{'、'.join(wrong)}",
                f"Household members must be written as name(relation): {', '.join(wrong)}",
            )
        out.household = people
    return out, problems


def clean_or_raise(raw: dict, resolver: Resolver, *, partial: bool = False) -> Cleaned:
    cleaned, problems = clean_member(raw, resolver, partial=partial)
    if problems:
        raise problems[0].as_error()
    return cleaned
