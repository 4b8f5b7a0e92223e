"""What operations did and when: every backup, verification and restore drill, with its outcome (R-OPS-01).

The rows are the evidence an auditor asks for ("show me last week's backups and the last drill"); the metric
`mchis_backup_last_success_timestamp_seconds` and the alert rules read them.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RunKind(models.TextChoices):
    SQLITE_BACKUP = "sqlite_backup", _("Sao lưu SQLite")
    PG_FULL = "pg_full", _("Sao lưu PostgreSQL đầy đủ")
    PG_DIFF = "pg_diff", _("Sao lưu PostgreSQL vi sai")
    EVIDENCE = "evidence", _("Sao lưu tệp minh chứng")
    VERIFY = "verify", _("Kiểm tra bản sao lưu")
    DRILL = "drill", _("Diễn tập khôi phục")
    RESTORE = "restore", _("Khôi phục")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("Đang chạy")
    SUCCESS = "success", _("Thành công")
    FAILED = "failed", _("Thất bại")


class OpsRun(models.Model):
    """One backup / verification / drill. `copies` lists where each copy went with its checksum."""

    kind = models.CharField(max_length=16, choices=RunKind.choices)
    status = models.CharField(max_length=8, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    copies = models.JSONField(default=list, blank=True, help_text='[{"target", "path", "sha256", "bytes"}]')
    detail = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["kind", "status", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
