"""People's accounts (tài khoản). Each belongs to one reporting unit and has one role (R-SEC-01, R-SEC-02)."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q

from .roles import Role


class User(AbstractUser):
    unit = models.ForeignKey(
        "units.ReportingUnit", null=True, blank=True, on_delete=models.PROTECT, related_name="accounts"
    )
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.VIEWER)
    must_change_password = models.BooleanField(default=True)
    password_changed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            # Every account belongs to one unit; only the bootstrap superuser may stand outside the tree.
            models.CheckConstraint(
                condition=Q(unit__isnull=False) | Q(is_superuser=True), name="user_has_unit"
            ),
        ]

    SCOPE_PATH = "unit__path"


class PasswordHistory(models.Model):
    """Hashes of previous passwords, for the no-reuse rule."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="password_history")
    password = models.CharField(max_length=128)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
