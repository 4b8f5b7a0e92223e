"""How the (simulated) registry compares a claimed identity with the stored one. Pure, no Django."""

from __future__ import annotations

import unicodedata
from typing import Any

from .types import IdentityResult, MismatchKind


def _fold(value: str | None) -> str:
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in decomposed if unicodedata.category(c) != "Mn").lower().split())


def compare(stored: dict[str, Any] | None, claimed: dict[str, Any]) -> IdentityResult:
    if stored is None:
        return IdentityResult(MismatchKind.ID_NOT_FOUND)
    name_ok = _fold(stored.get("full_name")) == _fold(claimed.get("full_name"))
    dob_ok = (stored.get("date_of_birth") or "") == (claimed.get("date_of_birth") or "")
    if name_ok and dob_ok:
        sex = claimed.get("sex") or ""
        if sex and stored.get("sex") and sex != stored["sex"]:
            return IdentityResult(MismatchKind.OTHER, {"field": "sex"})
        return IdentityResult(MismatchKind.MATCH)
    if not name_ok and not dob_ok:
        return IdentityResult(MismatchKind.BOTH_WRONG)
    return IdentityResult(MismatchKind.WRONG_NAME if not name_ok else MismatchKind.WRONG_DOB)
