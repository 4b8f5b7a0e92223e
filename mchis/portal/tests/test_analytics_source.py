"""The portal publishes the analytics indicators (issue 15): the published figure is the analytics store's
approved value for the area, approvals and un-approvals reach it through the one report hook
(``core.changes.report_figures_changed``, ADR 0076), and a provisional value never appears."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest

from mchis.portal.models import PublishedFigure

from .conftest import publish

D, ANC4 = "AN.DLV:total", "AN.DLV_ANC4:total"


def fig(statistic: str, period: str, area: str) -> PublishedFigure:
    return PublishedFigure.objects.get(statistic=statistic, period=period, area_code=area)


def analytics_value(code: str, period: str, unit_code: str, *, approved: bool = True) -> float | None:
    from mchis.analytics.selectors import indicator_values

    (row,) = indicator_values(codes=[code], periods=[period], units=[unit_code], approved_only=approved)
    return row.value


def one_decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def test_catalogue_names_existing_analytics_indicators_and_elements(db):
    """Every public statistic resolves in the analytics catalogue (a renamed indicator fails here, not at a
    publication); a rate takes its name, definition and factor from the analytics indicator."""
    from mchis.analytics.selectors import element_list, indicator_get
    from mchis.portal.statistics import CATALOGUE

    elements = {e.id for e in element_list(day=date(2026, 1, 1))}
    for stat in CATALOGUE:
        if stat.kind == "rate":
            ind = indicator_get(stat.dx)
            assert ind is not None
            assert (stat.name, stat.definition, stat.factor) == (ind.name, ind.definition, ind.factor)
        else:
            assert stat.dx in elements and stat.factor == 1 and stat.name


def test_an_indicator_gone_from_analytics_is_refused_not_a_crash(tree, report, ministry_leader, monkeypatch):
    from mchis.core.errors import DomainError
    from mchis.portal import statistics

    report(tree.tyt_a1, "2026-01", {D: 30, ANC4: 21})
    monkeypatch.setattr(statistics, "indicator_get", lambda code: None)
    assert "anc4" not in {s.key for s in statistics.available()}
    with pytest.raises(DomainError, match="Chỉ tiêu không có trong danh mục: anc4"):
        publish(ministry_leader, ["2026-01"])


def test_r_an_03_published_figure_is_the_analytics_value_of_the_area(tree, wide, report, ministry_leader):
    report(tree.tyt_a1, "2026-01", {D: 9, ANC4: 7})
    report(tree.tyt_a2, "2026-01", {D: 30, ANC4: 21})
    report(wide.tyt_a3, "2026-01", {D: 25, ANC4: 19})
    report(tree.tyt_b1, "2026-01", {D: 41, ANC4: 29})
    report(tree.tyt_b1, "2026-02", {D: 40, ANC4: 33})
    publish(ministry_leader, ["2026-01", "2026-02"])
    # the store was only marked dirty (as by a transition): publishing brought it up to date before reading
    for area, unit in (("VN", "BYT"), ("08", "SYT08"), ("04", "SYT04"), ("TTYT08-01", "TTYT08-01")):
        for period, pe in (("2026-01", "202601"), ("2026", "2026")):  # the year: its published months only
            f = fig("anc4", period, area)
            assert f.value == one_decimal(analytics_value("ANC4", pe, unit)), (area, period)
            assert not f.suppressed
    f = fig("anc4", "2026-01", "08")
    assert (f.value, f.numerator, f.denominator) == (Decimal("73.4"), 47, 64)  # (7 + 21 + 19) / (9 + 30 + 25)
    assert fig("deliveries", "2026-01", "VN").value == Decimal(105)
    # the year over the published months: Σ numerators / Σ denominators, as analytics computes it
    assert fig("anc4", "2026", "04").value == Decimal("76.5")  # (29 + 33) / (41 + 40)


def test_r_an_03_provisional_values_never_appear(tree, report, ministry_leader):
    report(tree.tyt_a1, "2026-01", {D: 30, ANC4: 21})
    report(tree.tyt_a2, "2026-01", {D: 500, ANC4: 400}, status="submitted")  # provisional only
    report(tree.tyt_b1, "2026-01", {D: 70, ANC4: 70}, status="draft")
    publish(ministry_leader, ["2026-01"])
    assert analytics_value("ANC4", "202601", "SYT08", approved=False) == pytest.approx(79.43)  # 421 / 530
    assert fig("anc4", "2026-01", "08").value == Decimal("70.0")
    assert fig("deliveries", "2026-01", "VN").value == 30
    values = set(PublishedFigure.objects.values_list("value", flat=True))
    assert not values & {Decimal(530), Decimal(600), Decimal("79.4")}
    assert not PublishedFigure.objects.filter(area_code="04").exists()


@pytest.fixture
def lagging_worker(monkeypatch) -> list[str]:
    """The analytics worker has not run yet: queued recomputes wait (a broker with a busy worker)."""
    from mchis.analytics import store

    queued: list[str] = []
    monkeypatch.setattr(store, "enqueue", queued.append)
    return queued


def _workflow(tree: Any, make_user: Any) -> tuple[Any, Any, dict[str, str]]:
    reporter = make_user("reporter", tree.tyt_a1)
    approver = make_user("leader", tree.ttyt_a)
    return reporter, approver, {"form_code": "BCX3", "unit_code": tree.tyt_a1.code, "period": "2026-01"}


def test_r_an_03_unapproval_reviews_and_reapproval_revises_from_the_analytics_store(
    tree, forms, make_user, store_values, lagging_worker, django_capture_on_commit_callbacks
):
    """Real transitions through the one hook: the figure follows the store's approved value, even when the
    worker lags (the portal brings the unit-month up to date before it revises)."""
    from mchis.accounts.testing import stepped_up
    from mchis.core.models import AuditEvent
    from mchis.reports import services as reports
    from mchis.reports.tests.registerdata import submit

    reporter, approver, args = _workflow(tree, make_user)
    month = date(2026, 1, 1)
    store_values[(tree.tyt_a1.pk, month)] = {D: 40, ANC4: 30}
    with stepped_up(), django_capture_on_commit_callbacks(execute=True):
        submit(actor=reporter, warning_comment="kiểm tra", **args)
        reports.report_approve(actor=approver, **args)
    assert lagging_worker  # the recompute was queued, not run
    publish(make_user("leader", tree.ministry_dept), ["2026-01"], statistics=["anc4", "deliveries"])
    f = fig("anc4", "2026-01", "08")
    assert f.value == Decimal("75.0") == one_decimal(analytics_value("ANC4", "202601", "SYT08"))

    with stepped_up(), django_capture_on_commit_callbacks(execute=True):
        reports.report_request_unapproval(actor=reporter, reason="Sai số khám thai", **args)
        reports.report_unapprove(actor=approver, reason="Sai số khám thai", **args)
    f = fig("anc4", "2026-01", "08")
    assert f.under_review_since is not None and f.value == Decimal("75.0") and f.revised_on is None
    store_values[(tree.tyt_a1.pk, month)] = {D: 40, ANC4: 34}  # corrected; provisional while not approved
    with stepped_up(), django_capture_on_commit_callbacks(execute=True):
        submit(actor=reporter, warning_comment="kiểm tra", **args)
    assert fig("anc4", "2026-01", "08").value == Decimal("75.0")  # the provisional 85.0 never appears
    with stepped_up(), django_capture_on_commit_callbacks(execute=True):
        reports.report_approve(actor=approver, **args)
    f = fig("anc4", "2026-01", "08")
    assert (f.value, f.previous_value, f.under_review_since) == (Decimal("85.0"), Decimal("75.0"), None)
    assert f.revised_on is not None
    assert f.value == one_decimal(analytics_value("ANC4", "202601", "SYT08"))
    assert fig("anc4", "2026", "VN").value == Decimal("85.0")
    assert fig("deliveries", "2026-01", "08").revised_on is None  # unchanged: not a revision
    assert AuditEvent.objects.filter(action="portal.follow_approve").exists()


def test_one_hook_carries_the_report_event_to_analytics_and_portal(tree, forms, make_user, monkeypatch):
    """reports calls core.changes.report_figures_changed once per transition: analytics in the transaction,
    the portal only after the commit (a rolled-back approval reaches neither)."""
    from django.db import transaction

    from mchis.accounts.testing import stepped_up
    from mchis.analytics.models import DirtyUnitMonth
    from mchis.core import changes
    from mchis.reports import services as reports
    from mchis.reports.tests.registerdata import submit

    seen: list[Any] = []
    monkeypatch.setattr(changes, "_after_commit", [seen.append])
    reporter, approver, args = _workflow(tree, make_user)
    with stepped_up():
        submit(actor=reporter, warning_comment="kiểm tra", **args)
        DirtyUnitMonth.objects.all().delete()
        with pytest.raises(RuntimeError, match="rolled back"), transaction.atomic():
            reports.report_approve(actor=approver, **args)
            assert DirtyUnitMonth.objects.filter(unit=tree.tyt_a1, month=date(2026, 1, 1)).exists()
            raise RuntimeError("rolled back")
    assert not DirtyUnitMonth.objects.exists() and seen == []
