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
def report(forms) -> Any:
    """report(unit, "2026-01", {"I.5:total": 7, ...}, status="approved") -> a BCX3 ReportInstance whose frozen
    values are the given cells (the portal reads only frozen values of approved reports)."""
    from django.utils import timezone

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
                "snapshot": {"values": values} if frozen else None,
                "snapshot_checksum": "t" * 64 if frozen else "",
                "approved_at": timezone.now() if approved else None,
            },
        )
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
        report(tree.tyt_a1, month, {"I.5:total": a1, "I.5.2:total": a1 - 5})
        report(wide.tyt_a3, month, {"I.5:total": a3, "I.5.2:total": a3})
        report(tree.tyt_b1, month, {"I.5:total": b1, "I.5.2:total": b1 - 2})
    return publish(ministry_leader, ["2026-01", "2026-02", "2026-03"])
