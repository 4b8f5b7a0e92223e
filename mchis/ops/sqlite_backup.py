"""The embedded demo's backups (SQLite): one consistent snapshot through SQLite's online backup API, copied
into every target directory with a manifest (checksum of the file, row counts and checksums per table).

Layout of a target: `mchis-<UTC time>.sqlite3` + `mchis-<UTC time>.json` (the manifest) + `evidence/`.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import tempfile
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import mchis

from .checksums import TableSums, sha256_file, table_checksums
from .copies import (
    BackupError,
    CopyResult,
    check_target,
    copy_evidence,
    copy_verified,
    describe_os_error,
    fsync_path,
)

MANIFEST_FORMAT = 1
CLOCK_SLACK = timedelta(minutes=1)


@dataclass
class Manifest:
    path: Path
    data: dict[str, Any]

    @property
    def file(self) -> Path:
        return self.path.parent / str(self.data["file"])

    @property
    def created_at(self) -> datetime:
        return datetime.fromisoformat(self.data["created_at"])

    @property
    def backup_id(self) -> str:
        return str(self.data["backup_id"])


@dataclass
class BackupOutcome:
    backup_id: str
    sha256: str
    bytes: int
    tables: TableSums
    copies: list[CopyResult] = field(default_factory=list)

    @property
    def good_copies(self) -> int:
        return sum(1 for c in self.copies if c.ok)


def integrity_problem(path: Path) -> str:
    """'' when SQLite's own integrity check passes, else what it found."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    result = "; ".join(str(r[0]) for r in rows)
    return "" if result == "ok" else result


def sums_of(path: Path) -> TableSums:
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        return table_checksums(conn.cursor(), "sqlite")


def snapshot(source: Path, into: Path) -> None:
    """A consistent copy of a live database (writers may go on; SQLite restarts the copy if needed)."""
    with (
        contextlib.closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as src,
        contextlib.closing(sqlite3.connect(into)) as dst,
    ):
        src.backup(dst, pages=4096)
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
    fsync_path(into)


def manifests(target: Path) -> list[Manifest]:
    found = []
    for path in target.glob("mchis-*.json"):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and data.get("format") == MANIFEST_FORMAT and "file" in data:
            found.append(Manifest(path, data))
    return sorted(found, key=lambda m: (m.data["created_at"], m.path.name))


def backup(
    source: Path, targets: list[Path], *, now: datetime, evidence_root: Path, keep: int
) -> BackupOutcome:
    """Snapshot `source` once, then one verified copy + manifest per target. Raises BackupError when no
    snapshot can be taken at all; per-target failures are in the outcome."""
    if not source.exists():
        raise BackupError(f"Không tìm thấy cơ sở dữ liệu {source}.")
    backup_id = now.strftime("%Y%m%dT%H%M%S%fZ")
    name = f"mchis-{backup_id}.sqlite3"
    with tempfile.TemporaryDirectory(prefix="mchis-backup-") as tmp:
        snap = Path(tmp) / name
        try:
            snapshot(source, snap)
        except (sqlite3.Error, OSError) as exc:
            raise BackupError(f"Không tạo được bản chụp cơ sở dữ liệu: {exc}") from exc
        problem = integrity_problem(snap)
        if problem:
            raise BackupError(f"Cơ sở dữ liệu nguồn không toàn vẹn, không sao lưu: {problem}")
        digest = sha256_file(snap)
        outcome = BackupOutcome(backup_id, digest, snap.stat().st_size, sums_of(snap))
        for target in targets:
            outcome.copies.append(_one_copy(snap, target, name, outcome, now, evidence_root, keep))
    return outcome


def _one_copy(
    snap: Path, target: Path, name: str, outcome: BackupOutcome, now: datetime, evidence_root: Path, keep: int
) -> CopyResult:
    result = CopyResult(target=str(target), ok=False)
    try:
        check_target(target)
        existing = manifests(target)
        newest = max((m.created_at for m in existing), default=None)
        clock_jumped = newest is not None and newest > now + CLOCK_SLACK
        if clock_jumped:
            result.warnings.append(
                f"Đồng hồ hệ thống lùi: bản sao lưu mới nhất tại {target} ghi lúc {newest:%d/%m/%Y %H:%M:%S} UTC, "
                f"muộn hơn giờ hiện tại {now:%d/%m/%Y %H:%M:%S} UTC. Không xóa bản cũ nào ở thư mục này."
            )
        final = copy_verified(snap, target, name, outcome.sha256)
        manifest = {
            "format": MANIFEST_FORMAT,
            "backup_id": outcome.backup_id,
            "file": final.name,
            "sha256": outcome.sha256,
            "bytes": outcome.bytes,
            "created_at": now.isoformat(),
            "version": mchis.__version__,
            "tables": outcome.tables,
        }
        manifest_path = final.with_suffix(".json")
        partial = target / f".{manifest_path.name}.partial"
        partial.write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        fsync_path(partial)
        os.replace(partial, manifest_path)
        result.evidence = copy_evidence(evidence_root, target)
        result.ok, result.path, result.sha256, result.bytes = True, str(final), outcome.sha256, outcome.bytes
        if not clock_jumped:
            result.warnings.extend(_prune(target, keep))
    except BackupError as exc:
        result.error = str(exc)
    except OSError as exc:
        result.error = describe_os_error(target, exc)
    return result


def _prune(target: Path, keep: int) -> list[str]:
    """Keep the newest `keep` backups of this target (oldest go first, with their manifests)."""
    notes = []
    for old in manifests(target)[:-keep] if keep > 0 else []:
        old.file.unlink(missing_ok=True)
        old.path.unlink(missing_ok=True)
        notes.append(f"Đã xóa bản cũ {old.file.name} (giữ {keep} bản mới nhất).")
    return notes


def verify_copy(manifest: Manifest) -> str:
    """'' when the copy is intact (file checksum, SQLite integrity, table checksums), else why not."""
    if not manifest.file.exists():
        return f"Thiếu tệp {manifest.file}."
    if sha256_file(manifest.file) != manifest.data["sha256"]:
        return f"Bản sao lưu {manifest.file} bị hỏng: mã kiểm tra SHA-256 không khớp với bản kê."
    problem = integrity_problem(manifest.file)
    if problem:
        return f"Bản sao lưu {manifest.file} bị hỏng: {problem}"
    if sums_of(manifest.file) != manifest.data["tables"]:
        return f"Bản sao lưu {manifest.file}: số dòng hoặc mã kiểm tra của bảng không khớp với bản kê."
    return ""


def latest(targets: list[Path]) -> list[Manifest]:
    """Every copy of the newest backup found in the targets (newest by recorded time, then id)."""
    found: list[Manifest] = []
    for target in targets:
        if target.is_dir():
            found.extend(manifests(target))
    if not found:
        return []
    newest = max(found, key=lambda m: (m.data["created_at"], m.backup_id)).backup_id
    return [m for m in found if m.backup_id == newest]


def is_empty_database(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return True
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
        tables = conn.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    return int(tables) == 0


def restore_file(manifest: Manifest, into: Path, *, replace: bool, now: datetime) -> Path | None:
    """Copy a verified backup into `into`. A non-empty database is refused unless `replace`, and then kept
    beside it (returned) rather than overwritten."""
    problem = verify_copy(manifest)
    if problem:
        raise BackupError(problem)
    kept: Path | None = None
    if not is_empty_database(into):
        if not replace:
            raise BackupError(
                f"Cơ sở dữ liệu {into} đang có dữ liệu: không khôi phục đè lên. "
                "Dùng --replace để khôi phục (bản hiện tại sẽ được giữ lại bên cạnh)."
            )
        kept = into.with_name(f"{into.name}.before-restore-{now:%Y%m%dT%H%M%SZ}")
        snapshot(into, kept)
    into.parent.mkdir(parents=True, exist_ok=True)
    partial = into.with_name(f".{into.name}.restoring")
    partial.unlink(missing_ok=True)
    snapshot(manifest.file, partial)
    if sums_of(partial) != manifest.data["tables"]:
        partial.unlink(missing_ok=True)
        raise BackupError("Bản khôi phục không khớp bản kê sau khi ghi: đã hủy, cơ sở dữ liệu cũ giữ nguyên.")
    for suffix in ("-wal", "-shm"):
        Path(f"{into}{suffix}").unlink(missing_ok=True)
    os.replace(partial, into)
    return kept
