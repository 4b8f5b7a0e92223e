"""What arrived from the stations' offline outboxes (docs/offline.md, ADR 0041-0043).

`RecordConflict`: an existing register record edited offline on a version (`row_hash`) that changed on the
server meanwhile - kept side by side (base, theirs, ours) until someone of the unit resolves it field by field.

`OfflineItem`: one queued entry of one person, known by the id the browser gave it (`client_id`): a replay
finds the row and answers with the same fate, so nothing is created twice. `StationSync`: per person and
unit, the last time its device reached the server and synced (R-INT-03, shown on the sync monitoring page).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mchis.core.scoping import ScopedQuerySet


class ItemKind(models.TextChoices):
    CHILD_CREATE = "child_create", _("Thêm trẻ mới")
    CHILD_CHANGE = "child_change", _("Đề xuất sửa hồ sơ trẻ")
    REGISTER_RECORD = "register_record", _("Bản ghi sổ")
    REGISTER_EDIT = "register_edit", _("Sửa bản ghi sổ")


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


class RecordConflict(models.Model):
    """An offline edit of a register record that met a newer server version (ADR 0042): nothing is written
    until a person of the unit who may write its registers picks, field by field, the value to keep."""

    SCOPE_PATH = "unit__path"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    register = models.CharField(max_length=32)
    record_id = models.PositiveBigIntegerField()
    proposer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    client_id = models.UUIDField(help_text="The offline entry's id (OfflineItem.client_id of the proposer)")
    base_hash = models.CharField(max_length=64, help_text="row_hash of the version the edit was made on")
    theirs_hash = models.CharField(max_length=64, help_text="row_hash on the server when the edit arrived")
    theirs_at = models.DateTimeField(null=True, blank=True, help_text="When the server's version was written")
    fields = models.JSONField(default=dict, help_text="The offline form as typed (ours)")
    conflict = models.JSONField(
        default=dict,
        help_text='{field: {"label", "base", "theirs", "ours", "choice"}} - the fields that differ',
    )
    queued_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    comment = models.CharField(max_length=500, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["proposer", "client_id"], name="recordconflict_client_id"),
        ]
        indexes = [models.Index(fields=["unit", "resolved_at"])]

    def __str__(self) -> str:
        return f"{self.register}:{self.record_id} ({'open' if self.is_open else 'resolved'})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None
