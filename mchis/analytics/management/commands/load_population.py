"""`python manage.py load_population FILE --year Y --source NAME` — the yearly population reference (dân số)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mchis.analytics.services import population_load
from mchis.core.errors import DomainError, ValidationFailed


class Command(BaseCommand):
    help = (
        "Nạp dân số một năm từ tệp CSV (cột commune_code, sex, age_band, people: mã xã 2025, F/M hoặc Nữ/Nam, "
        "nhóm tuổi 0_4 … 75_79, 80p, số người) thành phiên bản mới thay phiên bản đang dùng của năm đó. Mọi dòng "
        "được kiểm tra trước: có lỗi thì không ghi gì."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--year", type=int, required=True)
        parser.add_argument(
            "--source", required=True, help="Nguồn số liệu, ví dụ «Cục Thống kê, ước tính 2026»."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Không đọc được tệp {path} (cần CSV mã hóa UTF-8): {exc}") from exc
        try:
            version = population_load(
                actor=None, text=text, year=options["year"], source=options["source"], file_name=path.name
            )
        except ValidationFailed as exc:
            lines = [str(e["message"]) for e in exc.errors]
            shown = "\n".join(lines[:50]) + (f"\n… và {len(lines) - 50} lỗi khác." if len(lines) > 50 else "")
            raise CommandError(f"{exc.message}\n{shown}") from exc
        except DomainError as exc:
            raise CommandError(f"{exc.message} Không ghi gì vào cơ sở dữ liệu.") from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Dân số năm {version.year}: phiên bản {version.version} ({version.source}), {version.rows} dòng, "
                f"tổng {version.total:,} người.".replace(",", ".")
            )
        )
