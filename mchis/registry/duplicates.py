"""How the registry's pages show possible duplicates (R-DQ-02): the candidates stored on a change request (plain
data from the quality app's entry check) turned into what a template shows."""

from __future__ import annotations

from datetime import date
from typing import Any

from .validation import LABELS


def display_rows(candidates: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Labels of the differing fields, the birth date as a date, the probability as a whole percentage."""
    out = []
    for c in candidates:
        dob = c.get("date_of_birth") or ""
        out.append(
            {
                **c,
                "differs_labels": [LABELS.get(k, k) for k in c.get("differs", [])],
                "dob": date.fromisoformat(dob) if dob else None,
                "percent": round(float(c.get("probability", 0)) * 100),
            }
        )
    return out
