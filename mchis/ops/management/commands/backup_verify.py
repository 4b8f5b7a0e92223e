"""`manage.py backup_verify`: the weekly check of every stored backup (SQLite: checksums and integrity of every
copy; PostgreSQL: `pgbackrest check` and `pgbackrest verify` on every repository). Recorded; exit 1 on a problem."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mchis.ops import engine


class Command(BaseCommand):
    help = "Kiểm tra định kỳ các bản sao lưu (R-OPS-01)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--from", dest="source", action="append", metavar="DIR", help="SQLite: thư mục sao lưu"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if engine.is_sqlite():
            from mchis.ops.drill import verify_sqlite

            report = verify_sqlite(options["source"])
        else:
            from mchis.ops import pg

            report = pg.verify()
        for line in report.lines:
            self.stdout.write(line)
        if not report.ok:
            raise SystemExit(1)
