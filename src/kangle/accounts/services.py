"""Every change to users, role assignments and API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.functional import lazy
from django.utils.translation import gettext_lazy

from kangle.accounts.models import ApiToken, RoleAssignment, User
from kangle.accounts.permissions import can_assign_role, can_manage_tokens
from kangle.accounts.sessions import fetch_with_user
from kangle.core import audit, cleaners
from kangle.core.crypto import blind_index
from kangle.core.errors import NotAllowed, UserError
from kangle.core.rawrows import update_one
from kangle.core.roles import Role
from kangle.core.text import is_mobile, normalise_phone, normalise_text
from kangle.core.timeutil import resolve_now
from kangle.orgs.models import OrgKind, OrgUnit
from kangle.orgs.scope import in_scope

TOKEN_PREFIX = "kg_"  # noqa: S105 - a public marker, not a secret
# How long a one-time code from an administrator opens an account before it must be reissued.
ONE_TIME_CODE_LIFETIME = dt.timedelta(hours=72)
# Letters and digits that cannot be mistaken for one another when read out over the phone.
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def _reasons(error: ValidationError):
    """The validators' reasons, rendered in the reader's language when the message is."""
    return lazy(lambda: "; ".join(ValidationError(error.error_list).messages), str)()


def _checked_phone(phone: str) -> str:
    normalised = normalise_phone(phone)
    if normalised and not is_mobile(normalised):
        raise UserError("invalid_phone", gettext_lazy("Malformed mobile number (11 digits)"), field="phone")
    if normalised and User.objects.filter(phone_hash=blind_index(normalised)).exists():
        raise UserError(
            "duplicate_phone", gettext_lazy("This mobile number is used by another account"), field="phone"
        )
    return normalised


@transaction.atomic
def user_create(
    *,
    actor,
    username: str,
    password: str | None,
    display_name: str = "",
    phone: str = "",
    email: str = "",
    check_password: bool = True,
    now: dt.datetime | None = None,
) -> User:
    """Create a login. ``actor`` None means the system (demo data, createadmin)."""
    username = normalise_text(username)
    if not username:
        raise UserError("blank_username", gettext_lazy("The username must not be blank"), field="username")
    if User.objects.filter(username=username).exists():
        raise UserError("duplicate_username", gettext_lazy("This username already exists"), field="username")
    phone = _checked_phone(phone)
    if password is not None and check_password:
        try:
            validate_password(password)
        except ValidationError as exc:
            raise UserError(
                "weak_password",
                gettext_lazy("The password is too weak: %(reasons)s"),
                field="password",
                reasons=_reasons(exc),
            ) from None
    user = User(
        username=username,
        display_name=normalise_text(display_name),
        email=email.strip(),
        date_joined=resolve_now(now),
    )
    user.set_phone(phone)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    audit.record(actor=actor, verb="user.create", obj=user, now=now)
    return user


@transaction.atomic
def user_set_large_type(*, actor, user: User, large_type: bool, now: dt.datetime | None = None) -> User:
    """Switch a person's phone pages to large type (大字版) or back; only the person themselves may."""
    if actor is None or actor.pk != user.pk:
        raise NotAllowed()
    changed = User.objects.filter(pk=user.pk).exclude(large_type=large_type).update(large_type=large_type)
    user.large_type = large_type
    if changed:
        audit.record(actor=actor, verb="user.large_type", obj=user, details={"on": large_type}, now=now)
    return user


@transaction.atomic
def user_set_language(*, actor, user: User, language: str, now: dt.datetime | None = None) -> User:
    """Record the language a person reads (their notices are written in it); only the person themselves."""
    if actor is None or actor.pk != user.pk:
        raise NotAllowed()
    language = cleaners.choice(
        language,
        field="language",
        label=gettext_lazy("Language"),
        choices=[code for code, _n in settings.LANGUAGES],
    )
    changed = User.objects.filter(pk=user.pk).exclude(language=language).update(language=language)
    user.language = language
    if changed:
        audit.record(actor=actor, verb="user.language", obj=user, details={"language": language}, now=now)
    return user


@transaction.atomic
def role_assign(
    *, actor, user: User, role: str, org: OrgUnit, now: dt.datetime | None = None
) -> RoleAssignment:
    if role not in Role.values:
        raise UserError("invalid_role", gettext_lazy("Unknown role: %(role)s"), field="role", role=role)
    if actor is not None and not can_assign_role(actor, role, org):
        raise NotAllowed()
    assignment, created = RoleAssignment.objects.get_or_create(
        user=user, role=role, org=org, defaults={"granted_at": resolve_now(now), "granted_by": actor}
    )
    if not created and not assignment.is_active:
        assignment.is_active = True
        assignment.save(update_fields=["is_active"])
    audit.record(
        actor=actor, verb="role.assign", obj=assignment, details={"role": role, "org": org.code}, now=now
    )
    return assignment


@transaction.atomic
def role_revoke(*, actor, assignment: RoleAssignment, now: dt.datetime | None = None) -> RoleAssignment:
    assignment = RoleAssignment.objects.select_for_update().select_related("org").get(pk=assignment.pk)
    if not can_assign_role(actor, assignment.role, assignment.org):
        raise NotAllowed()
    if assignment.is_active:
        RoleAssignment.objects.filter(pk=assignment.pk).update(is_active=False)
        assignment.is_active = False
        audit.record(actor=actor, verb="role.revoke", obj=assignment, now=now)
    return assignment


def one_time_code_set(*, user: User, now: dt.datetime | None = None) -> str:
    """Replace ``user``'s password with a fresh one-time code and make them choose their own at next login.

    A building block for the administration services (which check permission and write the audit event);
    returns the code, which is shown once and never stored in clear.
    """
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
    user.set_password(code)
    user.must_change_password = True
    user.one_time_code_expires_at = resolve_now(now) + ONE_TIME_CODE_LIFETIME
    user.save(update_fields=["password", "must_change_password", "one_time_code_expires_at"])
    return code


@transaction.atomic
def password_change(*, actor, new_password: str, now: dt.datetime | None = None) -> User:
    """A signed-in person sets their own password (required after an administrator's one-time code)."""
    user = User.objects.select_for_update().get(pk=actor.pk)
    try:
        validate_password(new_password, user)
    except ValidationError as exc:
        raise UserError(
            "weak_password",
            gettext_lazy("The password is too weak: %(reasons)s"),
            field="new_password",
            reasons=_reasons(exc),
        ) from None
    if user.check_password(new_password):
        raise UserError(
            "same_password",
            gettext_lazy("The new password must differ from the current one"),
            field="new_password",
        )
    user.set_password(new_password)
    user.must_change_password = False
    user.one_time_code_expires_at = None
    user.save(update_fields=["password", "must_change_password", "one_time_code_expires_at"])
    audit.record(actor=user, verb="user.password_change", obj=user, now=now)
    return user


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@transaction.atomic
def token_issue(*, actor, user: User, name: str, now: dt.datetime | None = None) -> tuple[ApiToken, str]:
    """Issue a token acting as ``user``; returns the row and the token, which is never shown again."""
    if not can_manage_tokens(actor):
        raise NotAllowed()
    # A token may act only as someone wholly inside the issuer's scope: otherwise it would widen it.
    target = User.objects.get(pk=user.pk)
    if not actor.is_superuser and (
        target.is_superuser or not all(in_scope(actor, path) for _role, path, _org in target.role_rows)
    ):
        raise UserError(
            "unknown_user", gettext_lazy("No user with this username"), field="username", status=404
        )
    name = normalise_text(name)
    if not name:
        raise UserError("blank_name", gettext_lazy("Say what the token is for"), field="name")
    prefix = secrets.token_hex(4)
    token = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    row = ApiToken.objects.create(
        user=user,
        name=name,
        prefix=prefix,
        key_hash=_hash_token(token),
        created_by=actor,
        created_at=resolve_now(now),
    )
    audit.record(actor=actor, verb="token.issue", obj=row, details={"acts_as": user.username}, now=now)
    return row, token


@transaction.atomic
def token_revoke(*, actor, token: ApiToken, now: dt.datetime | None = None) -> ApiToken:
    if not can_manage_tokens(actor):
        raise NotAllowed()
    token = ApiToken.objects.select_for_update().get(pk=token.pk)
    if token.revoked_at is None:
        token.revoked_at = resolve_now(now)
        token.save(update_fields=["revoked_at"])
        audit.record(actor=actor, verb="token.revoke", obj=token, now=now)
    return token


def token_authenticate(raw_token: str, *, now: dt.datetime | None = None) -> User | None:
    """The user a presented token acts as, or None (unknown, malformed, revoked, or inactive user)."""
    if not raw_token or not raw_token.startswith(TOKEN_PREFIX):
        return None
    try:
        prefix = raw_token[len(TOKEN_PREFIX) :].split("_", 1)[0]
    except IndexError:
        return None
    # The user's role rows come with the token, as with a session (accounts.sessions).
    row = fetch_with_user(ApiToken, "prefix", prefix)
    if row is None or row.revoked_at is not None or row.user is None or not row.user.is_active:
        return None
    if not hmac.compare_digest(row.key_hash, _hash_token(raw_token)):
        return None
    moment = resolve_now(now)
    # Touch last_used at most once a minute: a busy integration should not turn every read into a write.
    if row.last_used_at is None or (moment - row.last_used_at).total_seconds() > 60:
        update_one(ApiToken, row.pk, last_used_at=moment)
    return row.user


@transaction.atomic
def resident_sign_up(
    *, phone: str, display_name: str, community: OrgUnit, now: dt.datetime | None = None
) -> User:
    """A resident's own account, made after they proved the number with a texted code (no password).

    ``phone`` is the verified number; the caller proved it. The person is a resident of ``community``.
    """
    display_name = normalise_text(display_name)
    if not display_name:
        raise UserError("blank_name", gettext_lazy("Say how we should address you"), field="display_name")
    if community.kind != OrgKind.COMMUNITY or not community.is_active:
        raise UserError("invalid_community", gettext_lazy("Choose your community"), field="community")
    user = user_create(
        actor=None,
        username=f"r-{secrets.token_hex(5)}",
        password=None,
        display_name=display_name,
        phone=phone,
        now=now,
    )
    role_assign(actor=None, user=user, role=Role.RESIDENT, org=community, now=now)
    audit.record(actor=user, verb="resident.sign_up", obj=user, org_path=community.path, now=now)
    return User.objects.get(pk=user.pk)
