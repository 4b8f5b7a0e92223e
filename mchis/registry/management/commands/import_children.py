"""`python manage.py import_children FILE --approved-by USERNAME [--unit CODE] [--source NAME] [--strict]`."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mchis.accounts.models import User
from mchis.core import spreadsheets
from mchis.core.collector import few_collections
from mchis.core.errors import DomainError
from mchis.registry import importing, tabular
from mchis.registry.services import children_import
from mchis.units.models import ReportingUnit

TEMPLATE_HELP = "Cột mẫu (dòng tiêu đề = mã cột hoặc nhãn tiếng Việt): " + ", ".join(
    f"{key} ({label})" for key, label in importing.COLUMNS
)
ISSUE_HEADER = ("dong", "cot", "muc_do", "loai", "noi_dung")


class Command(BaseCommand):
    help = (
        "Chuyển dữ liệu trẻ em ban đầu (QĐ 3978 Điều 20) từ tệp .xlsx hoặc .csv theo mẫu cột; mỗi hồ sơ có một "
        "mục lịch sử ghi tên lãnh đạo duyệt. Không có --unit: mỗi dòng ghi mã đơn vị ở cột ma_don_vi và người "
        "duyệt là lãnh đạo của một đơn vị cấp trên của tất cả các đơn vị đó. Dòng hợp lệ được nhập, dòng có lỗi "
        "được báo (dòng, cột, nội dung) và bỏ qua (--strict: có lỗi thì không ghi gì). Chạy lại cùng tệp và "
        "nguồn không thay đổi gì. " + TEMPLATE_HELP + ". Xem docs/registry-import.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--unit", default="", help="Mã đơn vị báo cáo (vd. TYT02269); bỏ trống: cột ma_don_vi"
        )
        parser.add_argument("--approved-by", required=True, help="Tên đăng nhập của lãnh đạo duyệt")
        parser.add_argument("--source", default="", help="Tên nguồn dữ liệu (mặc định: tên tệp)")
        parser.add_argument(
            "--strict",
            action="store_true",
            help="Có dòng lỗi thì không ghi dữ liệu nào (mặc định: bỏ qua dòng lỗi)",
        )
        parser.add_argument(
            "--issues-file",
            type=Path,
            default=None,
            help="Tệp CSV ghi lỗi và cảnh báo từng dòng (mặc định: FILE-canh-bao.csv cạnh tệp nhập)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.exists():
            raise CommandError(f"Không tìm thấy tệp {path}")
        unit = None
        if options["unit"]:
            unit = ReportingUnit.objects.filter(code=options["unit"]).first()
            if unit is None:
                raise CommandError(f"Không có đơn vị mã '{options['unit']}'")
        approver = (
            User.objects.select_related("unit")
            .filter(username=options["approved_by"], is_active=True)
            .first()
        )
        if approver is None:
            raise CommandError(f"Không có tài khoản '{options['approved_by']}'")
        source = options["source"] or path.stem
        issues_path: Path = options["issues_file"] or path.with_name(f"{path.stem}-canh-bao.csv")
        started = time.monotonic()
        with few_collections(), issues_path.open("w", encoding="utf-8-sig", newline="") as handle:
            writer = spreadsheets.csv_writer(handle)  # the messages quote file text: no formulas
            writer.writerow(ISSUE_HEADER)
            try:
                header, rows = tabular.open_rows(path, importing.COLUMNS)
                if unit is None and "ma_don_vi" not in header:
                    raise CommandError(
                        "Tệp không có cột ma_don_vi (Mã đơn vị): chọn --unit hoặc thêm cột này; không ghi dữ liệu nào."
                    )
                summary = children_import(
                    approver=approver,
                    rows=rows,
                    source=source,
                    unit=unit,
                    file_name=path.name,
                    strict=options["strict"],
                    on_issue=lambda issue: writer.writerow(issue.as_row()),
                )
            except DomainError as exc:
                raise CommandError(f"{exc.message} (chi tiết: {issues_path})") from exc
        elapsed = time.monotonic() - started
        self.stdout.write(
            f"Nguồn '{source}': {summary.rows} dòng, {summary.created} hồ sơ mới, {summary.skipped} đã có (bỏ qua), "
            f"{summary.rejected} dòng lỗi không nhập; người duyệt {approver.username}; "
            f"{elapsed:.1f} giây ({summary.rows / max(elapsed, 1e-9):,.0f} dòng/giây)."
        )
        if summary.by_kind:
            self.stdout.write("Lỗi và cảnh báo theo loại (số dòng — ví dụ):")
            for (level, column, kind), (count, example) in sorted(
                summary.by_kind.items(), key=lambda item: (item[0][0] != "error", -item[1][0])
            ):
                label = "lỗi" if level == "error" else "cảnh báo"
                self.stdout.write(f"  {label:8} {column or '-':22} {kind:20} {count:>8} — {example}")
        for village in summary.villages_created:
            self.stdout.write(f"Thôn/tổ dân phố mới chờ lãnh đạo xác nhận: {village}")
        self.stdout.write(f"Chi tiết từng dòng: {issues_path}")
