"""The audit log (nhật ký hệ thống): append-only, hash-chained (R-SEC-05, R-SEC-06)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .scoping import subtree_q


class AuditEventQuerySet(models.QuerySet["AuditEvent"]):
    def in_scope(self, unit_path: str | None) -> AuditEventQuerySet:
        """Events about objects (or by actors) inside a unit subtree; None means nation-wide."""
        if unit_path is None:
            return self
        return self.filter(subtree_q("scope_path", unit_path) | subtree_q("actor_unit_path", unit_path))


class AuditEvent(models.Model):
    """One write, or one read/export of personal data. Never updated, never deleted.

    `entry_hash` = sha256(prev_hash + canonical JSON of this row); `audit_verify` recomputes the chain.
    On PostgreSQL a trigger rejects UPDATE and DELETE (migration 0002).
    """

    at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    actor_unit_code = models.CharField(max_length=64, blank=True)
    actor_unit_path = models.CharField(max_length=512, blank=True)
    client_name = models.CharField(max_length=150, blank=True, help_text="Machine client, if a token acted")
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True, db_index=True)
    object_id = models.CharField(max_length=64, blank=True, db_index=True)
    scope_path = models.CharField(
        max_length=512, blank=True, help_text="Unit path of the object, for scoping"
    )
    changes = models.JSONField(default=dict, blank=True, help_text='{"field": [before, after]}')
    reason = models.TextField(blank=True)
    evidence_ref = models.CharField(max_length=255, blank=True)
    ip = models.CharField(max_length=64, blank=True)
    user_agent = models.CharField(max_length=255, blank=True)
    # Unique: two entries can never claim the same predecessor, so the chain cannot fork.
    prev_hash = models.CharField(max_length=64, unique=True)
    entry_hash = models.CharField(max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_username} {self.action} {self.object_type}:{self.object_id}"

    @property
    def action_label(self) -> str:
        """The action in words, in the UI language (mchis.core.audit_labels)."""
        from .audit_labels import action_label

        return action_label(self.action)

    @property
    def object_label(self) -> str:
        from .audit_labels import object_label

        return object_label(self.object_type)


class AuditAnchor(models.Model):
    """A checkpoint (mốc neo) of the audit chain: the id and hash of its last entry at one moment.

    `log_event` records one every `AUDIT_ANCHOR_EVERY` entries and at least once a day; `audit_anchor`
    records one on demand (cron). Anchors are themselves hash-chained and append-only (same trigger).
    `audit_verify` checks every anchor still matches its entry, so deleting the newest entries back past
    an anchor (truncation) is detected. See mchis/core/audit.py for what is and is not detectable.
    """

    at = models.DateTimeField()
    event_id = models.BigIntegerField(unique=True, help_text="Id of the last audit entry at that moment")
    event_hash = models.CharField(max_length=64, help_text="entry_hash of that entry")
    event_count = models.BigIntegerField(help_text="Number of audit entries up to and including it")
    prev_hash = models.CharField(max_length=64, unique=True)
    anchor_hash = models.CharField(max_length=64, unique=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"anchor #{self.pk} → event {self.event_id} ({self.event_hash[:12]}…)"
