from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mchis.analytics.selectors import parse_periods
from mchis.analytics.services import store_rebuild
from mchis.analytics.store import rebuild_rollups
from mchis.core.errors import DomainError
from mchis.units.models import ReportingUnit


class Command(BaseCommand):
    help = (
        "Tính lại kho số liệu phân tích: mọi đơn vị (hoặc --unit) cho các kỳ đã chọn (--pe, như API: "
        "LAST_12_MONTHS, 2025, 2025Q1, 202501; nối bằng ;). --rollups: chỉ dựng lại số cộng dồn theo cây đơn vị "
        "hiện tại (sau khi chuyển đơn vị)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--pe", default="LAST_12_MONTHS")
        parser.add_argument("--unit", action="append", default=[])
        parser.add_argument("--rollups", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["rollups"]:
            self.stdout.write(f"Số dòng cộng dồn: {rebuild_rollups()}")
            return
        try:
            months: list[date] = sorted({m for p in parse_periods(options["pe"]) for m in p.months})
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        ids = None
        if options["unit"]:
            found = dict(ReportingUnit.objects.filter(code__in=options["unit"]).values_list("code", "pk"))
            missing = [c for c in options["unit"] if c not in found]
            if missing:
                raise CommandError(f"Không có đơn vị: {', '.join(missing)}")
            ids = list(found.values())
        result = store_rebuild(actor=None, months=months, unit_ids=ids)
        self.stdout.write(f"Đã đánh dấu {result['marked']} đơn vị-tháng, đã tính lại {result['recomputed']}.")
