"""Role checks seen from core, without core importing a domain app.

The permission matrix lives in `mchis.accounts.permissions` (R-SEC-02). Core's own views (the audit log UI)
need `can(principal, action)`; importing accounts from core would reverse the dependency arrow, so the
checker is looked up by dotted path (setting `MCHIS_PERMISSION_CHECK`, default the accounts matrix) the first
time it is needed.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils.module_loading import import_string

from .principal import Principal

DEFAULT_CHECK = "mchis.accounts.permissions.can"


@cache
def _checker() -> Callable[[Any, str], bool]:
    check: Callable[[Any, str], bool] = import_string(
        getattr(settings, "MCHIS_PERMISSION_CHECK", DEFAULT_CHECK)
    )
    return check


def allowed(principal: Principal, action: str) -> bool:
    return bool(_checker()(principal, action))


def require_allowed(principal: Principal, action: str) -> None:
    """403 for a signed-in principal whose role lacks the action (views only; services use accounts.require)."""
    if not allowed(principal, action):
        raise PermissionDenied("Bạn không có quyền thực hiện thao tác này.")
