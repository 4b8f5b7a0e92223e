"""The registry's plug-in points, for apps above it (the registry never imports them).

After-commit hooks on approved changes (e.g. quality rules "on every approved change"):

    from mchis.registry.hooks import on_children_changed
    on_children_changed(lambda child_ids: run_rules_for(child_ids))

Callbacks run after the approving transaction commits (never inside it), with the ids of the touched
records; a failing callback is logged and does not affect the approval.

The identity check against the national population database (R-INT-04): the integrations layer provides
it (`provide_identity_check`, from its AppConfig.ready); registry pages start it through
`identity_check_start` without knowing the gateway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction

from mchis.core.errors import DomainError
from mchis.core.principal import Principal

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


IdentityCheck = Callable[..., Any]  # (*, actor, child) -> the pending Verification
_identity_check: IdentityCheck | None = None


def provide_identity_check(start: IdentityCheck) -> IdentityCheck:
    global _identity_check
    _identity_check = start
    return start


def identity_check_start(*, actor: Principal, child: Any) -> Any:
    """Start an identity check of `child` through whatever the integrations layer provided."""
    if _identity_check is None:
        raise DomainError("Chưa cấu hình kết nối CSDL dân cư (POPULATION_GATEWAY_URL).")
    return _identity_check(actor=actor, child=child)
