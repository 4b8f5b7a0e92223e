"""Files kept between an import's dry-run preview and its confirmation (police round trip, survey import).

A preview stores the uploaded bytes under a folder of its own kind, person and unit
(``IMPORT_PREVIEW_ROOT/<kind>/<user id>/<unit id>/<sha256>``), so the confirmation step can only import a
file the same person previewed in the same unit (issue 10 item 10): another user's checksum, or one's own
from another unit or page, is simply not there (404). A failed preview removes its file at once, a confirmed
one after the import; `previews_expire` (hourly task) removes those nobody confirmed within the TTL.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404

TTL_HOURS = 24
_SHA = re.compile(r"[0-9a-f]{64}")


def root() -> Path:
    default = Path(settings.MEDIA_ROOT) / "import-previews"
    return Path(getattr(settings, "IMPORT_PREVIEW_ROOT", default))


def _path(kind: str, user: Any, sha: str) -> Path:
    if not _SHA.fullmatch(sha or ""):
        raise Http404
    unit_id = getattr(user, "unit_id", None) or 0
    return root() / kind / str(user.pk) / str(unit_id) / sha


def store(kind: str, user: Any, content: bytes) -> str:
    """Keep the bytes for this person's confirmation; returns their sha256."""
    sha = hashlib.sha256(content).hexdigest()
    target = _path(kind, user, sha)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(content)
    os.replace(tmp, target)
    return sha


def take(kind: str, user: Any, sha: str) -> bytes:
    """The bytes this person previewed in its current unit, or 404."""
    path = _path(kind, user, sha)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise Http404("Không tìm thấy tệp đã xem trước; hãy tải lên lại.") from exc
    if hashlib.sha256(data).hexdigest() != sha:
        raise Http404("Tệp đã xem trước bị thay đổi; hãy tải lên lại.")
    return data


def discard(kind: str, user: Any, sha: str) -> None:
    _path(kind, user, sha).unlink(missing_ok=True)


def previews_expire(*, ttl_hours: int = TTL_HOURS, now: float | None = None) -> int:
    """Remove preview files older than the TTL; returns how many. Idempotent."""
    cutoff = (now if now is not None else time.time()) - ttl_hours * 3600
    removed = 0
    if not root().exists():
        return 0
    for path in root().rglob("*"):
        if path.is_file() and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
