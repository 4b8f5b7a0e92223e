"""The public pages' cache (Django cache: Redis in production, process memory in the demo).

Every cached answer's key carries the store's *stamp*: the last time any publication changed
(``Publication.changed_at``, set by every publish / revise / withdraw / review). One indexed query per request
tells a page whether its cached copy is current, so a publication invalidates every public page and download at
once - also in a separate portal process reading a read-only copy of the database, with its own cache.
"""

from __future__ import annotations

from django.db.models import Max

from .models import Publication

TIMEOUT = 60 * 60  # an hour: a new stamp invalidates sooner; the timeout only bounds memory


def stamp() -> str:
    last = Publication.objects.aggregate(last=Max("changed_at"))["last"]
    return last.strftime("%Y%m%d%H%M%S%f") if last else "0"


def key(*parts: str) -> str:
    return ":".join(("portal", stamp(), *parts))
