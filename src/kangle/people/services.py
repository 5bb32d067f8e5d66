"""Administering people from the workbench: accounts, roles, one-time codes. Each change is audited and the
person concerned gets a notice (inbox, and an SMS when a code must reach them), written in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kangle.accounts.models import RoleAssignment, User
from kangle.accounts.permissions import can_assign_role
from kangle.accounts.services import one_time_code_set, role_assign, role_revoke, user_create
from kangle.core import audit
from kangle.core.errors import NotAllowed, UserError
from kangle.core.roles import Role
from kangle.core.timeutil import resolve_now
from kangle.notify.services import notify_user
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import in_scope
from kangle.people.permissions import CREATABLE_ROLES, can_manage_people, can_manage_user


@dataclass(frozen=True)
class IssuedAccount:
    """A new account and the one-time code that opens it (shown once to the administrator)."""

    user: User
    code: str


def _outside() -> UserError:
    return UserError("not_found", _("Not found, or outside your scope"), status=404)


def _check_grant(actor, role: str, org: OrgUnit) -> None:
    if role not in Role.values:
        raise UserError("invalid_role", _("Unknown role: %(role)s"), field="role", role=role)
    if actor is None:
        return
    if not can_manage_people(actor) or not in_scope(actor, org.path):
        raise _outside()
    if not can_assign_role(actor, role, org):
        raise NotAllowed(_("You cannot grant a role above your own"))


ACCOUNT_OPENED = _("Your %(role)s account is open")


def _login_link() -> str:
    return reverse("accounts:login")


def _send_code(user: User, code: str, title, moment, params: dict | None = None) -> None:
    notify_user(
        recipient=user,
        title=title,
        body=_("Username: %(username)s, one-time password: %(code)s. Change your password when you log in."),
        params={**(params or {}), "username": user.username, "code": code},
        link=_login_link(),
        sms=True,
        now=moment,
        reference=f"accounts.user:{user.pk}",
    )


@transaction.atomic
def account_create(
    *,
    actor,
    username: str,
    display_name: str,
    phone: str,
    role: str,
    org: OrgUnit,
    initial_password: str | None = None,
    now: dt.datetime | None = None,
) -> IssuedAccount:
    """Create a login holding ``role`` at ``org``; it opens with a one-time code the person must replace.

    Contractor and employer accounts come through here too (from ``cases`` and ``members``). Only the
    system (``actor`` None: the demo data) may set ``initial_password`` instead; no code is issued then.
    """
    moment = resolve_now(now)
    if initial_password is not None and actor is not None:
        raise ValueError("only the system sets an initial password; people get a one-time code")
    _check_grant(actor, role, org)
    if not (display_name or "").strip():
        raise UserError("blank_name", _("Enter the person's name"), field="display_name")
    user = user_create(
        actor=actor,
        username=username,
        password=initial_password,
        display_name=display_name,
        phone=phone,
        check_password=False,
        now=moment,
    )
    role_assign(actor=actor, user=user, role=role, org=org, now=moment)
    code = ""
    if initial_password is None:
        code = one_time_code_set(user=user, now=moment)
        _send_code(user, code, ACCOUNT_OPENED, moment, {"role": Role(role).label})
    else:
        notify_user(
            recipient=user,
            title=ACCOUNT_OPENED,
            params={"role": Role(role).label},
            link=_login_link(),
            now=moment,
        )
    return IssuedAccount(user=User.objects.get(pk=user.pk), code=code)


def staff_account_create(
    *,
    actor,
    username: str,
    display_name: str,
    phone: str,
    role: str,
    org: OrgUnit,
    initial_password: str | None = None,
    now: dt.datetime | None = None,
) -> IssuedAccount:
    """A workbench account: street or area admin, community secretary or desk staff, grid leader."""
    if role not in CREATABLE_ROLES:
        raise UserError(
            "not_a_staff_role",
            _(
                "Only staff accounts are created here (members, residents, contractors and employers have their own)"
            ),
            field="role",
        )
    return account_create(
        actor=actor,
        username=username,
        display_name=display_name,
        phone=phone,
        role=role,
        org=org,
        initial_password=initial_password,
        now=now,
    )


@transaction.atomic
def role_grant(
    *, actor, user: User, role: str, org: OrgUnit, now: dt.datetime | None = None
) -> RoleAssignment:
    moment = resolve_now(now)
    _check_grant(actor, role, org)
    assignment = role_assign(actor=actor, user=user, role=role, org=org, now=moment)
    notify_user(
        recipient=user,
        title=_("You have been given a new role"),
        body=_("%(unit)s: %(role)s"),
        params={"unit": org.name, "role": Role(role).label},
        link=reverse("home"),
        now=moment,
    )
    return assignment


def _other_street_admins(street_path: str, *, excluding_user: User) -> bool:
    return (
        RoleAssignment.objects.filter(
            role=Role.STREET_ADMIN, is_active=True, org__path=street_path, user__is_active=True
        )
        .exclude(user=excluding_user)
        .exists()
    )


def _refuse_last_street_admin(user: User, assignments) -> None:
    for assignment in assignments:
        is_street_admin = assignment.role == Role.STREET_ADMIN and assignment.org.kind == OrgKind.STREET
        if is_street_admin and not _other_street_admins(assignment.org.path, excluding_user=user):
            raise UserError(
                "last_street_admin",
                _("This is the last street admin of %(name)s; appoint another one first"),
                name=assignment.org.name,
            )


@transaction.atomic
def role_withdraw(*, actor, assignment: RoleAssignment, now: dt.datetime | None = None) -> RoleAssignment:
    moment = resolve_now(now)
    assignment = (
        RoleAssignment.objects.select_for_update().select_related("org", "user").get(pk=assignment.pk)
    )
    if not can_manage_people(actor) or not in_scope(actor, assignment.org.path):
        raise _outside()
    if not can_assign_role(actor, assignment.role, assignment.org):
        raise NotAllowed(_("You cannot revoke a role above your own"))
    if assignment.is_active:
        _refuse_last_street_admin(assignment.user, [assignment])
    was_active = assignment.is_active
    assignment = role_revoke(actor=actor, assignment=assignment, now=moment)
    if was_active:
        notify_user(
            recipient=assignment.user,
            title=_("Your role has been revoked"),
            body=_("%(unit)s: %(role)s"),
            params={"unit": assignment.org.name, "role": Role(assignment.role).label},
            now=moment,
        )
    return assignment


def _check_manage(actor, user: User) -> None:
    if not can_manage_people(actor):
        raise _outside()
    if not can_manage_user(actor, user):
        raise NotAllowed(_("This person holds a role above your own"))


@transaction.atomic
def account_disable(*, actor, user: User, reason: str = "", now: dt.datetime | None = None) -> User:
    moment = resolve_now(now)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == actor.pk:
        raise UserError("disable_self", _("You cannot disable your own account"))
    _check_manage(actor, user)
    if not user.is_active:
        return user
    active = user.role_assignments.filter(is_active=True).select_related("org")
    _refuse_last_street_admin(user, active)
    User.objects.filter(pk=user.pk).update(is_active=False)
    user.is_active = False
    audit.record(actor=actor, verb="user.disable", obj=user, details={"reason": reason[:200]}, now=moment)
    notify_user(recipient=user, title=_("Your account has been suspended"), body=reason[:200], now=moment)
    return user


@transaction.atomic
def account_enable(*, actor, user: User, now: dt.datetime | None = None) -> User:
    moment = resolve_now(now)
    user = User.objects.select_for_update().get(pk=user.pk)
    _check_manage(actor, user)
    if user.is_active:
        return user
    User.objects.filter(pk=user.pk).update(is_active=True)
    user.is_active = True
    audit.record(actor=actor, verb="user.enable", obj=user, now=moment)
    notify_user(recipient=user, title=_("Your account is active again"), link=_login_link(), now=moment)
    return user


@transaction.atomic
def password_reset(*, actor, user: User, now: dt.datetime | None = None) -> str:
    """Replace the password with a one-time code, sent to the person's phone and shown once to the admin."""
    moment = resolve_now(now)
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.pk == actor.pk:
        raise UserError("reset_self", _("Change your own password on the password page"))
    _check_manage(actor, user)
    code = one_time_code_set(user=user, now=moment)
    audit.record(actor=actor, verb="user.password_reset", obj=user, now=moment)
    _send_code(user, code, _("Your password has been reset"), moment)
    return code


@transaction.atomic
def grid_leader_appoint(
    *, actor, grid: OrgUnit, user: User, now: dt.datetime | None = None
) -> RoleAssignment:
    """Make ``user`` the leader of ``grid``; a grid has one leader, so the previous one steps down."""
    moment = resolve_now(now)
    if grid.kind != OrgKind.GRID:
        raise UserError("not_a_grid", _("Grid leaders are appointed on a grid"), field="org")
    _check_grant(actor, Role.GRID_LEADER, grid)
    _step_down_grid_leaders(actor, grid, keep=user, now=moment)
    return role_grant(actor=actor, user=user, role=Role.GRID_LEADER, org=grid, now=moment)


@transaction.atomic
def grid_leader_create(
    *, actor, grid: OrgUnit, username: str, display_name: str, phone: str, now: dt.datetime | None = None
) -> IssuedAccount:
    """Appoint a person without an account yet: the account is created on the grid with a one-time code."""
    moment = resolve_now(now)
    if grid.kind != OrgKind.GRID:
        raise UserError("not_a_grid", _("Grid leaders are appointed on a grid"), field="org")
    _check_grant(actor, Role.GRID_LEADER, grid)
    _step_down_grid_leaders(actor, grid, keep=None, now=moment)
    return staff_account_create(
        actor=actor,
        username=username,
        display_name=display_name,
        phone=phone,
        role=Role.GRID_LEADER,
        org=grid,
        now=moment,
    )


def _step_down_grid_leaders(actor, grid: OrgUnit, *, keep: User | None, now) -> None:
    previous = RoleAssignment.objects.select_for_update().filter(
        role=Role.GRID_LEADER, org=grid, is_active=True
    )
    if keep is not None:
        previous = previous.exclude(user=keep)
    for assignment in previous:
        role_withdraw(actor=actor, assignment=assignment, now=now)
