"""Outbox entries (one per partner × changed object) and the delivery state of each partner."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mchis.core.scoping import ScopedQuerySet


class EntryStatus(models.TextChoices):
    PENDING = "pending", _("Chờ gửi")
    IN_FLIGHT = "in_flight", _("Đang gửi")
    DELIVERED = "delivered", _("Đã gửi")
    DEAD = "dead", _("Gửi lỗi (chờ gửi lại)")


class FailureKind(models.TextChoices):
    TIMEOUT = "timeout", _("Hết thời gian chờ")
    UNREACHABLE = "unreachable", _("Không kết nối được")
    SERVER_ERROR = "server_error", _("Lỗi máy chủ đối tác (5xx)")
    REFUSED = "refused", _("Đối tác từ chối dữ liệu (4xx)")
    AUTH = "auth", _("Lỗi xác thực / chữ ký / khóa")
    CLOCK_SKEW = "clock_skew", _("Lệch đồng hồ")
    TOO_LARGE = "too_large", _("Vượt giới hạn kích thước (đã chia nhỏ)")
    MALFORMED_RECEIPT = "malformed_receipt", _("Biên nhận không hợp lệ")
    BUILD = "build", _("Không dựng được dữ liệu gửi")


class OutboxEntry(models.Model):
    """One object to send to one partner. `person_key` orders a person's entries (FIFO per partner);
    `attempts` is the one attempt counter (bumped when a delivery claims the entry, before the request)."""

    SCOPE_PATH = "scope_path"

    id = models.BigAutoField(primary_key=True)
    partner = models.CharField(max_length=32)
    topic = models.CharField(max_length=48)
    object_type = models.CharField(max_length=32)
    object_id = models.CharField(max_length=64)
    person_key = models.CharField(max_length=80, blank=True)
    scope_path = models.CharField(max_length=512, blank=True, help_text="Path of the owning reporting unit")
    created_at = models.DateTimeField(default=timezone.now)
    status = models.CharField(max_length=12, choices=EntryStatus.choices, default=EntryStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    failure_kind = models.CharField(max_length=24, choices=FailureKind.choices, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    delivery_key = models.CharField(max_length=80, blank=True, help_text="Idempotency key of the request")
    payload_sha256 = models.CharField(max_length=64, blank=True)
    receipt = models.JSONField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["partner", "status", "id"], name="outbox_partner_status_idx"),
            models.Index(fields=["partner", "person_key"], name="outbox_partner_person_idx"),
            models.Index(fields=["scope_path"], name="outbox_scope_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in EntryStatus]), name="outbox_status_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="outbox_delivered_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner}#{self.pk} {self.object_type}:{self.object_id} ({self.status})"


class PartnerState(models.Model):
    """One row per partner: the delivery lease (one deliverer at a time keeps per-person order) and the
    figures the monitoring page shows (last success, last failure and its kind)."""

    partner = models.CharField(max_length=32, primary_key=True)
    lease_owner = models.CharField(max_length=80, blank=True)
    lease_until = models.DateTimeField(null=True, blank=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    last_failure_kind = models.CharField(max_length=24, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    consecutive_failures = models.PositiveIntegerField(default=0)
    requests_sent = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return self.partner
