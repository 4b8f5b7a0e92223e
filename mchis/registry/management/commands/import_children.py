"""`python manage.py import_children FILE --unit CODE --approved-by USERNAME [--source NAME]`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mchis.core.errors import DomainError
from mchis.registry import importing, tabular

TEMPLATE_HELP = "Cột mẫu (dòng tiêu đề = mã cột hoặc nhãn tiếng Việt): " + ", ".join(
    f"{key} ({label})" for key, label in importing.COLUMNS
)


class Command(BaseCommand):
    help = (
        "Chuyển dữ liệu trẻ em ban đầu (QĐ 3978 Điều 20) từ tệp .xlsx hoặc .csv theo mẫu cột; mỗi hồ sơ có một "
        "mục lịch sử ghi tên lãnh đạo duyệt. Chạy lại cùng tệp và nguồn không thay đổi gì. Tệp có lỗi: không ghi "
        "gì và in báo cáo từng dòng. " + TEMPLATE_HELP + ". Xem docs/registry-import.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--unit", required=True, help="Mã đơn vị báo cáo (vd. TYT02269)")
        parser.add_argument("--approved-by", required=True, help="Tên đăng nhập của lãnh đạo đơn vị duyệt")
        parser.add_argument("--source", default="", help="Tên nguồn dữ liệu (mặc định: tên tệp)")

    def handle(self, *args: Any, **options: Any) -> None:
        from mchis.accounts.models import User
        from mchis.units.models import ReportingUnit

        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"Không tìm thấy tệp {path}")
        unit = ReportingUnit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"Không có đơn vị mã '{options['unit']}'")
        approver = User.objects.filter(username=options["approved_by"], is_active=True).first()
        if approver is None:
            raise CommandError(f"Không có tài khoản '{options['approved_by']}'")
        source = options["source"] or path.stem
        try:
            rows = tabular.read_rows(path.read_bytes(), path.name, importing.COLUMNS)
            results = importing.import_children(rows=rows, unit=unit, approver=approver, source=source)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        errors = [r for r in results if r.outcome == "error"]
        if errors:
            for result in errors:
                for message in result.errors:
                    self.stderr.write(f"Dòng {result.row}: {message}")
            raise CommandError(f"{len(errors)}/{len(results)} dòng có lỗi; không ghi dữ liệu nào.")
        created = sum(1 for r in results if r.outcome == "created")
        skipped = sum(1 for r in results if r.outcome == "skipped")
        self.stdout.write(
            f"Nguồn '{source}': {created} hồ sơ mới, {skipped} đã có (bỏ qua); người duyệt {approver.username}."
        )
