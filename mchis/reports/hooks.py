"""The reports app's plug-in points, for apps above it (reports never imports them).

After-commit hook on approval changes (the public portal marks published figures under review on an
un-approval and revises them on the next approval):

    from mchis.reports.hooks import on_approval_changed
    on_approval_changed(lambda change: ...)

Callbacks run after the transition's transaction commits, with an ``ApprovalChange``; a failing callback is
logged and does not affect the transition.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ApprovalChange:
    verb: str  # "approve" | "unapprove"
    form_code: str
    unit_path: str
    period: str  # "YYYY-MM" or "YYYY"


Callback = Callable[[ApprovalChange], None]
_callbacks: list[Callback] = []


def on_approval_changed(callback: Callback) -> Callback:
    _callbacks.append(callback)
    return callback


def approval_changed(change: ApprovalChange) -> None:
    def fire() -> None:
        for callback in _callbacks:
            try:
                callback(change)
            except Exception:  # a consumer's failure must not undo an approval
                log.exception("reports hook %r failed for %s", callback, change)

    transaction.on_commit(fire)
