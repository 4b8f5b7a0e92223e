"""The public pages' cache (Django cache: Redis in production, process memory in the demo).

Every cached answer's key carries the store's *stamp*: the last time any publication changed
(``Publication.changed_at``, set by every publish / revise / withdraw / review). One indexed query per request
tells a page whether its cached copy is current, so a publication invalidates every public page and download at
once - also in a separate portal process reading a read-only copy of the database, with its own cache.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db.models import Max

from .models import Publication

TIMEOUT = 60 * 60  # an hour: a new stamp invalidates sooner; the timeout only bounds memory
_memo: dict[str, tuple[float, str]] = {}


def stamp() -> str:
    """The store's stamp; a separate portal process may reuse it for PORTAL_STAMP_SECONDS (pages then follow a
    publication within that delay instead of one query per request). 0 (the default): always read."""
    ttl = float(getattr(settings, "PORTAL_STAMP_SECONDS", 0))
    now = time.monotonic()
    if ttl > 0 and (hit := _memo.get("stamp")) is not None and now - hit[0] < ttl:
        return hit[1]
    last = Publication.objects.aggregate(last=Max("changed_at"))["last"]
    value = last.strftime("%Y%m%d%H%M%S%f") if last else "0"
    _memo["stamp"] = (now, value)
    return value


def key(*parts: str) -> str:
    return ":".join(("portal", stamp(), *parts))
