"""`python manage.py load_admin_units` — both code systems and the old→new commune mapping (R-ORG-01)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mchis.places.services import admin_units_load
from mchis.places.sources import GSO_CONVERSION_CSV, SourceError, read_sources


class Command(BaseCommand):
    help = (
        "Nạp đơn vị hành chính 2025 (34 tỉnh, 3.321 xã) và trước 2025 (63 tỉnh, huyện, xã) cùng bảng "
        "chuyển đổi xã cũ → xã mới. Chạy lại không thay đổi gì."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--conversion",
            type=Path,
            default=GSO_CONVERSION_CSV,
            help="Bảng chuyển đổi của TCTK (CSV); mặc định tệp đi kèm mchis/places/fixtures.",
        )
        parser.add_argument(
            "--no-conversion",
            action="store_true",
            help="Chỉ dùng bảng chuyển đổi của gói vietnamadminunits.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            sources = read_sources(None if options["no_conversion"] else options["conversion"])
        except SourceError as exc:
            raise CommandError(f"Dữ liệu nguồn không hợp lệ, không ghi gì: {exc}") from exc
        report = admin_units_load(actor=None, sources=sources)
        out = self.stdout
        out.write("Đơn vị hành chính (phiên bản mã / cấp: tổng, thêm mới, cập nhật):")
        for (version, level), c in report.units.items():
            out.write(f"  {version:<8} {level:<9} {c['total']:>6}  +{c['created']}  ~{c['updated']}")
        m = report.mappings
        out.write(
            f"Bảng chuyển đổi xã cũ → xã mới: {m['total']} dòng  +{m['created']}  ~{m['updated']}  -{m['deleted']}"
        )
        out.write("  theo nguồn: " + ", ".join(f"{k}={v}" for k, v in sorted(report.mapping_sources.items())))
        for line in report.skipped:
            out.write(f"  bỏ qua: {line}")
        out.write(self.style.SUCCESS("Đã thay đổi dữ liệu." if report.changed else "Không có gì thay đổi."))
