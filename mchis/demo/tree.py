"""The demo reporting-unit tree and villages of one 2025 province (R-ORG-02), built through the services.

Bộ Y tế → Vụ Sức khỏe Bà mẹ - Trẻ em → Sở Y tế → CDC tỉnh (+ bệnh viện tỉnh) → TTYT khu vực
(+ bệnh viện khu vực) → TYT per 2025 commune; UBND xã per commune and a child-protection facility
under the Sở. Every unit is get-or-created by its stable code, so a re-run adds nothing.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from mchis.places.models import AdminUnit, CodeVersion, CommuneMapping, Level, MappingKind, Village
from mchis.places.services import village_create
from mchis.units.models import ReportingUnit, UnitKind
from mchis.units.services import unit_create

from .regions import REGION, village_name_parts, village_plan

MINISTRY_CODE = "BYT"
MINISTRY_DEPT_CODE = "BYT-BMTE"
BLOCK_SIZE = 9  # communes per TTYT when the old districts are unknown
_UNIT_PREFIXES = ("Huyện ", "Thị xã ", "Thành phố ", "Quận ", "Tỉnh ")
_COMMUNE_PREFIXES = ("Đặc khu ", "Phường ", "Xã ", "Thị trấn ")


@dataclass(frozen=True)
class CommuneOrigin:
    """Where a 2025 commune mostly came from: the pre-2025 district and province (by mapping rows)."""

    district_code: str
    district_name: str
    province_code: str  # pre-2025 2-digit code


def short_name(name: str, prefixes: tuple[str, ...] = _UNIT_PREFIXES) -> str:
    for prefix in prefixes:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def commune_label(commune: AdminUnit) -> str:
    """'Phường Ba Đình' → 'phường Ba Đình' (as it reads after 'Trạm Y tế')."""
    for prefix in _COMMUNE_PREFIXES:
        if commune.name.startswith(prefix):
            return prefix.lower() + commune.name[len(prefix) :]
    return commune.name


def commune_origins(communes: list[AdminUnit]) -> dict[int, CommuneOrigin]:
    """New commune id → the old district most of it came from (whole merges weigh more than splits)."""
    rows = CommuneMapping.objects.filter(new__in=communes).values_list(
        "new_id", "kind", "old__level", "old__code", "old__name", "old__parent__code", "old__parent__name",
        "old__parent__parent__code",
    )  # fmt: skip
    votes: dict[int, dict[tuple[str, str, str], float]] = defaultdict(lambda: defaultdict(float))
    for new_id, kind, level, code, name, parent_code, parent_name, grand_code in rows:
        if level == Level.DISTRICT:  # island district without communes
            key = (code, name, parent_code or "")
        else:
            key = (parent_code or "", parent_name or "", grand_code or "")
        votes[new_id][key] += 0.5 if kind == MappingKind.PARTIAL else 1.0
    origins: dict[int, CommuneOrigin] = {}
    for new_id, tally in votes.items():
        (district_code, district_name, province_code), _ = max(tally.items(), key=lambda kv: (kv[1], kv[0]))
        if district_code:
            origins[new_id] = CommuneOrigin(district_code, district_name, province_code)
    return origins


@dataclass
class ProvinceTree:
    province: AdminUnit
    doh: ReportingUnit
    tyt_of_commune: dict[int, ReportingUnit]
    ttyt_of_commune: dict[int, ReportingUnit]
    cdc: ReportingUnit
    ministry: ReportingUnit
    origins: dict[int, CommuneOrigin]
    units_created: int
    villages_created: int


def _ensure(
    created: list[int],
    *,
    code: str,
    name: str,
    kind: str,
    admin_unit: AdminUnit,
    parent: ReportingUnit | None,
) -> ReportingUnit:
    existing = ReportingUnit.objects.filter(code=code).first()
    if existing is not None:
        return existing
    created.append(1)
    return unit_create(actor=None, code=code, name=name, kind=kind, admin_unit=admin_unit, parent=parent)


def province_communes(province: AdminUnit) -> list[AdminUnit]:
    return list(AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.COMMUNE, parent=province).order_by("code"))  # fmt: skip


def ensure_tree(*, province: AdminUnit, seed_for_villages: int = 0) -> ProvinceTree:
    """Build (once) the reporting units and villages of `province`. Caller holds the transaction."""
    created: list[int] = []
    communes = province_communes(province)
    hanoi = AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.PROVINCE, code="01").first()
    seat = hanoi or province
    pname = short_name(province.name)
    pc = province.code
    ministry = _ensure(created, code=MINISTRY_CODE, name="Bộ Y tế", kind=UnitKind.MINISTRY, admin_unit=seat, parent=None)  # fmt: skip
    dept = _ensure(created, code=MINISTRY_DEPT_CODE, name="Vụ Sức khỏe Bà mẹ - Trẻ em", kind=UnitKind.MINISTRY_DEPT, admin_unit=seat, parent=ministry)  # fmt: skip
    doh = _ensure(created, code=f"SYT{pc}", name=f"Sở Y tế {pname}", kind=UnitKind.DOH, admin_unit=province, parent=dept)  # fmt: skip
    cdc = _ensure(created, code=f"CDC{pc}", name=f"Trung tâm Kiểm soát bệnh tật {pname}", kind=UnitKind.CDC, admin_unit=province, parent=doh)  # fmt: skip
    _ensure(created, code=f"BVDK{pc}", name=f"Bệnh viện Đa khoa tỉnh {pname}", kind=UnitKind.PROVINCIAL_HOSPITAL, admin_unit=province, parent=cdc)  # fmt: skip
    _ensure(created, code=f"BVSN{pc}", name=f"Bệnh viện Sản - Nhi {pname}", kind=UnitKind.PROVINCIAL_HOSPITAL, admin_unit=province, parent=cdc)  # fmt: skip
    _ensure(created, code=f"CTXH{pc}", name=f"Trung tâm Công tác xã hội {pname}", kind=UnitKind.CHILD_PROTECTION, admin_unit=province, parent=doh)  # fmt: skip

    origins = commune_origins(communes)
    groups: dict[tuple[str, str], list[AdminUnit]] = defaultdict(list)
    unknown = [c for c in communes if c.pk not in origins]
    for commune in communes:
        origin = origins.get(commune.pk)
        if origin:
            groups[(origin.district_code, short_name(origin.district_name))].append(commune)
    for start in range(0, len(unknown), BLOCK_SIZE):
        block = unknown[start : start + BLOCK_SIZE]
        groups[(f"K{start // BLOCK_SIZE + 1:02d}", short_name(block[0].name, _COMMUNE_PREFIXES))].extend(
            block
        )

    tyt_of: dict[int, ReportingUnit] = {}
    ttyt_of: dict[int, ReportingUnit] = {}
    for index, ((key, label), members) in enumerate(sorted(groups.items())):
        ttyt = _ensure(created, code=f"TTYT{pc}-{key}", name=f"Trung tâm Y tế khu vực {label}", kind=UnitKind.TTYT, admin_unit=members[0], parent=cdc)  # fmt: skip
        if index % 3 == 0:
            _ensure(created, code=f"BVKV{pc}-{key}", name=f"Bệnh viện Đa khoa khu vực {label}", kind=UnitKind.DISTRICT_HOSPITAL, admin_unit=members[0], parent=ttyt)  # fmt: skip
        for commune in members:
            label_c = commune_label(commune)
            tyt_of[commune.pk] = _ensure(created, code=f"TYT{commune.code}", name=f"Trạm Y tế {label_c}", kind=UnitKind.TYT, admin_unit=commune, parent=ttyt)  # fmt: skip
            ttyt_of[commune.pk] = ttyt
            _ensure(created, code=f"UBND{commune.code}", name=f"UBND {label_c}", kind=UnitKind.COMMUNE_COMMITTEE, admin_unit=commune, parent=doh)  # fmt: skip

    villages = _ensure_villages(province, communes, seed_for_villages)
    return ProvinceTree(province, doh, tyt_of, ttyt_of, cdc, ministry, origins, len(created), villages)


def _ensure_villages(province: AdminUnit, communes: list[AdminUnit], seed: int) -> int:
    """5-15 villages per commune that has none yet; kind and names follow the region and commune type."""
    with_villages = set(Village.objects.filter(commune__in=communes).values_list("commune_id", flat=True))
    region = REGION.get(province.code, "central")
    created = 0
    for commune in communes:
        if commune.pk in with_villages:
            continue
        rng = random.Random(f"villages:{commune.code}:{seed}")
        kind, label, naming = village_plan(
            region, commune.division_type or commune.name.split(" ")[0].lower()
        )
        count = rng.randint(5, 15)
        names = _village_names(rng, region, naming, label, count)
        for name, vkind in names:
            village_create(actor=None, commune=commune, name=name, kind=vkind or kind)
            created += 1
    return created


def _village_names(
    rng: random.Random, region: str, naming: str, label: str, count: int
) -> list[tuple[str, str]]:
    # Village.__str__ prefixes the kind ("Thôn Phú Lộc"), so the name carries the label only for "other".
    if naming == "number":
        return [(f"{label} {n}" if label == "Khu phố" else f"số {n}", "") for n in range(1, count + 1)]
    first, second = village_name_parts(region, naming)
    names: list[tuple[str, str]] = []
    seen: set[str] = set()
    number = 0
    while len(names) < count:
        if naming == "highland" and rng.random() < 0.5:
            number += 1
            candidate, kind = f"số {number}", "thon"
        elif naming == "highland":
            candidate, kind = f"{rng.choice(first)} {rng.choice(second)}", "other"
        else:
            a, b = rng.choice(first), rng.choice(second)
            if a == b:
                continue
            candidate, kind = f"{a} {b}" if rng.random() < 0.75 else a, ""
        if candidate.lower() not in seen:
            seen.add(candidate.lower())
            names.append((candidate, kind))
        elif len(seen) > 200:
            number += 1
            names.append((f"số {number}", kind))
    return names


def any_unit(tree: ProvinceTree) -> Any:
    return tree.doh
