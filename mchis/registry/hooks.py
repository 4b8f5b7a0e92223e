"""After-commit hooks on approved changes, for other apps (e.g. quality rules "on every approved change").

    from mchis.registry.hooks import on_children_changed
    on_children_changed(lambda child_ids: run_rules_for(child_ids))

Callbacks run after the approving transaction commits (never inside it), with the ids of the touched
records; a failing callback is logged and does not affect the approval.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable

from django.db import transaction

Callback = Callable[[list[int]], None]
_callbacks: list[Callback] = []
log = logging.getLogger(__name__)


def on_children_changed(callback: Callback) -> Callback:
    _callbacks.append(callback)
    return callback


def children_changed(child_ids: Iterable[int]) -> None:
    ids = sorted(set(child_ids))

    def fire() -> None:
        for callback in _callbacks:
            try:
                callback(ids)
            except Exception:  # a consumer's failure must not undo an approval
                log.exception("registry hook %r failed for %s", callback, ids)

    transaction.on_commit(fire)
