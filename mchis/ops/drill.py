"""Restore drills (R-OPS-01: "restorable, checked"): restore the latest backup into a scratch database, run the
migrations' consistency check and `audit_verify` there, compare row counts and checksums per table with the
source at the backup's point in time, and write a signed report."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

import mchis

from . import sqlite_backup
from .checksums import compare
from .copies import BackupError, verify_evidence_store
from .engine import Report, sqlite_path, targets
from .models import RunKind
from .services import ops_run_record

SIGNING_SALT = "mchis.ops.drill-report"


def sign(report: dict[str, Any]) -> str:
    body = json.dumps(report, sort_keys=True, ensure_ascii=False, default=str)
    return salted_hmac(SIGNING_SALT, body, algorithm="sha256").hexdigest()


def verify_signed(path: Path) -> bool:
    data = json.loads(path.read_text(encoding="utf-8"))
    signature = data.pop("signature", "")
    return constant_time_compare(signature, sign(data))


def write_report(report: dict[str, Any]) -> Path:
    report = {**report, "version": mchis.__version__}
    report["signature"] = sign(report)
    out = Path(settings.OPS_REPORT_DIR)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"drill-{datetime.now(tz=UTC):%Y%m%dT%H%M%S%fZ}.json"
    path.write_text(json.dumps(report, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    return path


_CHECKS = """
import io, json
from django.core.management import call_command
out = {}
for name, args in (("migrations", ("migrate", "--check")), ("audit_verify", ("audit_verify",))):
    buf = io.StringIO()
    try:
        call_command(*args, stdout=buf, stderr=buf)
        ok = True
    except SystemExit as exc:
        ok = not exc.code
    except Exception as exc:
        ok = False
        buf.write(str(exc))
    out[name] = {"ok": ok, "output": buf.getvalue().strip()[-2000:] or "OK"}
print("MCHIS-CHECKS " + json.dumps(out, ensure_ascii=False))
"""


def consistency_checks(database_url: str, timeout: int = 900) -> dict[str, Any]:
    """Migrations fully applied (`migrate --check`) and the audit chain intact (`audit_verify`), run by this
    codebase against the restored copy (one process: Django starts once)."""
    env = {**os.environ, "DATABASE_URL": database_url, "PYTHONWARNINGS": "ignore"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.run(  # noqa: S603 - our own manage.py, fixed arguments
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "shell", "-c", _CHECKS],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )
    for line in proc.stdout.splitlines():
        if line.startswith("MCHIS-CHECKS "):
            return dict(json.loads(line.removeprefix("MCHIS-CHECKS ")))
    failure = {"ok": False, "output": (proc.stdout + proc.stderr).strip()[-2000:]}
    return {"migrations": failure, "audit_verify": failure}


def check_line(name: str, check: dict[str, Any]) -> str:
    first = (check["output"].splitlines() or [""])[0]
    return f"  {name}: {'OK' if check['ok'] else 'LỖI'} — {first}"


def comparison_lines(lines: list[dict[str, Any]]) -> list[str]:
    def rows(value: int | None) -> str:
        return "-" if value is None else str(value)

    return [f"  {'bảng':<40} {'nguồn':>10} {'khôi phục':>10}  khớp"] + [
        f"  {line['table']:<40} {rows(line['expected_rows']):>10} {rows(line['actual_rows']):>10}  "
        f"{'✓' if line['match'] else '✗ KHÁC'}"
        for line in lines
    ]


def drill_sqlite(to: list[str] | None = None) -> Report:
    started = timezone.now()
    copies = sqlite_backup.latest(targets(to))
    if not copies:
        error = "Không tìm thấy bản sao lưu nào để diễn tập khôi phục."
        ops_run_record(kind=RunKind.DRILL, started_at=started, ok=False, error=error)
        return Report(False, [f"LỖI: {error}"])
    lines = [f"Diễn tập khôi phục bản sao lưu {copies[0].backup_id} (nguồn: {sqlite_path()})"]
    copy_checks: list[dict[str, Any]] = []
    for manifest in copies:
        problem = sqlite_backup.verify_copy(manifest)
        evidence = verify_evidence_store(manifest.path.parent)
        copy_checks.append(
            {"path": str(manifest.file), "ok": not problem, "error": problem, "evidence": evidence}
        )
        lines.append(f"  bản sao {manifest.file}: {problem or 'nguyên vẹn'}")
        if evidence["corrupt"]:
            lines.append(f"    tệp minh chứng hỏng: {', '.join(evidence['corrupt'])}")
    intact = [m for m, c in zip(copies, copy_checks, strict=True) if c["ok"]]
    report: dict[str, Any] = {
        "kind": "sqlite",
        "backup_id": copies[0].backup_id,
        "backup_created_at": copies[0].data["created_at"],
        "copies": copy_checks,
        "started_at": started.isoformat(),
    }
    ok = False
    if intact:
        with tempfile.TemporaryDirectory(prefix="mchis-drill-") as tmp:
            scratch = Path(tmp) / "drill.sqlite3"
            try:
                sqlite_backup.restore_file(intact[0], scratch, replace=False, now=datetime.now(tz=UTC))
            except BackupError as exc:
                report["error"] = str(exc)
            else:
                table_lines = compare(intact[0].data["tables"], sqlite_backup.sums_of(scratch))
                checks = consistency_checks(f"sqlite:///{scratch}")
                report.update(tables=table_lines, checks=checks)
                lines.extend(comparison_lines(table_lines))
                for name, check in checks.items():
                    lines.append(check_line(name, check))
                ok = (
                    all(t["match"] for t in table_lines)
                    and all(c["ok"] for c in checks.values())
                    and len(intact) >= min(settings.BACKUP_MIN_COPIES, len(copies))
                    and not any(c["evidence"]["corrupt"] for c in copy_checks)
                )
    report["ok"] = ok
    path = write_report(report)
    lines.append(f"{'ĐẠT' if ok else 'KHÔNG ĐẠT'}: biên bản diễn tập đã ký tại {path}")
    ops_run_record(
        kind=RunKind.DRILL,
        started_at=started,
        ok=ok,
        detail={"report": str(path), "backup_id": report["backup_id"]},
        error="" if ok else report.get("error", "Diễn tập không đạt: xem biên bản."),
    )
    return Report(ok, lines, {"report": path})


def verify_sqlite(to: list[str] | None = None) -> Report:
    """Weekly verification: every copy of every backup in every target still matches its manifest."""
    started = timezone.now()
    lines, checked, bad = [], 0, []
    for target in targets(to):
        if not target.is_dir():
            bad.append(f"{target}: không truy cập được")
            continue
        for manifest in sqlite_backup.manifests(target):
            checked += 1
            problem = sqlite_backup.verify_copy(manifest)
            if problem:
                bad.append(problem)
        ev = verify_evidence_store(target)
        bad.extend(f"{target}: tệp minh chứng hỏng {name}" for name in ev["corrupt"])
    ok = checked > 0 and not bad
    lines.append(f"Đã kiểm tra {checked} bản sao lưu: {'tất cả nguyên vẹn' if ok else f'{len(bad)} lỗi'}")
    lines.extend(f"  LỖI: {b}" for b in bad)
    ops_run_record(
        kind=RunKind.VERIFY,
        started_at=started,
        ok=ok,
        detail={"checked": checked, "problems": bad},
        error="; ".join(bad)[:2000] if bad else ("" if checked else "Không có bản sao lưu nào."),
    )
    return Report(ok, lines)
