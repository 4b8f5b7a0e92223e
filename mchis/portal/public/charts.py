"""Server-drawn sparklines (inline SVG): the first page shows each trend without loading a chart library."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

WIDTH, HEIGHT = 120, 32


def sparkline(values: Sequence[Decimal | None]) -> str:
    """SVG polyline points ("x,y x,y …") of the known values; "" with fewer than two."""
    known = [(i, float(v)) for i, v in enumerate(values) if v is not None]
    if len(known) < 2:
        return ""
    lo = min(v for _, v in known)
    hi = max(v for _, v in known)
    span = (hi - lo) or 1.0
    step = WIDTH / max(len(values) - 1, 1)
    return " ".join(f"{i * step:.1f},{HEIGHT - 2 - (v - lo) / span * (HEIGHT - 4):.1f}" for i, v in known)
