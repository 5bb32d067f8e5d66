"""Reference data of 民情快办 kept by street admins from the workbench: categories, SLA policies, contractors.

Categories, SLA policies and the holiday calendar are shared by every street of a deployment: street admins
read them, and only an admin whose scope covers every street changes them (orgs.permissions). Contractors cover a part of the tree and are kept by the street admin of that part.
A policy is never edited in place: a revision is a new version, so a running clock keeps the rules it
started with and only cases reported afterwards get the new ones.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.http import Http404
from django.utils.translation import gettext_lazy as _

from kangle.cases.models import (
    STATUS_RANK,
    Case,
    CaseCategory,
    CaseStatus,
    ClockType,
    Contractor,
    Milestone,
    SlaPolicy,
)
from kangle.cases.reference_cache import reference_changed
from kangle.core import audit, cleaners
from kangle.core.errors import UserError
from kangle.core.roles import Role
from kangle.core.text import normalise_text
from kangle.core.timeutil import resolve_now
from kangle.orgs.models import OrgUnit
from kangle.orgs.permissions import covers_every_street
from kangle.orgs.scope import get_in_scope_or_404, in_scope
from kangle.people.services import IssuedAccount, account_create

# Statuses a milestone may be met on (the case's workflow, from acceptance to close).
MET_ON_CHOICES = tuple(
    status
    for status in STATUS_RANK
    if status not in (CaseStatus.REPORTED, CaseStatus.REWORK, CaseStatus.CANCELLED)
)
ESCALATION_ROLES = (Role.COMMUNITY_SECRETARY, Role.AREA_ADMIN, Role.STREET_ADMIN)


# --- permissions --------------------------------------------------------------------------------------------
def can_manage_reference(actor) -> bool:
    return getattr(actor, "is_authenticated", False) and (
        actor.is_superuser or actor.has_role(Role.STREET_ADMIN)
    )


def access_category(actor, code: str) -> CaseCategory:
    if not can_manage_reference(actor):
        raise Http404
    try:
        return CaseCategory.objects.select_related("policy", "parent").get(code=code)
    except CaseCategory.DoesNotExist:
        raise Http404 from None


def access_policy(actor, code: str) -> SlaPolicy:
    """The current version of a policy."""
    if not can_manage_reference(actor):
        raise Http404
    try:
        return SlaPolicy.objects.prefetch_related("milestones").get(code=code, is_current=True)
    except SlaPolicy.DoesNotExist:
        raise Http404 from None


def access_contractor(actor, pk) -> Contractor:
    if not can_manage_reference(actor):
        raise Http404
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    return get_in_scope_or_404(actor, Contractor.objects.select_related("org"), pk=pk)


def can_edit_shared_reference(actor) -> bool:
    return covers_every_street(actor)


def require_shared(actor) -> None:
    """Changes to what every street uses (categories, policies, the calendar)."""
    if actor is not None and not can_edit_shared_reference(actor):
        raise UserError(
            "shared_reference",
            _(
                "Case categories, SLA policies and the holiday calendar are shared by every street; only an administrator over all streets may change them"
            ),
            status=403,
        )


def _require(actor) -> None:
    """``actor`` None is the system (the demo data), like everywhere else."""
    if actor is not None and not can_manage_reference(actor):
        raise UserError("not_found", _("Not found, or outside your scope"), status=404)


# --- categories ---------------------------------------------------------------------------------------------
@transaction.atomic
def category_update(
    *,
    actor,
    category: CaseCategory,
    name: str,
    precautions: str = "",
    prevention_tips: str = "",
    description: str = "",
    sort_order: int = 0,
    policy: SlaPolicy | None = None,
    now: dt.datetime | None = None,
) -> CaseCategory:
    require_shared(actor)
    category = CaseCategory.objects.select_for_update().get(pk=category.pk)
    before = {"name": category.name, "policy": category.policy_id}
    category.name = cleaners.text(name, field="name", label=_("Name"), max_length=100)
    category.precautions = cleaners.text(
        precautions,
        field="precautions",
        label=_("Precautions"),
        max_length=4000,
        required=False,
        multiline=True,
    )
    category.prevention_tips = cleaners.text(
        prevention_tips,
        field="prevention_tips",
        label=_("Prevention tips"),
        max_length=4000,
        required=False,
        multiline=True,
    )
    category.description = cleaners.text(
        description,
        field="description",
        label=_("Description"),
        max_length=4000,
        required=False,
        multiline=True,
    )
    category.sort_order = sort_order
    if policy is not None:
        if not policy.is_current:
            raise UserError("old_policy", _("Pick a current SLA policy"), field="policy")
        category.policy = policy
    category.save()
    reference_changed()
    audit.record(
        actor=actor, verb="category.update", obj=category, details={"before": before}, now=resolve_now(now)
    )
    return category


@transaction.atomic
def category_create(
    *,
    actor,
    code: str,
    name: str,
    policy: SlaPolicy,
    parent: CaseCategory | None = None,
    precautions: str = "",
    sort_order: int = 0,
    now: dt.datetime | None = None,
) -> CaseCategory:
    require_shared(actor)
    code = cleaners.text(code, field="code", label=_("Code"), max_length=40)
    if CaseCategory.objects.filter(code=code).exists():
        raise UserError("duplicate_code", _("This code already exists"), field="code")
    if not policy.is_current:
        raise UserError("old_policy", _("Pick a current SLA policy"), field="policy")
    category = CaseCategory.objects.create(
        code=code,
        name=cleaners.text(name, field="name", label=_("Name"), max_length=100),
        policy=policy,
        parent=parent,
        precautions=cleaners.text(
            precautions,
            field="precautions",
            label=_("Precautions"),
            max_length=4000,
            required=False,
            multiline=True,
        ),
        sort_order=sort_order,
    )
    reference_changed()
    audit.record(actor=actor, verb="category.create", obj=category, now=resolve_now(now))
    return category


@transaction.atomic
def category_delete(*, actor, category: CaseCategory, now: dt.datetime | None = None) -> str:
    """Delete an unused category; one with cases (or children) is retired instead. Returns what happened."""
    require_shared(actor)
    category = CaseCategory.objects.select_for_update().get(pk=category.pk)
    in_use = (
        Case.objects.filter(category=category).exists()
        or category.children.exists()
        or category.contractors.exists()
    )
    if in_use:
        if category.is_active:
            CaseCategory.objects.filter(pk=category.pk).update(is_active=False)
            reference_changed()
            audit.record(actor=actor, verb="category.retire", obj=category, now=resolve_now(now))
        return "retired"
    reference_changed()
    audit.record(actor=actor, verb="category.delete", obj=category, now=resolve_now(now))
    category.delete()
    return "deleted"


@transaction.atomic
def category_reinstate(*, actor, category: CaseCategory, now: dt.datetime | None = None) -> CaseCategory:
    require_shared(actor)
    CaseCategory.objects.filter(pk=category.pk).update(is_active=True)
    category.is_active = True
    reference_changed()
    audit.record(actor=actor, verb="category.reinstate", obj=category, now=resolve_now(now))
    return category


# --- SLA policies -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class MilestoneSpec:
    code: str
    name: str
    hours: int
    met_on: str


def _checked_milestones(milestones: list[MilestoneSpec]) -> list[MilestoneSpec]:
    if not milestones:
        raise UserError("no_milestones", _("A policy needs at least one milestone"), field="milestones")
    seen = set()
    for index, spec in enumerate(milestones, start=1):
        field = f"milestones.{index}"
        if not normalise_text(spec.code) or not normalise_text(spec.name):
            raise UserError(
                "blank_milestone", _("Milestone %(index)s needs a code and a name"), field=field, index=index
            )
        if spec.code in seen:
            raise UserError(
                "duplicate_milestone",
                _("Duplicate milestone code: %(code_value)s"),
                field=field,
                code_value=spec.code,
            )
        seen.add(spec.code)
        if not isinstance(spec.hours, int) or spec.hours <= 0:
            raise UserError(
                "bad_hours",
                _("Milestone %(index)s: the hours must be a whole number above zero"),
                field=field,
                index=index,
            )
        if spec.hours > 24 * 365:
            raise UserError(
                "too_many_hours", _("Milestone %(index)s: more than a year"), field=field, index=index
            )
        if spec.met_on not in MET_ON_CHOICES:
            raise UserError(
                "bad_met_on", _("Milestone %(index)s: unknown completion status"), field=field, index=index
            )
    return milestones


def _checked_ratio(warn_percent) -> Decimal:
    try:
        ratio = Decimal(str(warn_percent)) / 100
    except (InvalidOperation, TypeError):
        ratio = Decimal(-1)
    if not (Decimal(0) < ratio < Decimal(1)):
        raise UserError(
            "bad_warn_ratio",
            _("The warning threshold must be above 0 %% and below 100 %%"),
            field="warn_percent",
        )
    return ratio.quantize(Decimal("0.01"))


def _checked_chain(chain: list[dict]) -> list[dict]:
    cleaned = []
    for index, step in enumerate(chain or [], start=1):
        role = step.get("role")
        hours = step.get("after_hours")
        if role not in ESCALATION_ROLES:
            raise UserError(
                "bad_escalation_role",
                _("Escalation step %(index)s: unknown role"),
                field="escalation_chain",
                index=index,
            )
        if not isinstance(hours, int) or hours < 0:
            raise UserError(
                "bad_escalation_hours",
                _("Escalation step %(index)s: the hours must not be negative"),
                field="escalation_chain",
                index=index,
            )
        cleaned.append({"role": role, "after_hours": hours})
    return cleaned


@transaction.atomic
def sla_policy_revise(
    *,
    actor,
    policy: SlaPolicy,
    name: str,
    clock_type: str,
    warn_percent,
    escalation_chain: list[dict],
    milestones: list[MilestoneSpec],
    work_start: dt.time | None = None,
    work_end: dt.time | None = None,
    now: dt.datetime | None = None,
) -> SlaPolicy:
    """Publish a new version of ``policy``; categories move to it, running clocks keep the old one."""
    require_shared(actor)
    moment = resolve_now(now)
    current = SlaPolicy.objects.select_for_update().get(pk=policy.pk)
    if not current.is_current:
        raise UserError("stale_policy", _("This policy was revised meanwhile; reload"), status=409)
    if clock_type not in ClockType.values:
        raise UserError("bad_clock", _("Unknown clock"), field="clock_type")
    work_start = work_start or current.work_start
    work_end = work_end or current.work_end
    if work_start >= work_end:
        raise UserError("bad_work_hours", _("The working day must end after it starts"), field="work_end")
    ratio = _checked_ratio(warn_percent)
    chain = _checked_chain(escalation_chain)
    specs = _checked_milestones(milestones)
    SlaPolicy.objects.filter(pk=current.pk).update(is_current=False)
    revised = SlaPolicy.objects.create(
        code=current.code,
        version=current.version + 1,
        is_current=True,
        revised_at=moment,
        revised_by=actor if getattr(actor, "is_authenticated", False) else None,
        name=cleaners.text(name, field="name", label=_("Name"), max_length=100),
        clock_type=clock_type,
        work_start=work_start,
        work_end=work_end,
        warn_ratio=ratio,
        escalation_chain=chain,
    )
    Milestone.objects.bulk_create(
        [
            Milestone(policy=revised, code=s.code, name=s.name, hours=s.hours, met_on=s.met_on, order=i)
            for i, s in enumerate(specs)
        ]
    )
    moved = CaseCategory.objects.filter(policy=current).update(policy=revised)
    reference_changed()
    audit.record(
        actor=actor,
        verb="sla_policy.revise",
        obj=revised,
        details={
            "from_version": current.version,
            "to_version": revised.version,
            "categories": moved,
            "milestones": [[s.code, s.hours] for s in specs],
            "warn_ratio": str(ratio),
            "clock_type": clock_type,
        },
        now=moment,
    )
    return revised


# --- contractors --------------------------------------------------------------------------------------------
def _contractor_fields(
    actor, *, name: str, org: OrgUnit, categories: list[CaseCategory], priority: int
) -> dict:
    if actor is not None and not in_scope(actor, org.path):
        raise UserError("not_found", _("Not found, or outside your scope"), field="org", status=404)
    if not categories:
        raise UserError("no_categories", _("Pick at least one category"), field="categories")
    if not -100 <= priority <= 100:
        raise UserError("bad_priority", _("Priority must be between -100 and 100"), field="priority")
    return {
        "name": cleaners.text(name, field="name", label=_("Name"), max_length=100),
        "org": org,
        "priority": priority,
    }


@transaction.atomic
def contractor_create(
    *,
    actor,
    name: str,
    org: OrgUnit,
    categories: list[CaseCategory],
    phone: str = "",
    priority: int = 0,
    now: dt.datetime | None = None,
) -> Contractor:
    """A contractor serving ``org``'s subtree for ``categories``; default dispatch picks by priority."""
    _require(actor)
    fields = _contractor_fields(actor, name=name, org=org, categories=categories, priority=priority)
    contractor = Contractor.objects.create(phone=normalise_text(phone)[:30], **fields)
    contractor.categories.set(categories)
    audit.record(
        actor=actor,
        verb="contractor.create",
        obj=contractor,
        details={"categories": sorted(c.code for c in categories)},
        now=resolve_now(now),
    )
    return contractor


@transaction.atomic
def contractor_update(
    *,
    actor,
    contractor: Contractor,
    name: str,
    org: OrgUnit,
    categories: list[CaseCategory],
    phone: str = "",
    priority: int = 0,
    is_active: bool = True,
    now: dt.datetime | None = None,
) -> Contractor:
    _require(actor)
    contractor = Contractor.objects.select_for_update().get(pk=contractor.pk)
    if actor is not None and not in_scope(actor, contractor.org.path):
        raise UserError("not_found", _("Not found, or outside your scope"), status=404)
    fields = _contractor_fields(actor, name=name, org=org, categories=categories, priority=priority)
    for key, value in fields.items():
        setattr(contractor, key, value)
    contractor.phone = normalise_text(phone)[:30]
    contractor.is_active = is_active
    contractor.save()
    contractor.categories.set(categories)
    audit.record(
        actor=actor,
        verb="contractor.update",
        obj=contractor,
        details={"categories": sorted(c.code for c in categories), "active": is_active},
        now=resolve_now(now),
    )
    return contractor


@transaction.atomic
def contractor_staff_create(
    *,
    actor,
    contractor: Contractor,
    username: str,
    display_name: str,
    phone: str = "",
    initial_password: str | None = None,
    now: dt.datetime | None = None,
) -> IssuedAccount:
    """An account for one of the contractor's staff: the contractor role on the area it serves."""
    _require(actor)
    moment = resolve_now(now)
    issued = account_create(
        actor=actor,
        username=username,
        display_name=display_name,
        phone=phone,
        role=Role.CONTRACTOR,
        org=contractor.org,
        initial_password=initial_password,
        now=moment,
    )
    contractor.users.add(issued.user)
    audit.record(
        actor=actor,
        verb="contractor.staff_add",
        obj=contractor,
        details={"user": issued.user.username},
        now=moment,
    )
    return issued


@transaction.atomic
def contractor_staff_link(
    *, actor, contractor: Contractor, user, now: dt.datetime | None = None
) -> Contractor:
    """Let an existing contractor account work for ``contractor`` too (it must hold the contractor role)."""
    _require(actor)
    if not user.has_role(Role.CONTRACTOR):
        raise UserError(
            "not_contractor_account", _("This account is not a contractor's account"), field="username"
        )
    contractor.users.add(user)
    audit.record(
        actor=actor,
        verb="contractor.staff_add",
        obj=contractor,
        details={"user": user.username},
        now=resolve_now(now),
    )
    return contractor
