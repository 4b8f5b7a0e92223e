"""Unit-months whose data changed: the plug-in point that keeps the analytics store current (issue 15).

Domain apps below analytics (registers, reports, quality) call `unit_months_changed` inside their write
transaction with the (reporting unit id, month) pairs a write touched; receivers registered from above
(`analytics` registers one in its AppConfig.ready) mark those unit-months dirty. Core knows no receiver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime

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
