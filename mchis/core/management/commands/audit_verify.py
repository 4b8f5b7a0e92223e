"""`manage.py audit_verify`: recompute the audit chain (R-SEC-05); exit 0 when intact, 1 naming the first break."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils import timezone

from mchis.core.audit import verify_chain


class Command(BaseCommand):
    help = "Kiểm tra tính toàn vẹn của nhật ký hệ thống (chuỗi băm và các mốc neo)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--expect-anchor",
            default="",
            help="Mã băm mốc neo đã ghi nhận bên ngoài CSDL; báo lỗi nếu không còn trong chuỗi mốc neo.",
        )
        parser.add_argument("--batch-size", type=int, default=5000)

    def handle(self, *args: Any, **options: Any) -> None:
        report = verify_chain(batch_size=options["batch_size"], expect_anchor=options["expect_anchor"])
        if report.ok:
            self.stdout.write(
                self.style.SUCCESS(
                    f"OK: {report.checked} bản ghi nhật ký hợp lệ, {report.anchors_checked} mốc neo khớp."
                )
            )
            if report.last_anchor_hash:
                self.stdout.write(f"Mốc neo cuối (hãy lưu ngoài hệ thống): {report.last_anchor_hash}")
            return
        if report.broken_id is not None and report.broken_at is not None:
            where = (
                f"bản ghi id={report.broken_id}, thời điểm {timezone.localtime(report.broken_at):%Y-%m-%d %H:%M:%S %Z}, "
                f"hành động {report.broken_action}"
            )
        elif report.broken_id is not None:
            where = f"bản ghi id={report.broken_id}"
        else:
            where = "chuỗi mốc neo"
        self.stderr.write(
            f"LỖI: nhật ký bị can thiệp tại {where}: {report.detail}. "
            f"{report.checked} bản ghi trước đó hợp lệ."
        )
        raise SystemExit(1)
