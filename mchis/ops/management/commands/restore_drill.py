"""`manage.py restore_drill`: restores the latest backup into a scratch database (SQLite: a temporary file;
PostgreSQL: a scratch instance from pgBackRest, point-in-time), checks it and prints the comparison with the
source. Writes a signed report (OPS_REPORT_DIR); exits 1 when the drill fails."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mchis.ops import engine


class Command(BaseCommand):
    help = "Diễn tập khôi phục bản sao lưu mới nhất vào CSDL tạm và so sánh với nguồn (R-OPS-01)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="source", action="append", metavar="DIR", help="SQLite: thư mục sao lưu"
        )
        parser.add_argument(
            "--repo", type=int, default=0, help="PostgreSQL: kho pgBackRest (mặc định: lần lượt)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if engine.is_sqlite():
            from mchis.ops.drill import drill_sqlite

            report = drill_sqlite(options["source"])
        else:
            from mchis.ops import pg

            report = pg.drill(repo=options["repo"])
        for line in report.lines:
            self.stdout.write(line)
        if not report.ok:
            raise SystemExit(1)
