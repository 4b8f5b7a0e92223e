"""Deliver one partner's outbox stream now, in this process (what the Celery task runs)."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mchis.integrations.exchange import engine


class Command(BaseCommand):
    help = "Gửi ngay hàng đợi liên thông của một đối tác (như tác vụ Celery integrations.exchange_deliver)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--partner", required=True, choices=engine.pushed_partners())

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = engine.deliver_partner(options["partner"])
        except engine.DeliveryNotConfigured as exc:
            raise CommandError(f"Chưa cấu hình địa chỉ đối tác {exc} (EXCHANGE_PARTNERS).") from exc
        self.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False))
