"""Fixtures for the portal tests: the shipped forms, approved commune reports with chosen values, publishers."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest


@pytest.fixture
def forms(db) -> Any:
    from mchis.reports.services import forms_load, shipped_form_files

    return forms_load(actor=None, paths=shipped_form_files())


@pytest.fixture
def store_values(monkeypatch) -> Any:
    """{(unit id, month): {data element: value}}: what the analytics store computes for these unit-months in
    place of the registers (``analytics.store.compute_unit_month``; every other unit-month is computed for real).
    As in the store, a value is approved only while the unit's report of the month is approved."""
    from mchis.analytics import store
    from mchis.reports.models import ReportInstance
    from mchis.reports.selectors import APPROVED

    given: dict[tuple[int, date], dict[str, int]] = {}
    real = store.compute_unit_month

    def compute(unit: Any, month: date) -> Any:
        values = given.get((unit.pk, month))
        if values is None:
            return real(unit, month)
        approved = ReportInstance.objects.filter(unit=unit, period_start=month, status__in=APPROVED).exists()
        out = {e: (float(v), float(v) if approved else None) for e, v in values.items()}
        out["RPT.expected"] = (1.0, 1.0)
        if approved:
            out["APPROVED.any"] = (1.0, 1.0)
        return {e: v for e, v in out.items() if v[0] != 0 or (v[1] or 0) != 0}

    monkeypatch.setattr(store, "compute_unit_month", compute)
    return given


@pytest.fixture
def report(forms, store_values) -> Any:
    """report(unit, "2026-01", {"AN.DLV:total": 7, ...}, status="approved") -> a BCX3 ReportInstance, and the
    analytics store's values of that unit-month (``store_values``) marked dirty as a transition does: the portal
    reads only the store's approved values, bringing them up to date when it publishes."""
    from django.utils import timezone

    from mchis.analytics.store import mark_dirty
    from mchis.reports.models import FormDefinition, ReportInstance

    form = FormDefinition.objects.get(code="BCX3")

    def make(unit: Any, month: str, values: dict[str, int], status: str = "approved") -> Any:
        y, m = (int(x) for x in month.split("-"))
        frozen = status in ("submitted", "approved", "unapproval_requested")
        approved = status in ("approved", "unapproval_requested")
        obj, _ = ReportInstance.objects.update_or_create(
            form=form,
            unit=unit,
            period_start=date(y, m, 1),
            defaults={
                "period_type": "monthly",
                "status": status,
                "snapshot": {"values": {}} if frozen else None,
                "snapshot_checksum": "t" * 64 if frozen else "",
                "approved_at": timezone.now() if approved else None,
            },
        )
        store_values[(unit.pk, date(y, m, 1))] = dict(values)
        mark_dirty({(unit.pk, date(y, m, 1))})
        return obj

    return make


@pytest.fixture
def ministry_leader(tree, make_user) -> Any:
    return make_user("leader", tree.ministry_dept, "ld.byt")


@pytest.fixture
def province_leader(tree, make_user) -> Any:
    return make_user("leader", tree.doh_a, "ld.so.a")


def publish(
    actor: Any, periods: list[str], statistics: list[str] | None = None, levels: list[str] | None = None
) -> Any:
    from mchis.portal.services import publication_publish

    return publication_publish(
        actor=actor,
        title="Số liệu SKBMTE",
        statistics=statistics or ["deliveries", "anc4"],
        levels=levels or ["national", "province", "district"],
        periods=periods,
    )


@pytest.fixture
def wide(tree) -> Any:
    """Province A with a second district (TTYT A2 → TYT A3), so its district tables have two rows."""
    from mchis.places.models import AdminUnit, CodeVersion, Level
    from mchis.units.models import UnitKind
    from mchis.units.services import unit_create

    commune, _ = AdminUnit.objects.get_or_create(
        version=CodeVersion.V2025,
        level=Level.COMMUNE,
        code="02320",
        defaults={"name": "Xã Yên Sơn", "parent": tree.province_a},
    )
    ttyt = unit_create(
        actor=None, code="TTYT08-02", name="TTYT khu vực Yên Sơn", kind=UnitKind.TTYT, admin_unit=commune,
        parent=tree.cdc_a,
    )  # fmt: skip
    tyt = unit_create(
        actor=None, code="TYT02320", name="Trạm Y tế xã Yên Sơn", kind=UnitKind.TYT, admin_unit=commune,
        parent=ttyt,
    )  # fmt: skip
    return type("Wide", (), {"ttyt_a2": ttyt, "tyt_a3": tyt})


@pytest.fixture
def published(tree, wide, report, ministry_leader) -> Any:
    """Three months published nationally: province A's two districts, one with small counts."""
    for month, a1, a3, b1 in (("2026-01", 30, 3, 40), ("2026-02", 28, 9, 35), ("2026-03", 31, 2, 44)):
        report(tree.tyt_a1, month, {"AN.DLV:total": a1, "AN.DLV_ANC4:total": a1 - 5})
        report(wide.tyt_a3, month, {"AN.DLV:total": a3, "AN.DLV_ANC4:total": a3})
        report(tree.tyt_b1, month, {"AN.DLV:total": b1, "AN.DLV_ANC4:total": b1 - 2})
    return publish(ministry_leader, ["2026-01", "2026-02", "2026-03"])
