"""In-app notifications (thông báo) to one person: returned or approved work, corrections due, deadlines.

Written by the domain services' own write paths (same transaction) through `services.notify`; read through
`selectors` (a person sees only their own). E-mail is optional, per person (`NotificationPreference`).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class NotificationKind(models.TextChoices):
    RETURNED = "returned", _("Bị trả lại")
    REJECTED = "rejected", _("Bị từ chối")
    APPROVED = "approved", _("Đã được duyệt")
    CORRECTION_DUE = "correction_due", _("Cần sửa/khắc phục")
    DEADLINE = "deadline", _("Hạn báo cáo")
    EXCHANGE = "exchange", _("Lỗi liên thông")


class Notification(models.Model):
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=16, choices=NotificationKind.choices)
    title = models.CharField(max_length=300)
    reason = models.TextField(blank=True, help_text="Why (the return reason, the correction asked for)")
    url = models.CharField(max_length=300, blank=True)
    # What it is about, so a repeated event (a daily deadline run) notifies once.
    object_type = models.CharField(max_length=40, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    key = models.CharField(max_length=120, blank=True, help_text="Idempotency key; blank = always new")
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "key"], condition=~Q(key=""), name="notification_once_per_key"
            )
        ]

    def __str__(self) -> str:
        return self.title


class NotificationPreference(models.Model):
    """Per person: also send notifications by e-mail (off unless the person turns it on)."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    email = models.BooleanField(default=False)
