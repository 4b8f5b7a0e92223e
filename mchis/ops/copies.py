"""Writing one verified copy into a target directory that stands for a separate storage (R-OPS-01).

Every copy is written under a temporary name, flushed, checked against the source checksum and only then
given its final name (never replacing an existing file). A full or unreachable target is reported in
Vietnamese with the directory named; the other targets go on.
"""

from __future__ import annotations

import errno
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checksums import sha256_file


class BackupError(Exception):
    """A backup, restore or drill step that failed, with a message for the operator (Vietnamese)."""


@dataclass
class CopyResult:
    target: str
    ok: bool
    path: str = ""
    sha256: str = ""
    bytes: int = 0
    error: str = ""
    warnings: list[str] = field(default_factory=list)
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "ok": self.ok,
            "path": self.path,
            "sha256": self.sha256,
            "bytes": self.bytes,
            "error": self.error,
            "warnings": self.warnings,
            "evidence": self.evidence,
        }


def describe_os_error(target: Path, exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"Thư mục sao lưu {target} đã đầy (hết dung lượng): bản sao dở dang đã được xóa."
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return f"Không có quyền ghi vào thư mục sao lưu {target} ({exc.strerror})."
    if exc.errno in (errno.ENOENT, errno.ENOTDIR):
        return f"Không tìm thấy thư mục sao lưu {target} (ổ lưu trữ chưa gắn hoặc không truy cập được)."
    return f"Không ghi được vào thư mục sao lưu {target}: {exc.strerror or exc}."


def check_target(target: Path) -> None:
    """Refuse a target that is not an existing, writable directory (an unmounted storage must not be
    silently replaced by an empty folder on the server's own disk)."""
    if not target.is_dir():
        raise BackupError(
            f"Không tìm thấy thư mục sao lưu {target} (ổ lưu trữ chưa gắn hoặc không truy cập được)."
        )
    if not os.access(target, os.W_OK | os.X_OK):
        raise BackupError(f"Không có quyền ghi vào thư mục sao lưu {target}.")


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def place(partial: Path, final: Path) -> Path:
    """Give the finished copy its name without ever replacing a file: a taken name gets a suffix."""
    candidate = final
    n = 1
    while True:
        try:
            os.link(partial, candidate)
        except FileExistsError:
            n += 1
            candidate = final.with_name(f"{final.stem}-{n}{final.suffix}")
            continue
        partial.unlink()
        return candidate


def copy_verified(source: Path, target_dir: Path, name: str, expected_sha256: str) -> Path:
    """Copy `source` into `target_dir/name` (no clobber), verified against `expected_sha256`."""
    partial = target_dir / f".{name}.partial"
    try:
        shutil.copyfile(source, partial)
        fsync_path(partial)
        actual = sha256_file(partial)
        if actual != expected_sha256:
            raise BackupError(
                f"Bản sao tại {target_dir} không khớp mã kiểm tra sau khi ghi (lỗi ổ lưu trữ?)."
            )
        return place(partial, target_dir / name)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def copy_evidence(evidence_root: Path, target_dir: Path) -> dict[str, Any]:
    """Content-addressed evidence files (name = sha256) into `target_dir/evidence/`: new files only, each
    checked before and after copying. A source file whose content no longer matches its name is reported,
    never copied over a good one."""
    copied = present = 0
    corrupt: list[str] = []
    store = target_dir / "evidence"
    if evidence_root.is_dir():
        for path in sorted(evidence_root.glob("??/*")):
            name = path.name
            if not path.is_file() or len(name) != 64 or name[:2] != path.parent.name:
                continue  # temporary files of an interrupted upload
            dest = store / name[:2] / name
            if dest.exists():
                present += 1
                continue
            if sha256_file(path) != name:
                corrupt.append(name)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            copy_verified(path, dest.parent, name, name)
            copied += 1
    return {"copied": copied, "already_present": present, "corrupt_sources": corrupt}


def restore_evidence(target_dir: Path, evidence_root: Path) -> dict[str, Any]:
    """Evidence files missing from `evidence_root` back from a target's store (checked by name = sha256)."""
    restored = 0
    corrupt: list[str] = []
    store = target_dir / "evidence"
    if store.is_dir():
        for path in sorted(store.glob("??/*")):
            name = path.name
            if len(name) != 64:
                continue
            dest = evidence_root / name[:2] / name
            if dest.exists():
                continue
            if sha256_file(path) != name:
                corrupt.append(name)
                continue
            dest.parent.mkdir(parents=True, exist_ok=True)
            copy_verified(path, dest.parent, name, name)
            restored += 1
    return {"restored": restored, "corrupt_copies": corrupt}


def verify_evidence_store(target_dir: Path) -> dict[str, Any]:
    checked = 0
    corrupt: list[str] = []
    for path in sorted((target_dir / "evidence").glob("??/*")):
        if len(path.name) == 64:
            checked += 1
            if sha256_file(path) != path.name:
                corrupt.append(path.name)
    return {"checked": checked, "corrupt": corrupt}
