"""exchange_backfill --partner NAME [--since YYYY-MM-DD]: queue existing rows for one partner."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mchis.integrations.exchange.backfill import exchange_backfill
from mchis.outbox.routing import all_partners


class Command(BaseCommand):
    help = "Đưa dữ liệu sẵn có vào hàng đợi liên thông của một đối tác (lần nạp đầu, hoặc gửi lại)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--partner", required=True)
        parser.add_argument("--since", help="YYYY-MM-DD: chỉ sự kiện từ ngày này")

    def handle(self, *args: Any, **options: Any) -> None:
        partner = options["partner"]
        if partner not in all_partners():
            raise CommandError(f"Đối tác không tồn tại: {partner!r} (có: {', '.join(all_partners())}).")
        try:
            since = date.fromisoformat(options["since"]) if options.get("since") else None
        except ValueError as exc:
            raise CommandError("--since: ngày không hợp lệ, dạng YYYY-MM-DD.") from exc
        count = exchange_backfill(actor=None, partner=partner, since=since)
        self.stdout.write(f"Đã đưa {count} mục vào hàng đợi gửi {partner}.")
