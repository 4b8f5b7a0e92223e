"""`manage.py audit_anchor`: record a checkpoint of the audit chain now (run daily from cron)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mchis.core.audit import record_anchor


class Command(BaseCommand):
    help = "Ghi một mốc neo cho nhật ký hệ thống và in mã băm của nó (lưu ngoài hệ thống)."

    def handle(self, *args: Any, **options: Any) -> None:
        anchor = record_anchor()
        if anchor is None:
            self.stdout.write("Nhật ký trống: chưa có gì để neo.")
            return
        self.stdout.write(f"Mốc neo #{anchor.pk}: bản ghi {anchor.event_id}, {anchor.event_count} bản ghi.")
        self.stdout.write(anchor.anchor_hash)
