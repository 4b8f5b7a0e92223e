"""The 2025 commune of residence of a register row (issue 12 item 2: counting by place of residence).

A row carries `residence_commune_code`: the 2025 commune code (5 digits) of where the person lives — typed or
picked, or derived from the free-text address with the `vietnamadminunits` parser. An address naming a
pre-2025 district ("Xã Yên Nguyên, Huyện Chiêm Hóa, Tỉnh Tuyên Quang") is read as an old address and converted
to its 2025 commune; otherwise it is read as a 2025 address ("Thôn 3, Xã Kim Bình, Tỉnh Tuyên Quang"). The
street is dropped before parsing (the library would otherwise geocode it over the network). Pure: no database;
the caller checks the code against the communes it knows (an unknown code is never stored).
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from mchis.core.text import nfc

CODE = re.compile(r"\d{5}")


@lru_cache(maxsize=8192)
def commune_2025_of(address: str) -> str:
    """The 2025 commune code an address names, or "" when it names none (street only, province only, …)."""
    from vietnamadminunits import ParseMode, convert_address, parse_address

    text = nfc(address)
    if not text:
        return ""
    try:
        old: Any = parse_address(text, mode=ParseMode.LEGACY, keep_street=False, level=3)
        if old is not None and old.district_code and old.ward_code:
            new: Any = convert_address(", ".join(p for p in (old.ward, old.district, old.province) if p))
            return str(new.ward_code or "") if new is not None else ""
        unit: Any = parse_address(text, mode=ParseMode.FROM_2025, keep_street=False, level=2)
    except Exception:  # the parser raises bare exceptions on unreadable input
        return ""
    return str(unit.ward_code or "") if unit is not None else ""


def residence_code(given: str, address: str, known: frozenset[str] | None) -> tuple[str, bool, str | None]:
    """(code, derived from the address?, error): a given code must be a known 2025 commune; without one the
    address is parsed, and a commune the address names that is not known is not stored (no guess).
    `known` None = no list of communes loaded (then nothing is derived, and a given code is checked for shape)."""
    code = (given or "").strip()
    if code:
        if not CODE.fullmatch(code) or (known is not None and code not in known):
            return (
                "",
                False,
                (
                    f"Mã xã nơi cư trú: '{code}' không phải mã xã/phường/đặc khu năm 2025 (5 chữ số, theo danh mục)."
                ),
            )
        return code, False, None
    if not address or not known:
        return "", False, None
    derived = commune_2025_of(address)
    return (derived, True, None) if derived in known else ("", False, None)
