"""What changed, for the apps above that keep derived data current: the plug-in points of core (issue 15, ADR 0076).

Two events, each with one function that the writing app calls and one registration function for listeners.
Core knows no listener: apps above register theirs in their ``AppConfig.ready``.

* ``unit_months_changed(pairs)`` - register data (a register write, a month lock, a quality-score refresh) of
  these (reporting unit id, month) pairs changed. Called inside the writing transaction; receivers run at once,
  in it (``analytics`` marks the unit-months dirty).

* ``report_figures_changed(change)`` - a report's figures changed: any workflow transition (submit, approve,
  un-approve, return, …) or an edit of its manual cells. ``ReportFiguresChange.approved`` says what happened to
  the approval: ``True`` the figures became approved, ``False`` they stopped being approved, ``None`` the
  approval did not change. The one hook of the reports app (``reports.services``) for every listener:

  - *in-transaction* listeners (``on_report_figures_changed(f)``) run at once, inside the writing transaction:
    what they write commits or rolls back with the report (``analytics`` marks the unit-month dirty, so the
    store's provisional and approved values follow). Their exceptions undo the write.
  - *after-commit* listeners (``on_report_figures_changed(f, after_commit=True)``) run once the transaction
    has committed, only if it did: they see the committed report and cannot undo it; an exception is logged,
    never raised (the ``portal`` puts published figures under review on an un-approval and revises them on an
    approval, reading the analytics store after bringing that unit-month up to date).

Registration is idempotent (the same function is kept once), so a second ``ready`` changes nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.db import transaction

log = logging.getLogger(__name__)

Pair = tuple[int, date]
Receiver = Callable[[set[Pair]], object]
_receivers: list[Receiver] = []


def on_unit_months_changed(receiver: Receiver) -> Receiver:
    """Register a receiver (idempotent: the same function is kept once)."""
    if receiver not in _receivers:
        _receivers.append(receiver)
    return receiver


def month_of(day: date | datetime) -> date:
    return date(day.year, day.month, 1)


def unit_months_changed(pairs: Iterable[tuple[int, date | datetime | None]]) -> None:
    """Tell the receivers which (unit id, month) pairs changed; days are turned into their month, empty
    dates are skipped. Call it inside the writing transaction (receivers write in the same transaction)."""
    clean = {(int(uid), month_of(day)) for uid, day in pairs if uid is not None and day is not None}
    if not clean:
        return
    for receiver in _receivers:
        receiver(clean)


# --- report figures ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportFiguresChange:
    """One report whose figures changed (a transition or an edit of its manual cells)."""

    unit_id: int
    unit_path: str  # the reporting unit's materialized path (which published areas it feeds)
    month: date  # the first month of the report's period
    period: str  # the report's period code: "YYYY-MM" (monthly), "YYYY" (yearly), …
    form_code: str
    approved: bool | None  # True: became approved; False: no longer approved; None: approval unchanged
    action: str = ""  # the workflow verb ("approve", "unapprove", …) or "edit"


Listener = Callable[[ReportFiguresChange], object]
_in_transaction: list[Listener] = []
_after_commit: list[Listener] = []


def on_report_figures_changed(listener: Listener, *, after_commit: bool = False) -> Listener:
    """Register a listener: in the writing transaction (default) or after it commits (idempotent)."""
    target = _after_commit if after_commit else _in_transaction
    if listener not in target:
        target.append(listener)
    return listener


def report_figures_changed(change: ReportFiguresChange) -> None:
    """Call inside the transaction that changed the report: the in-transaction listeners run now, the
    after-commit listeners are queued for the commit (nothing runs for a rolled-back write)."""
    for listener in _in_transaction:
        listener(change)
    if not _after_commit:
        return

    def fire() -> None:
        for listener in _after_commit:
            try:
                listener(change)
            except Exception:  # a consumer's failure must not undo (or fail) the committed change
                log.exception("report_figures_changed listener %r failed for %s", listener, change)

    transaction.on_commit(fire)
