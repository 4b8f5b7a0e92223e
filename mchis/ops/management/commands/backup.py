"""`manage.py backup [--to DIR …] [--type full|diff]`: SQLite — online backup into each DIR (three by default,
BACKUP_TARGETS); PostgreSQL — pgBackRest into each configured repository. Evidence files too. Prints where each
copy went and its checksum; exits 1 when fewer copies than required were made."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from mchis.ops import engine


class Command(BaseCommand):
    help = "Sao lưu cơ sở dữ liệu và tệp minh chứng vào ba nơi lưu trữ (R-OPS-01)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--to",
            action="append",
            metavar="DIR",
            help="Thư mục đích (lặp lại cho mỗi nơi; mặc định BACKUP_TARGETS)",
        )
        parser.add_argument(
            "--type",
            choices=["full", "diff"],
            default="",
            help="PostgreSQL: đầy đủ hoặc vi sai (mặc định theo lịch)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        reports = []
        if engine.is_sqlite():
            reports.append(engine.backup_sqlite(options["to"]))
        else:
            from mchis.ops import pg

            reports.append(pg.backup(kind=options["type"] or pg.scheduled_type()))
            reports.append(engine.backup_evidence(options["to"]))  # SQLite copies carry their evidence
        for report in reports:
            for line in report.lines:
                self.stdout.write(line)
        if not all(r.ok for r in reports):
            raise SystemExit(1)
