"""Boundary changes (R-ORG-01): a pre-2025 commune report re-aggregated into its 2025 commune."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from mchis.core.principal import Principal
from mchis.core.scoping import visible_to
from mchis.places.models import CommuneMapping, MappingKind
from mchis.units.models import ReportingUnit, UnitPlacement

from ..compute import Number
from .view import ReportView, build_view

BOUNDARY_DATE = date(2025, 7, 1)
SPLIT_RULE = (
    "Quy đổi sang đơn vị hành chính 2025: cộng báo cáo của mọi đơn vị cùng loại đã hoạt động trong kỳ và nay đặt "
    "tại xã mới (xã cũ nhập toàn bộ: cộng đủ). Xã cũ bị chia (Nhập một phần): toàn bộ số liệu của trạm cũ được "
    "tính cho xã mới mặc định — xã nhận trụ sở trạm (CommuneMapping.is_default), nơi trạm được đặt khi chuyển "
    "sang mô hình 2 cấp; các xã mới khác nhận một phần xã cũ đó không được cộng phần nào."
)


@dataclass
class Reaggregated:
    values: dict[str, Number]
    parts: list[tuple[ReportingUnit, str, str, bool]]  # (unit, how it maps, report status, counted)
    old_communes: list[tuple[str, str, bool]]  # (old commune, mapping kind, is default) from CommuneMapping
    rule: str = SPLIT_RULE


def reaggregate_to_2025(principal: Principal, view: ReportView) -> Reaggregated | None:
    """A pre-2025 commune report re-aggregated into the 2025 commune where `view.unit` now sits (R-ORG-01).

    Units keep their history (dated placements); each unit is located in a 2025 commune (for a station of a
    split old commune: the default new commune of CommuneMapping). The re-aggregated value of a cell is the sum
    over the units of the form's kinds that existed on the period's first day and sit in that 2025 commune:
    frozen values where they submitted, live values otherwise. CommuneMapping lists the old communes merged
    into the new one, so the page can show which were split (docs/decisions/0021). Only units the principal
    sees are summed (R-SEC-01): a unit located in someone else's commune reveals nothing of theirs.
    """
    if view.form.level != "commune" or view.period.start >= BOUNDARY_DATE:
        return None
    existed = UnitPlacement.objects.on(view.period.start).values_list("unit_id", flat=True)
    units = list(
        visible_to(ReportingUnit.objects.all(), principal)
        .filter(pk__in=list(existed), admin_unit=view.unit.admin_unit, kind__in=view.form.unit_kinds)
        .order_by("code")
    )
    mappings = (
        CommuneMapping.objects.filter(new=view.unit.admin_unit).select_related("old").order_by("old__code")
    )
    totals: dict[str, Number] = {}
    parts = []
    for unit in units:
        sub = build_view(view.form, unit, view.period)
        parts.append((unit, "cùng xã mới", sub.status, True))
        for k, v in sub.values.items():
            totals[k] = totals.get(k, 0) + v
    old = [(m.old.name, str(MappingKind(m.kind).label), m.is_default) for m in mappings]
    return Reaggregated({c.key: totals.get(c.key, 0) for c in view.spec.cells}, parts, old)
