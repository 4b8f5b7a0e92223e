"""Evidence files (tài liệu minh chứng): PDF/JPEG/PNG, size-limited, sniffed by content, stored by sha256.

Files live under settings.EVIDENCE_ROOT (outside the database), addressed by checksum, so the same
scan uploaded twice is stored once and any later alteration is detectable.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from mchis.core.errors import DomainError

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
_MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
)


@dataclass(frozen=True)
class EvidenceFile:
    """An uploaded file at the service boundary (name as given, raw bytes)."""

    name: str
    content: bytes


def max_bytes() -> int:
    return int(getattr(settings, "EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def sniff(content: bytes) -> str | None:
    """The content type from the first bytes, never from the file name."""
    for magic, content_type in _MAGIC:
        if content.startswith(magic):
            return content_type
    return None


def check(file: EvidenceFile) -> str:
    """Return the sniffed content type or raise a Vietnamese error naming the file."""
    if not file.content:
        raise DomainError(f"Tệp minh chứng '{file.name}' rỗng.", field="evidence")
    if len(file.content) > max_bytes():
        limit = max_bytes() // (1024 * 1024)
        raise DomainError(f"Tệp minh chứng '{file.name}' vượt quá {limit} MB.", field="evidence")
    content_type = sniff(file.content)
    if content_type is None:
        raise DomainError(
            f"Tệp minh chứng '{file.name}' không phải PDF, JPEG hoặc PNG (kiểm tra theo nội dung tệp).",
            field="evidence",
        )
    return content_type


def root() -> Path:
    return Path(settings.EVIDENCE_ROOT)


def path_for(sha256: str) -> Path:
    return root() / sha256[:2] / sha256


def write(content: bytes) -> str:
    """Store the bytes by checksum (idempotent, atomic rename); returns the sha256."""
    digest = hashlib.sha256(content).hexdigest()
    target = path_for(digest)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, target)
    return digest


def read(sha256: str) -> bytes:
    data = path_for(sha256).read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise DomainError("Tệp minh chứng đã bị thay đổi (sai mã kiểm tra).", field="evidence")
    return data


def unreferenced_older_than(referenced: set[str], cutoff: float) -> list[Path]:
    """Stored files (and temporary files of interrupted writes) that no record refers to, last written
    before `cutoff` (a POSIX timestamp): what a failed request left behind."""
    if not root().exists():
        return []
    return [
        path
        for path in root().glob("??/*")
        if path.is_file() and path.name not in referenced and path.stat().st_mtime < cutoff
    ]
