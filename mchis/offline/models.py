"""What arrived from the stations' offline outboxes (docs/offline.md, ADR 0041-0043).

`OfflineItem`: one queued entry of one person, known by the id the browser gave it (`client_id`): a replay
finds the row and answers with the same fate, so nothing is created twice. `StationSync`: per person and
unit, the last time its device reached the server and synced (R-INT-03, shown on the sync monitoring page).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mchis.core.scoping import ScopedQuerySet


class ItemKind(models.TextChoices):
    CHILD_CREATE = "child_create", _("Thêm trẻ mới")
    CHILD_CHANGE = "child_change", _("Đề xuất sửa hồ sơ trẻ")
    REGISTER_RECORD = "register_record", _("Bản ghi sổ")


class ItemStatus(models.TextChoices):
    ACCEPTED = "accepted", _("Đã nhận")
    CONFLICT = "conflict", _("Xung đột - chờ lãnh đạo giải quyết")
    REJECTED = "rejected", _("Bị từ chối - cần sửa")


class OfflineItem(models.Model):
    SCOPE_PATH = "unit__path"

    client_id = models.UUIDField(help_text="Given by the browser when the entry was queued")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=ItemKind.choices)
    register = models.CharField(max_length=32, blank=True)
    status = models.CharField(max_length=10, choices=ItemStatus.choices)
    object_ref = models.CharField(
        max_length=80, blank=True, help_text="change request id or register:record id"
    )
    message = models.TextField(blank=True, help_text="The server's Vietnamese answer (rejections)")
    errors = models.JSONField(default=list, blank=True)
    queued_at = models.DateTimeField(
        null=True, blank=True, help_text="When the person queued it (device clock)"
    )
    received_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    attempts = models.PositiveIntegerField(default=1)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["user", "client_id"], name="offlineitem_client_id_per_user"),
        ]
        indexes = [models.Index(fields=["unit", "status"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.client_id} ({self.status})"


class StationSync(models.Model):
    SCOPE_PATH = "unit__path"

    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    last_attempt_at = models.DateTimeField()
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_items = models.PositiveIntegerField(default=0)
    last_rejected = models.PositiveIntegerField(default=0)
    last_conflicts = models.PositiveIntegerField(default=0)
    total_items = models.PositiveIntegerField(default=0)
    waiting = models.PositiveIntegerField(
        default=0, help_text="Entries the device still holds, as it reported"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["unit__path", "user_id"]
        constraints = [models.UniqueConstraint(fields=["unit", "user"], name="stationsync_unit_user")]

    def __str__(self) -> str:
        return f"{self.unit_id}/{self.user_id} {self.last_success_at}"
