"""Data-quality rule "one event, one truth across registers" (issue 12.7, R-MCH-08).

A stillbirth is recorded in the delivery register (newborn outcome) and a fetal death in the death register; a
maternal death in a delivery outcome and in the death register. The report counts each event once
(``matching``); this rule lists the events the two registers disagree on, so the facility corrects them:

* ``stillbirth-not-in-death-register``  — a stillbirth in the delivery register with no fetal-death record;
* ``fetal-death-not-in-delivery-register`` — a fetal death that happened at the facility (``place =
  at_facility``) whose stillbirth the facility's delivery register does not hold;
* ``maternal-death-not-in-death-register`` — a delivery marked ``maternal_death`` with no maternal-death record.

Shown on the report page, returned by the API, and a warning at submission (an explanation is needed).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Exists, OuterRef

from mchis.registers.models import Death, Delivery, Newborn, PlaceOfService
from mchis.units.provinces import province_code_of

from ..checks import Finding
from ..definitions import FormSpec, Query
from ..matching import same_person, within_a_day
from ..periods import Period


@dataclass(frozen=True)
class Disagreement:
    rule: str
    register: str
    record_id: int
    event_date: str
    name: str
    message: str

    def finding(self) -> Finding:
        text = f"{self.message} ({self.name}, {self.event_date})"
        return Finding(f"R-MCH-08:{self.rule}", "warning", text, 0, 0, f"{self.register}#{self.record_id}")


def _queries(spec: FormSpec) -> list[Query]:
    out = []
    for cell in spec.cells:
        q = cell.query
        while q is not None:
            out.append(q)
            q = q.also
    return out


def checks_registers(spec: FormSpec) -> bool:
    """Forms with a cell counted across two registers (``unless``) run this rule."""
    return any(q.unless for q in _queries(spec))


def register_disagreements(unit_id: int, period: Period) -> list[Disagreement]:
    """Events of one facility's month that its delivery and death registers disagree on."""
    month = period.start
    province = province_code_of(unit_id)  # named: the registers are partitioned by it (ADR 0075)
    out: list[Disagreement] = []
    # the stillbirth's person is its mother: the delivery row (a fetal death's subject is the mother too)
    fetal_death = Death.objects.filter(
        same_person(outer="delivery__"),
        within_a_day(),
        facility=OuterRef("facility"),
        province_code=OuterRef("province_code"),
        death_kind="fetal",
        voided_at__isnull=True,
    )
    for nb in (
        Newborn.objects.filter(
            facility=unit_id,
            province_code=province,
            month=month,
            outcome="stillbirth",
            delivery__voided_at__isnull=True,
        )
        .annotate(recorded=Exists(fetal_death))
        .filter(recorded=False)
        .select_related("delivery")
        .order_by("event_date", "pk")
    ):
        out.append(  # noqa: PERF401
            Disagreement(
                "stillbirth-not-in-death-register",
                "delivery",
                nb.delivery.pk,
                f"{nb.event_date:%d/%m/%Y}",
                nb.delivery.full_name,
                "Thai chết lưu ghi ở sổ đẻ nhưng chưa có trong sổ tử vong (tử vong thai nhi)",
            )
        )
    in_delivery = Newborn.objects.filter(
        same_person("delivery__"),
        within_a_day(),
        facility=OuterRef("facility"),
        province_code=OuterRef("province_code"),
        outcome="stillbirth",
        delivery__voided_at__isnull=True,
    )
    for death in (
        Death.objects.filter(
            facility=unit_id,
            province_code=province,
            month=month,
            death_kind="fetal",
            place=PlaceOfService.AT_FACILITY,
            voided_at__isnull=True,
        )
        .annotate(recorded=Exists(in_delivery))
        .filter(recorded=False)
        .order_by("event_date", "pk")
    ):
        out.append(  # noqa: PERF401
            Disagreement(
                "fetal-death-not-in-delivery-register",
                "death",
                death.pk,
                f"{death.event_date:%d/%m/%Y}",
                death.full_name,
                "Tử vong thai nhi tại cơ sở nhưng sổ đẻ của cơ sở không có ca thai chết lưu này",
            )
        )
    maternal = Death.objects.filter(
        same_person(),
        within_a_day(),
        facility=OuterRef("facility"),
        province_code=OuterRef("province_code"),
        death_kind="maternal",
        voided_at__isnull=True,
    )
    for d in (
        Delivery.objects.filter(
            facility=unit_id, province_code=province, month=month, maternal_death=True, voided_at__isnull=True
        )
        .annotate(recorded=Exists(maternal))
        .filter(recorded=False)
        .order_by("event_date", "pk")
    ):
        out.append(  # noqa: PERF401
            Disagreement(
                "maternal-death-not-in-death-register",
                "delivery",
                d.pk,
                f"{d.event_date:%d/%m/%Y}",
                d.full_name,
                "Sổ đẻ ghi mẹ tử vong nhưng sổ tử vong chưa có trường hợp tử vong mẹ này",
            )
        )
    return out
