"""Isolation from partners that fail (R-OPS-02): one circuit breaker (pybreaker) per external system.

After `PARTNER_BREAKER_FAIL_MAX` failures in a row a partner is cut off for `PARTNER_BREAKER_RESET_SECONDS`:
calls fail at once instead of each waiting for its timeout, so a down gateway never holds a page or a worker.
Then one trial call decides whether it closes again. State is per process (each gunicorn/Celery worker learns
on its own within a few calls); the open/closed state is exported as `mchis_circuit_breaker_open`.
"""

from __future__ import annotations

import threading

import pybreaker
from django.conf import settings

_lock = threading.Lock()
_breakers: dict[str, pybreaker.CircuitBreaker] = {}

CircuitOpen = pybreaker.CircuitBreakerError


def breaker(name: str, *, exclude: tuple[type[BaseException], ...] = ()) -> pybreaker.CircuitBreaker:
    """The breaker guarding partner `name` (created on first use). `exclude`: errors that are the caller's
    fault (bad input) and say nothing about the partner's health."""
    with _lock:
        found = _breakers.get(name)
        if found is None:
            found = pybreaker.CircuitBreaker(
                fail_max=int(getattr(settings, "PARTNER_BREAKER_FAIL_MAX", 5)),
                reset_timeout=float(getattr(settings, "PARTNER_BREAKER_RESET_SECONDS", 60)),
                exclude=list(exclude),
                name=name,
                throw_new_error_on_trip=False,  # the call that trips did reach the partner: its own error
            )
            _breakers[name] = found
        return found


def breakers() -> dict[str, pybreaker.CircuitBreaker]:
    with _lock:
        return dict(_breakers)


def reset_all() -> None:
    """Tests: every partner closed again."""
    with _lock:
        for item in _breakers.values():
            item.close()
