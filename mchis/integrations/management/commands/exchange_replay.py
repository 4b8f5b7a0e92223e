"""exchange_replay --partner NAME [--since YYYY-MM-DD]: dead letters go back to the partner's stream."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mchis.outbox.routing import all_partners
from mchis.outbox.services import outbox_replay


class Command(BaseCommand):
    help = "Gửi lại các mục liên thông bị lỗi (dead letter) của một đối tác, từ một ngày nếu có --since."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--partner", required=True)
        parser.add_argument("--since", help="YYYY-MM-DD: chỉ các mục tạo từ ngày này")

    def handle(self, *args: Any, **options: Any) -> None:
        partner = options["partner"]
        if partner not in all_partners():
            raise CommandError(f"Đối tác không tồn tại: {partner!r} (có: {', '.join(all_partners())}).")
        since = None
        if options.get("since"):
            try:
                day = date.fromisoformat(options["since"])
            except ValueError as exc:
                raise CommandError("--since: ngày không hợp lệ, dạng YYYY-MM-DD.") from exc
            since = timezone.make_aware(datetime.combine(day, time.min))
        count = outbox_replay(actor=None, partner=partner, since=since)
        self.stdout.write(f"Đã đưa lại {count} mục vào hàng đợi gửi {partner}.")
