from functools import cached_property

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.contrib.sessions.base_session import AbstractBaseSession
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from kangle.core.crypto import EncryptedTextField, blind_index
from kangle.core.masking import mask_phone
from kangle.core.roles import STAFF_ROLES, Role
from kangle.core.text import normalise_phone
from kangle.orgs.models import OrgUnit


def default_language() -> str:
    """The deployment's language (settings.LANGUAGE_CODE) for a new account."""
    return settings.LANGUAGE_CODE


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, username, password=None, *, phone="", **fields):
        if not username:
            raise ValueError("username is required")
        user = self.model(username=username, **fields)
        user.set_phone(phone)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username, password=None, **fields):
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(username, password, **fields)

    def get_by_phone(self, phone: str):
        return self.get(phone_hash=blind_index(normalise_phone(phone)))


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: by username or by mobile number (looked up through its keyed hash)."""

    username = models.CharField(_("username"), max_length=150, unique=True)
    display_name = models.CharField(_("name"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = EncryptedTextField(_("mobile number"), blank=True, default="")
    phone_hash = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    # May open the Django admin (street admins' reference data).
    is_staff = models.BooleanField(_("admin site access"), default=False)
    date_joined = models.DateTimeField(_("joined"), default=timezone.now)
    # Set when an administrator creates the account or resets its password: the password is then a one-time
    # code, valid until ``one_time_code_expires_at``, and the person must choose their own at the next login.
    must_change_password = models.BooleanField(_("must change password"), default=False)
    one_time_code_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # 大字版: phone pages in large type. Kept per person so it follows them to any phone they log in on.
    large_type = models.BooleanField(_("large type"), default=False)
    # The language this person reads: notices and texts sent to them are written in it. Set when they
    # switch the interface language while logged in.
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=default_language
    )

    objects = UserManager()

    USERNAME_FIELD = "username"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    def __str__(self):
        return self.display_name or self.username

    def set_phone(self, phone: str) -> None:
        """Store the phone encrypted and its keyed hash; callers validate the number first."""
        normalised = normalise_phone(phone)
        self.phone = normalised
        self.phone_hash = blind_index(normalised) if normalised else None

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    # --- roles and scope (cached per instance, i.e. per request) -------------------------------------------
    @cached_property
    def role_rows(self) -> list[tuple[str, str, int]]:
        """(role, org path, org id) of every active assignment, from one query."""
        if not self.pk:
            return []
        return list(
            self.role_assignments.filter(is_active=True)
            .values_list("role", "org__path", "org_id")
            .order_by("org__path")
        )

    @property
    def roles(self) -> set[str]:
        return {row[0] for row in self.role_rows}

    @property
    def scope_paths(self) -> list[str]:
        """Paths of the units where this person holds a staff role: everything they may see lies below."""
        return [path for role, path, _org in self.role_rows if role in STAFF_ROLES]

    @property
    def is_workbench_user(self) -> bool:
        return self.is_superuser or bool(self.roles & STAFF_ROLES)

    def has_role(self, role: str, *, within: OrgUnit | None = None) -> bool:
        """Holds ``role`` at ``within`` or at one of its ancestors (an area admin is one for every community)."""
        for assigned, path, _org in self.role_rows:
            if assigned == role and (within is None or within.path.startswith(path)):
                return True
        return False

    def units_for(self, role: str) -> list[int]:
        return [org_id for assigned, _path, org_id in self.role_rows if assigned == role]


class UserSession(AbstractBaseSession):
    """Django's database session plus the signed-in user's id, so one query loads the session, the user and
    the user's role rows (accounts.sessions)."""

    user = models.ForeignKey(User, null=True, blank=True, on_delete=models.CASCADE, related_name="+")

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")

    @classmethod
    def get_session_store_class(cls):
        from kangle.accounts.sessions import SessionStore

        return SessionStore


class RoleAssignment(models.Model):
    """A person holds a role at a node of the tree (a secretary at 康乐居民区, a member at their community)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_assignments")
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    org = models.ForeignKey(
        OrgUnit, on_delete=models.PROTECT, related_name="role_assignments", verbose_name=_("unit")
    )
    is_active = models.BooleanField(_("active"), default=True)
    granted_at = models.DateTimeField(_("granted"), default=timezone.now)
    granted_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "role", "org"], name="accounts_unique_role_at_unit")
        ]
        indexes = [models.Index(fields=["role", "org"])]
        verbose_name = _("role assignment")
        verbose_name_plural = _("role assignments")

    def __str__(self):
        return f"{self.user} · {self.get_role_display()} · {self.org}"


class ApiToken(models.Model):
    """A token for an integration. Only a hash is stored; the token is shown once, when issued."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="api_tokens", verbose_name=_("acts as")
    )
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=12, unique=True)
    key_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
