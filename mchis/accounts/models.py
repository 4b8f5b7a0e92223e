"""People's accounts (tài khoản) and machine clients (máy khách tích hợp) (R-SEC-01, R-SEC-02).

Each account belongs to one reporting unit and has one role. A machine client also belongs to one unit
and holds a set of scopes (MATRIX actions) instead of a role; its token is stored only as a hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from mchis.core.principal import PrincipalRef
from mchis.core.scoping import ScopedQuerySet

from .roles import ADMIN_ROLES, Role


class UserQuerySet(ScopedQuerySet["User"]):
    def active(self) -> UserQuerySet:
        return self.filter(is_active=True)


class UserManagerScoped(UserManager.from_queryset(UserQuerySet)):  # type: ignore[misc]
    pass


class User(AbstractUser):
    unit = models.ForeignKey(
        "units.ReportingUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    must_change_password = models.BooleanField(default=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)
    # Bumped by "đăng xuất mọi nơi": every session's auth hash stops matching (R-SEC-07).
    session_generation = models.PositiveIntegerField(default=0)

    objects = UserManagerScoped()  # type: ignore[misc]

    class Meta:
        constraints = [
            # Every account belongs to one unit; only the bootstrap superuser may stand outside the tree.
            models.CheckConstraint(
                condition=Q(unit__isnull=False) | Q(is_superuser=True), name="user_has_unit"
            ),
        ]

    SCOPE_PATH = "unit__path"

    def _get_session_auth_hash(self, secret: Any = None) -> str:
        # Same as Django's, plus the session generation: bumping it logs out every session at once.
        key_salt = "mchis.accounts.User.session_auth_hash"
        return salted_hmac(
            key_salt, f"{self.password}:{self.session_generation}", secret=secret, algorithm="sha256"
        ).hexdigest()

    @property
    def ref(self) -> PrincipalRef | None:
        """Typed identity (kind + id): compared as a whole, so user N is never token N."""
        return PrincipalRef.user(self.pk) if self.pk else None

    @property
    def is_admin_role(self) -> bool:
        return self.role in ADMIN_ROLES

    def password_expired(self, now: datetime | None = None) -> bool:
        """Admin passwords expire after ADMIN_PASSWORD_MAX_AGE_DAYS (R-SEC-03); others never do."""
        if not self.is_admin_role:
            return False
        if self.password_changed_at is None:
            return True
        age = (now or timezone.now()) - self.password_changed_at
        return age.days >= settings.ADMIN_PASSWORD_MAX_AGE_DAYS

    def password_days_left(self, now: datetime | None = None) -> int | None:
        """Days before an admin password expires (None for roles whose passwords do not expire)."""
        if not self.is_admin_role or self.password_changed_at is None:
            return None
        age = (now or timezone.now()) - self.password_changed_at
        return settings.ADMIN_PASSWORD_MAX_AGE_DAYS - age.days

    def needs_password_change(self) -> bool:
        return self.must_change_password or self.password_expired()


class PasswordHistory(models.Model):
    """Hashes of the passwords an account has had, newest first, for the no-reuse rule."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]


class ApiClientQuerySet(ScopedQuerySet["ApiClient"]):
    pass


class ApiClient(models.Model):
    """An integration's token (mã truy cập máy khách): scoped to a unit subtree and a set of actions.

    Only sha256(token) and a short prefix (for lookup) are stored; the token is shown once.
    """

    SCOPE_PATH = "unit__path"

    name = models.CharField(max_length=150, unique=True)
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="api_clients")
    scopes = models.JSONField(default=list, help_text="MATRIX actions this client may perform")
    token_prefix = models.CharField(max_length=16, db_index=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    # The public keys (JWKS, Ed25519) the client signs its submissions with (detached JWS, ADR 0070): a client
    # with keys must sign every submission; INBOUND_SIGNATURE_REQUIRED makes it so for every client.
    signing_jwks = models.JSONField(default=dict, blank=True)

    objects = ApiClientQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def is_usable(self, now: datetime | None = None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now

    def can_revoke(self) -> bool:
        return self.revoked_at is None
