"""Reading the administrative-unit sources into plain rows (no database access here).

Two sources:
- the `vietnamadminunits` package (MIT): `dataset.db` tables `admin_units` (2025) and `admin_units_legacy`
  (pre-2025), and `converter_2025.json` (old → new commune by name keys);
- the GSO conversion table (*Bảng chuyển đổi ĐVHC mới - cũ*, 2025-07), shipped in `fixtures/`, which has
  codes and the kind of change (Nhập toàn bộ / Nhập một phần / Giữ nguyên).

Merge rule for the mapping (docs/decisions/0003-admin-unit-code-versions.md): the GSO table is
authoritative for which pairs exist and their kind; the package adds the pairs the GSO table lacks and
says which new commune is the default seat of a split commune.
"""

from __future__ import annotations

import csv
import importlib.resources
import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mchis.core.text import nfc

from .models import CodeVersion, Level, MappingKind, MappingSource

FIXTURES = Path(__file__).resolve().parent / "fixtures"
GSO_CONVERSION_CSV = FIXTURES / "ward_conversion_2025.csv"
CODE_PATTERN: dict[str, re.Pattern[str]] = {
    Level.PROVINCE: re.compile(r"\d{2}"),
    Level.DISTRICT: re.compile(r"\d{3}"),
    Level.COMMUNE: re.compile(r"\d{5}"),
}
GSO_COLUMNS = (
    "new_province_code",
    "new_commune_code",
    "new_commune_name",
    "old_commune_code",
    "old_commune_name",
    "old_district_code",
    "note",
)


class SourceError(ValueError):
    """Malformed source data; the message names the source and the row."""


@dataclass(frozen=True)
class UnitRow:
    version: str
    level: str
    code: str
    name: str
    short_name: str
    division_type: str
    parent_code: str = ""  # code of the parent in the same version (province of a district, …)
    parent_level: str = ""


@dataclass(frozen=True)
class MappingRow:
    old_level: str  # commune, or district for the island districts without communes
    old_code: str
    new_code: str
    kind: str
    is_default: bool
    source: str
    note: str = ""
    area_km2: float | None = None


@dataclass
class Sources:
    units: list[UnitRow]
    mappings: list[MappingRow]
    skipped: list[str] = field(default_factory=list)  # rows that name no administrative unit, with why


# ---------------------------------------------------------------- the package


def _library_query(sql: str) -> list[dict[str, Any]]:
    from vietnamadminunits.database import query

    return list(query(sql))


def _library_converter() -> dict[str, Any]:
    data = importlib.resources.files("vietnamadminunits").joinpath("data", "converter_2025.json")
    return dict(json.loads(data.read_text(encoding="utf-8")))


def _check_code(source: str, row: int | str, level: str, code: Any) -> str:
    text = "" if code is None else str(code).strip()
    if not CODE_PATTERN[level].fullmatch(text):
        raise SourceError(f"{source}, dòng {row}: mã {Level(level).label.lower()} '{text}' không hợp lệ.")
    return text


def _check_name(source: str, row: int | str, value: Any, what: str) -> str:
    text = nfc(value if isinstance(value, str) else "")
    if not text:
        raise SourceError(f"{source}, dòng {row}: thiếu tên {what}.")
    return text


class _UnitCollector:
    """Collects unit rows, refusing one code with two different names or parents."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str, str], UnitRow] = {}

    def add(self, source: str, line: int | str, row: UnitRow) -> None:
        key = (row.version, row.level, row.code)
        seen = self.rows.get(key)
        if seen is None:
            self.rows[key] = row
        elif (seen.name, seen.parent_code) != (row.name, row.parent_code):
            raise SourceError(
                f"{source}, dòng {line}: mã {row.code} ({row.version}) vừa là '{seen.name}' "
                f"vừa là '{row.name}'."
            )


def read_library_units(
    rows_2025: Iterable[dict[str, Any]] | None = None, rows_legacy: Iterable[dict[str, Any]] | None = None
) -> list[UnitRow]:
    """Units of both code systems from the package's `dataset.db` (rows may be injected for tests)."""
    if rows_2025 is None:
        rows_2025 = _library_query("SELECT rowid AS _row, * FROM admin_units ORDER BY rowid")
    if rows_legacy is None:
        rows_legacy = _library_query("SELECT rowid AS _row, * FROM admin_units_legacy ORDER BY rowid")
    units = _UnitCollector()
    src = "vietnamadminunits admin_units"
    for r in rows_2025:
        line = r.get("_row", "?")
        p = _check_code(src, line, Level.PROVINCE, r.get("provinceCode"))
        pname = _check_name(src, line, r.get("province"), "tỉnh")
        units.add(
            src, line, UnitRow(CodeVersion.V2025, Level.PROVINCE, p, pname, nfc(r.get("provinceShort")), "")
        )
        c = _check_code(src, line, Level.COMMUNE, r.get("wardCode"))
        cname = _check_name(src, line, r.get("ward"), "xã")
        units.add(
            src,
            line,
            UnitRow(
                CodeVersion.V2025,
                Level.COMMUNE,
                c,
                cname,
                nfc(r.get("wardShort")),
                nfc(r.get("wardType")),
                p,
                Level.PROVINCE,
            ),
        )
    src = "vietnamadminunits admin_units_legacy"
    for r in rows_legacy:
        line = r.get("_row", "?")
        p = _check_code(src, line, Level.PROVINCE, r.get("provinceCode"))
        pname = _check_name(src, line, r.get("province"), "tỉnh")
        units.add(
            src, line, UnitRow(CodeVersion.PRE2025, Level.PROVINCE, p, pname, nfc(r.get("provinceShort")), "")
        )
        d = _check_code(src, line, Level.DISTRICT, r.get("districtCode"))
        dname = _check_name(src, line, r.get("district"), "huyện")
        units.add(
            src,
            line,
            UnitRow(
                CodeVersion.PRE2025,
                Level.DISTRICT,
                d,
                dname,
                nfc(r.get("districtShort")),
                nfc(r.get("districtType")),
                p,
                Level.PROVINCE,
            ),
        )
        if r.get("wardCode") is None and not r.get("ward"):
            continue  # an island district without communes (huyện đảo): Bạch Long Vĩ, Cồn Cỏ, …
        c = _check_code(src, line, Level.COMMUNE, r.get("wardCode"))
        cname = _check_name(src, line, r.get("ward"), "xã")
        units.add(
            src,
            line,
            UnitRow(
                CodeVersion.PRE2025,
                Level.COMMUNE,
                c,
                cname,
                nfc(r.get("wardShort")),
                nfc(r.get("wardType")),
                d,
                Level.DISTRICT,
            ),
        )
    return list(units.rows.values())


def read_library_pairs(
    rows_2025: Iterable[dict[str, Any]] | None = None,
    rows_legacy: Iterable[dict[str, Any]] | None = None,
    converter: dict[str, Any] | None = None,
) -> dict[tuple[str, str], tuple[bool | None, float | None]]:
    """(old commune code, new commune code) → (is default seat or None when not split, area km²).

    The converter speaks in name keys ("tinhx_huyeny_xaz"); they are resolved to codes here.
    """
    if rows_2025 is None:
        rows_2025 = _library_query("SELECT provinceKey, wardKey, wardCode, wardAreaKm2 FROM admin_units")
    if rows_legacy is None:
        rows_legacy = _library_query(
            "SELECT provinceKey, districtKey, wardKey, wardCode FROM admin_units_legacy WHERE wardCode IS NOT NULL"
        )
    if converter is None:
        converter = _library_converter()
    new_by_key = {(r["provinceKey"], r["wardKey"]): (r["wardCode"], r.get("wardAreaKm2")) for r in rows_2025}
    old_by_key = {f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}": r["wardCode"] for r in rows_legacy}
    pairs: dict[tuple[str, str], tuple[bool | None, float | None]] = {}
    src = "vietnamadminunits converter_2025.json"
    for province, wards in converter["DICT_PROVINCE_WARD_NO_DIVIDED"].items():
        for new_key, old_keys in wards.items():
            new = new_by_key.get((province, new_key))
            if new is None:
                raise SourceError(f"{src}: không tìm thấy xã mới '{province}/{new_key}'.")
            for old_key in old_keys:
                old = old_by_key.get(old_key)
                if old is None:
                    if old_key.endswith("_"):
                        continue  # island district without communes; the GSO table maps the district
                    raise SourceError(f"{src}: không tìm thấy xã cũ '{old_key}'.")
                pairs[(old, new[0])] = (None, new[1])
    for province, olds in converter["DICT_PROVINCE_WARD_DIVIDED"].items():
        for old_key, targets in olds.items():
            old = old_by_key.get(old_key)
            if old is None:
                raise SourceError(f"{src}: không tìm thấy xã cũ '{old_key}'.")
            for t in targets:
                new = new_by_key.get((province, t["newWardKey"]))
                if new is None:
                    raise SourceError(f"{src}: không tìm thấy xã mới '{province}/{t['newWardKey']}'.")
                pairs[(old, new[0])] = (bool(t["isDefaultNewWard"]), t.get("newWardAreaKm2") or new[1])
    return pairs


# ---------------------------------------------------------------- the GSO table


def gso_kind(note: str) -> str | None:
    """Kind of change from the GSO 'Ghi chú' column; None when it cannot be read."""
    text = note.lower().replace("nhâp", "nhập")
    if "một phần" in text or "phần còn lại" in text:
        return MappingKind.PARTIAL
    if "toàn bộ" in text:
        return MappingKind.WHOLE
    if "giữ nguyên" in text or text.startswith("đổi tên") or text.startswith("đổi loại hình"):
        return MappingKind.UNCHANGED
    return None


@dataclass(frozen=True)
class GsoRow:
    line: int
    old_level: str
    old_code: str
    new_code: str
    kind: str
    note: str


def read_gso_conversion(
    path: Path = GSO_CONVERSION_CSV, district_has_communes: set[str] | None = None
) -> tuple[list[GsoRow], list[str]]:
    """Rows of the GSO conversion table; returns (rows, skipped-with-reason).

    A row without an old commune code maps a whole island district (old level = district) when that
    district had no communes; otherwise it names an area that is no administrative unit (e.g. "Khu vực
    bãi bồi ven biển") and is skipped, with the reason reported.
    """
    rows: list[GsoRow] = []
    skipped: list[str] = []
    name = path.name
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as exc:
        raise SourceError(f"{name}: không đọc được tệp ({exc}).") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in GSO_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise SourceError(f"{name}, dòng 1: thiếu cột {', '.join(missing)}.")
        for line, r in enumerate(reader, start=2):
            new = _check_code(name, line, Level.COMMUNE, r["new_commune_code"])
            note = nfc(r["note"])
            kind = gso_kind(note)
            if kind is None:
                raise SourceError(f"{name}, dòng {line}: không hiểu ghi chú '{note}' (loại chuyển đổi).")
            if (r["old_commune_code"] or "").strip():
                old = _check_code(name, line, Level.COMMUNE, r["old_commune_code"])
                rows.append(GsoRow(line, Level.COMMUNE, old, new, kind, note))
                continue
            district = _check_code(name, line, Level.DISTRICT, r["old_district_code"])
            if district_has_communes is not None and district in district_has_communes:
                skipped.append(
                    f"{name}, dòng {line}: '{nfc(r['old_commune_name'])}' không phải đơn vị hành chính"
                )
                continue
            rows.append(GsoRow(line, Level.DISTRICT, district, new, MappingKind.WHOLE, note))
    return rows, skipped


def merge_mappings(
    gso: list[GsoRow], library: dict[tuple[str, str], tuple[bool | None, float | None]]
) -> list[MappingRow]:
    """One mapping row per (old, new) pair; exactly one default new commune per old unit.

    - pair in both sources → source gso+vnau, kind from GSO;
    - pair only in GSO → source gso;
    - pair only in the package → source vnau, kind partial when the old commune goes to several new
      ones, else whole.
    Default seat: the package's `isDefaultNewWard`, or its single (undivided) target; failing both, the
    GSO "whole"/"unchanged" target, then the lowest new code.
    """
    by_pair: dict[tuple[str, str, str], dict[str, Any]] = {}
    for g in gso:
        lib = library.get((g.old_code, g.new_code)) if g.old_level == Level.COMMUNE else None
        by_pair[(g.old_level, g.old_code, g.new_code)] = {
            "kind": g.kind,
            "note": g.note,
            "source": MappingSource.GSO_AND_LIBRARY if lib is not None else MappingSource.GSO,
            "lib_default": lib[0] if lib else None,
            "in_lib": lib is not None,
            "area": lib[1] if lib else None,
        }
    targets: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (old, new), (default, area) in library.items():
        targets[(Level.COMMUNE, old)].append(new)
        key = (Level.COMMUNE, old, new)
        if key not in by_pair:
            by_pair[key] = {
                "kind": "",
                "note": "",
                "source": MappingSource.LIBRARY,
                "lib_default": default,
                "in_lib": True,
                "area": area,
            }
    per_old: dict[tuple[str, str], list[str]] = defaultdict(list)
    for level, old, new in by_pair:
        per_old[(level, old)].append(new)
    result: list[MappingRow] = []
    for (level, old), news in per_old.items():
        news.sort()
        infos = {n: by_pair[(level, old, n)] for n in news}
        for info in infos.values():
            if not info["kind"]:
                info["kind"] = MappingKind.PARTIAL if len(news) > 1 else MappingKind.WHOLE
        default_new = _pick_default(news, infos)
        for n in news:
            info = infos[n]
            result.append(
                MappingRow(
                    old_level=level,
                    old_code=old,
                    new_code=n,
                    kind=info["kind"],
                    is_default=(n == default_new),
                    source=info["source"],
                    note=info["note"],
                    area_km2=info["area"],
                )
            )
    return result


def _pick_default(news: list[str], infos: dict[str, dict[str, Any]]) -> str:
    if len(news) == 1:
        return news[0]
    flagged = [n for n in news if infos[n]["lib_default"] is True]
    if flagged:
        return flagged[0]
    undivided = [n for n in news if infos[n]["in_lib"] and infos[n]["lib_default"] is None]
    if undivided:
        return undivided[0]
    whole = [n for n in news if infos[n]["kind"] != MappingKind.PARTIAL]
    return (whole or news)[0]


def read_sources(gso_path: Path | None = GSO_CONVERSION_CSV) -> Sources:
    """Everything `load_admin_units` needs, validated; raises SourceError naming the bad row."""
    units = read_library_units()
    district_has_communes = {
        u.parent_code for u in units if u.version == CodeVersion.PRE2025 and u.level == Level.COMMUNE
    }
    library = read_library_pairs()
    gso: list[GsoRow] = []
    skipped: list[str] = []
    if gso_path is not None:
        gso, skipped = read_gso_conversion(gso_path, district_has_communes)
    known = {(u.version, u.level, u.code) for u in units}
    for g in gso:
        if (CodeVersion.PRE2025, g.old_level, g.old_code) not in known:
            raise SourceError(
                f"{gso_path and gso_path.name}, dòng {g.line}: mã cũ {g.old_code} không có trong danh mục 63 tỉnh."
            )
        if (CodeVersion.V2025, Level.COMMUNE, g.new_code) not in known:
            raise SourceError(
                f"{gso_path and gso_path.name}, dòng {g.line}: mã xã mới {g.new_code} không có trong danh mục 2025."
            )
    return Sources(units=units, mappings=merge_mappings(gso, library), skipped=skipped)
