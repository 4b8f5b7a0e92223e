"""`manage.py restore [FILE.json] [--from DIR …] [--replace]` (embedded SQLite demo): puts a verified backup
back as the database. Without FILE, the newest backup's first intact copy. A database holding data is refused
unless --replace, and then kept beside the restored one. Evidence files missing locally come back too.
PostgreSQL is restored with pgBackRest (docs/operations.md), not by this command."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connections
from django.utils import timezone

from mchis.ops import engine, sqlite_backup
from mchis.ops.copies import BackupError, restore_evidence
from mchis.ops.models import RunKind
from mchis.ops.services import ops_run_record


class Command(BaseCommand):
    help = "Khôi phục CSDL SQLite (bản demo) từ bản sao lưu đã kiểm tra."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("manifest", nargs="?", help="Bản kê (mchis-….json) của bản sao lưu cần khôi phục")
        parser.add_argument("--from", dest="source", action="append", metavar="DIR", help="Thư mục sao lưu")
        parser.add_argument(
            "--replace", action="store_true", help="Cho phép khôi phục khi CSDL đang có dữ liệu"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not engine.is_sqlite():
            raise CommandError(
                "CSDL PostgreSQL được khôi phục bằng pgBackRest (xem docs/operations.md), không bằng lệnh này."
            )
        started = timezone.now()
        if options["manifest"]:
            path = Path(options["manifest"])
            found = [m for m in sqlite_backup.manifests(path.parent) if m.path.name == path.name]
            if not found:
                raise CommandError(f"Không đọc được bản kê sao lưu {path}.")
            candidates = found
        else:
            candidates = sqlite_backup.latest(engine.targets(options["source"]))
            if not candidates:
                raise CommandError("Không tìm thấy bản sao lưu nào.")
        into = engine.sqlite_path()
        connections.close_all()
        errors = []
        for manifest in candidates:  # the first intact copy wins; a corrupt one is named and skipped
            try:
                kept = sqlite_backup.restore_file(
                    manifest, into, replace=options["replace"], now=datetime.now(tz=UTC)
                )
            except BackupError as exc:
                errors.append(str(exc))
                self.stderr.write(f"LỖI: {exc}")
                if "đang có dữ liệu" in str(exc):
                    break
                continue
            evidence = restore_evidence(manifest.path.parent, Path(settings.EVIDENCE_ROOT))
            self.stdout.write(f"Đã khôi phục {manifest.file} (sha256={manifest.data['sha256']}) vào {into}.")
            if kept:
                self.stdout.write(f"CSDL trước khi khôi phục được giữ tại {kept}.")
            self.stdout.write(f"Tệp minh chứng khôi phục: {evidence['restored']}.")
            ops_run_record(
                kind=RunKind.RESTORE,
                started_at=started,
                ok=True,
                detail={"backup_id": manifest.backup_id, "from": str(manifest.file), "kept": str(kept or "")},
            )
            return
        raise CommandError("Không khôi phục được: " + " | ".join(errors))
