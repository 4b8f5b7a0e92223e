"""What the commands and the scheduled tasks call: back up / verify / restore whichever database this is
(SQLite: our own online backup; PostgreSQL: pgBackRest), recording every outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from . import sqlite_backup
from .copies import BackupError, copy_evidence
from .models import RunKind
from .services import ops_run_record


@dataclass
class Report:
    ok: bool
    lines: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


def is_sqlite() -> bool:
    return connection.vendor == "sqlite"


def sqlite_path() -> Path:
    return Path(str(settings.DATABASES["default"]["NAME"]))


def targets(given: list[str] | None) -> list[Path]:
    return [Path(t) for t in given] if given else list(settings.BACKUP_TARGETS)


def backup_sqlite(to: list[str] | None = None) -> Report:
    started = timezone.now()
    dirs = targets(to)
    now = datetime.now(tz=UTC)
    try:
        outcome = sqlite_backup.backup(
            sqlite_path(),
            dirs,
            now=now,
            evidence_root=Path(settings.EVIDENCE_ROOT),
            keep=settings.BACKUP_KEEP,
        )
    except BackupError as exc:
        ops_run_record(kind=RunKind.SQLITE_BACKUP, started_at=started, ok=False, error=str(exc))
        return Report(False, [f"LỖI: {exc}"])
    need = min(settings.BACKUP_MIN_COPIES, len(dirs)) if to else settings.BACKUP_MIN_COPIES
    ok = outcome.good_copies >= need
    lines = [f"Bản sao lưu {outcome.backup_id}: {outcome.bytes:,} byte, SHA-256 {outcome.sha256}"]
    for copy in outcome.copies:
        if copy.ok:
            ev = copy.evidence
            lines.append(
                f"  OK   {copy.path}  sha256={copy.sha256}  (minh chứng: {ev.get('copied', 0)} tệp mới, "
                f"{ev.get('already_present', 0)} đã có)"
            )
        else:
            lines.append(f"  LỖI  {copy.target}: {copy.error}")
        lines.extend(f"       {w}" for w in copy.warnings)
        lines.extend(
            f"       CẢNH BÁO: tệp minh chứng {bad} đã bị thay đổi, không sao lưu"
            for bad in copy.evidence.get("corrupt_sources", [])
        )
    error = ""
    if not ok:
        error = f"Chỉ có {outcome.good_copies}/{need} bản sao hợp lệ (quy định: ít nhất {need} bản)."
        lines.append(f"LỖI: {error}")
    ops_run_record(
        kind=RunKind.SQLITE_BACKUP,
        started_at=started,
        ok=ok,
        copies=[c.as_json() for c in outcome.copies],
        detail={"backup_id": outcome.backup_id, "bytes": outcome.bytes, "sha256": outcome.sha256},
        error=error,
    )
    return Report(ok, lines, {"outcome": outcome})


def backup_evidence(to: list[str] | None = None) -> Report:
    """Evidence files into every target (PostgreSQL deployments: the database itself goes to pgBackRest)."""
    from .copies import CopyResult, check_target, describe_os_error

    started = timezone.now()
    results = []
    for target in targets(to):
        result = CopyResult(target=str(target), ok=False)
        try:
            check_target(target)
            result.evidence = copy_evidence(Path(settings.EVIDENCE_ROOT), target)
            result.ok, result.path = True, str(target / "evidence")
        except BackupError as exc:
            result.error = str(exc)
        except OSError as exc:
            result.error = describe_os_error(target, exc)
        results.append(result)
    good = sum(1 for r in results if r.ok)
    ok = good >= min(settings.BACKUP_MIN_COPIES, len(results))
    lines = [
        f"  {'OK ' if r.ok else 'LỖI'}  tệp minh chứng → {r.path or r.target}"
        + (f": {r.evidence.get('copied', 0)} tệp mới" if r.ok else f": {r.error}")
        for r in results
    ]
    ops_run_record(
        kind=RunKind.EVIDENCE,
        started_at=started,
        ok=ok,
        copies=[r.as_json() for r in results],
        error="" if ok else f"Chỉ có {good} bản sao tệp minh chứng.",
    )
    return Report(ok, lines)
