"""The analytics store is kept current by the write paths (issue 15 item 2): every register write path and
every report transition marks its unit-month dirty; the recompute applies only differences up the tree;
approved and provisional values are both kept (the switch)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from mchis.analytics import selectors
from mchis.analytics.models import DirtyUnitMonth, RollupValue, UnitMonthValue
from mchis.analytics.store import rebuild_rollups, recompute_unit_month
from mchis.quality.scores import refresh_unit_scores
from mchis.registers import models as R
from mchis.registers.models import BatchChannel
from mchis.registers.services import record_save, record_void, records_upsert, upload_commit
from mchis.registers.tests.conftest import anc, delivery
from mchis.registers.tests.test_excel import anc_sheet, preview, to_bytes
from mchis.reports import services as rs
from mchis.reports.tests.registerdata import rec, submit

P = "2026-01"
JAN = date(2026, 1, 1)


def dirty(unit) -> set[date]:
    return set(DirtyUnitMonth.objects.filter(unit=unit).values_list("month", flat=True))


@pytest.fixture
def collector(tree, make_user):
    return make_user("collector", tree.tyt_a1)


@pytest.fixture
def people(tree, make_user):
    class People:
        tyt_reporter = make_user("reporter", tree.tyt_a1)
        ttyt_leader = make_user("leader", tree.ttyt_a)

    return People


def this_month() -> date:
    return (date.today() - timedelta(days=3)).replace(day=1)


def test_bulk_api_write_marks_the_unit_month_dirty(tree, collector):
    records_upsert(actor=collector, register="anc", records=[anc()], channel=BatchChannel.API)
    assert this_month() in dirty(tree.tyt_a1)
    assert not dirty(tree.tyt_a2)


def test_web_form_write_marks_dirty_and_delivery_dates_too(tree, collector):
    pp = (date.today() - timedelta(days=1)).isoformat()
    saved, errors = record_save(actor=collector, register="delivery", data=delivery(postpartum_week1_date=pp))
    assert not errors and saved is not None
    assert this_month() in dirty(tree.tyt_a1)


def test_update_moving_a_record_marks_the_old_month_too(tree, collector):
    old_day = date.today() - timedelta(days=40)
    records_upsert(actor=collector, register="anc", records=[anc(event_date=old_day.isoformat())])
    DirtyUnitMonth.objects.all().delete()
    records_upsert(actor=collector, register="anc", records=[anc()])  # same key, another month
    assert {old_day.replace(day=1), this_month()} <= dirty(tree.tyt_a1)


def test_a_write_marks_its_reporting_months_not_every_date_of_the_record(tree, collector):
    """The record's month and its register's period dates (postnatal visits) — not the mother's date of birth
    (that marked ~2 unit-months per record for the worker); moving a postnatal visit marks its old month too."""
    records_upsert(actor=collector, register="anc", records=[anc(dob="1990-06-15")], channel=BatchChannel.API)
    assert dirty(tree.tyt_a1) == {this_month()}
    DirtyUnitMonth.objects.all().delete()
    birth = this_month() - timedelta(days=1)  # the last day of last month
    last_month = birth.replace(day=1)
    first = delivery(
        rid="pp-1",
        event_date=birth.isoformat(),
        postpartum_week1_date=(birth + timedelta(days=2)).isoformat(),
    )
    records_upsert(actor=collector, register="delivery", records=[first], channel=BatchChannel.API)
    assert dirty(tree.tyt_a1) == {last_month, this_month()}  # born last month, visited this month
    DirtyUnitMonth.objects.all().delete()
    moved = {**first, "postpartum_week1_date": birth.isoformat()}  # the visit moved back into last month
    records_upsert(actor=collector, register="delivery", records=[moved], channel=BatchChannel.API)
    assert dirty(tree.tyt_a1) == {last_month, this_month()}  # the visit's old month is marked too


@pytest.mark.usefixtures("media")
def test_excel_upload_commit_marks_dirty(tree, collector):
    day = date.today() - timedelta(days=5)
    rows = [[tree.tyt_a1.code, day.strftime("%d/%m/%Y"), "Lê Thị Lan", "01/01/1990", "01", "", 8]]
    upload_commit(actor=collector, upload=preview(collector, tree.tyt_a1, to_bytes(anc_sheet(rows))))
    assert day.replace(day=1) in dirty(tree.tyt_a1)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_void_marks_dirty(tree, collector):
    result = records_upsert(actor=collector, register="anc", records=[anc()])
    DirtyUnitMonth.objects.all().delete()
    record_void(actor=collector, register="anc", record_id=result.rows[0]["id"], reason="Nhập trùng")
    assert this_month() in dirty(tree.tyt_a1)


def test_every_report_transition_and_manual_edit_marks_dirty(forms, tree, people):
    kw = {"form_code": "BCX3", "unit_code": tree.tyt_a1.code, "period": P}
    rs.report_set_manual_values(actor=people.tyt_reporter, values={"I.1:total": 9}, **kw)
    assert dirty(tree.tyt_a1) == {JAN}
    for step in (
        lambda: submit(actor=people.tyt_reporter, **kw),
        lambda: rs.report_return(actor=people.ttyt_leader, reason="Thiếu số", **kw),
        lambda: submit(actor=people.tyt_reporter, **kw),
        lambda: rs.report_approve(actor=people.ttyt_leader, **kw),
        lambda: rs.report_request_unapproval(actor=people.tyt_reporter, reason="Sai", **kw),
        lambda: rs.report_unapprove(actor=people.ttyt_leader, reason="Đồng ý", **kw),
    ):
        DirtyUnitMonth.objects.all().delete()
        step()
        assert dirty(tree.tyt_a1) == {JAN}


def test_quality_score_refresh_marks_dirty(tree):
    refresh_unit_scores(unit_ids=[tree.tyt_a2.pk], month=JAN)
    assert dirty(tree.tyt_a2) == {JAN}


def test_write_reaches_the_provisional_store_after_commit(
    tree, collector, forms, django_capture_on_commit_callbacks
):
    """Without a broker (tests, demo) the queued recompute runs in place right after the commit."""
    with django_capture_on_commit_callbacks(execute=True):
        records_upsert(actor=collector, register="delivery", records=[delivery()])
    assert not DirtyUnitMonth.objects.exists()
    pe = selectors.month_item(this_month())
    items = selectors.parse_dx("AN.DLV:total;AN.LIVE:total")
    rows = selectors.compute(items, [pe], [tree.tyt_a1, tree.ministry], approved=False).lookup()
    assert rows[("AN.DLV:total", pe.id, "BYT")].value == 1
    assert rows[("AN.LIVE:total", pe.id, "TYT02269")].value == 1


def test_r_an_01_approved_and_provisional_switch(forms, tree, people, recompute):
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 9), place="at_facility", anc_4_in_3_trimesters=True)
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 9), place="at_facility")
    recompute_unit_month(tree.tyt_a1.pk, JAN)
    pe = selectors.parse_periods("202601")
    items = selectors.parse_dx("ANC4;AN.DLV:total;BCX3.I.5:total")

    def at(approved):
        return selectors.compute(items, pe, [tree.tyt_a1, tree.ttyt_a], approved=approved).lookup()

    assert at(False)[("ANC4", "202601", "TYT02269")].value == 50.0
    assert at(True)[("ANC4", "202601", "TYT02269")].value is None  # nothing approved yet
    assert at(True)[("AN.DLV:total", "202601", "TTYT08-01")].value is None
    kw = {"form_code": "BCX3", "unit_code": tree.tyt_a1.code, "period": P}
    submit(actor=people.tyt_reporter, warning_comment="Trẻ ghi ở sổ khác", **kw)
    rs.report_approve(actor=people.ttyt_leader, **kw)
    recompute()
    assert at(True)[("ANC4", "202601", "TYT02269")].value == 50.0
    assert at(True)[("BCX3.I.5:total", "202601", "TYT02269")].value == 2
    assert at(True)[("AN.DLV:total", "202601", "TTYT08-01")].value == 2
    rs.report_request_unapproval(actor=people.tyt_reporter, reason="Sai", **kw)
    rs.report_unapprove(actor=people.ttyt_leader, reason="Đồng ý", **kw)
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 12), place="at_facility")  # a correction after un-approval
    DirtyUnitMonth.objects.get_or_create(
        unit=tree.tyt_a1, month=JAN, defaults={"marked_at": "2026-02-01T00:00Z"}
    )
    recompute()
    assert at(True)[("ANC4", "202601", "TYT02269")].value is None
    assert at(False)[("ANC4", "202601", "TYT02269")].value == pytest.approx(33.33)


def test_recompute_applies_differences_and_matches_a_full_rebuild(forms, tree, recompute):
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 9), place="at_facility")
    rec(R.Delivery, tree.tyt_a2, date(2026, 1, 9), place="at_facility")
    assert recompute_unit_month(tree.tyt_a1.pk, JAN) > 0
    recompute_unit_month(tree.tyt_a2.pk, JAN)
    assert recompute_unit_month(tree.tyt_a1.pk, JAN) == 0  # nothing changed: nothing written
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 19), place="outside")
    recompute_unit_month(tree.tyt_a1.pk, JAN)
    recompute()  # the worker: the report cells of the provinces the recomputes marked (ADR 0077)
    live = {
        (n, e, m): (p, a)
        for n, e, m, p, a in RollupValue.objects.values_list(
            "node_id", "element", "month", "provisional", "approved"
        )
        if p or a
    }
    assert live[(tree.ministry.pk, "AN.DLV:total", JAN)] == (3, 0)
    rebuild_rollups()
    rebuilt = {
        (n, e, m): (p, a)
        for n, e, m, p, a in RollupValue.objects.values_list(
            "node_id", "element", "month", "provisional", "approved"
        )
        if p or a
    }
    assert rebuilt == live
    assert UnitMonthValue.objects.filter(unit=tree.tyt_a1, element="AN.DLV_HOME:total").get().provisional == 1


def test_completeness_and_timeliness_counts(forms, tree, people, recompute):
    kw = {"form_code": "BCX3", "unit_code": tree.tyt_a1.code, "period": P}
    submit(actor=people.tyt_reporter, **kw)  # late: January's deadline was 5 February
    recompute_unit_month(tree.tyt_a2.pk, JAN)  # a station that sent nothing still counts as expected
    recompute()
    got = selectors.compute(
        selectors.parse_dx("COMPLETENESS;TIMELINESS"),
        selectors.parse_periods("202601"),
        [tree.ttyt_a],
        approved=True,
    ).lookup()
    assert got[("COMPLETENESS", "202601", "TTYT08-01")].value == 50.0
    assert got[("TIMELINESS", "202601", "TTYT08-01")].value == 0.0


def test_rebuild_command_recomputes_and_refuses_bad_input(forms, tree):
    from django.core.management import CommandError, call_command

    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 9), place="at_facility")
    call_command("analytics_rebuild", pe="202601", unit=[tree.tyt_a1.code])
    assert RollupValue.objects.get(node=tree.ministry, element="AN.DLV:total", month=JAN).provisional == 1
    call_command("analytics_rebuild", rollups=True)
    assert RollupValue.objects.get(node=tree.ministry, element="AN.DLV:total", month=JAN).provisional == 1
    with pytest.raises(CommandError, match="Không có đơn vị"):
        call_command("analytics_rebuild", pe="202601", unit=["NOPE"])
    with pytest.raises(CommandError, match="không hợp lệ"):
        call_command("analytics_rebuild", pe="2026-13")


def test_mark_dirty_fast_path_writes_the_rows_of_the_general_path(tree, monkeypatch):
    """PostgreSQL marks through one INSERT … unnest (issue 20); the other backends through bulk_create: the
    same rows either way, days folded into their month, and a pair already dirty keeps its first marked_at."""
    from django.db import connection, transaction

    from mchis.analytics import store

    first = date(2026, 2, 1)
    DirtyUnitMonth.objects.create(unit=tree.tyt_a1, month=first, marked_at=timezone.now() - timedelta(days=2))
    kept = DirtyUnitMonth.objects.get(unit=tree.tyt_a1, month=first).marked_at
    pairs = {(tree.tyt_a1.pk, date(2026, 2, 17)), (tree.tyt_a1.pk, date(2026, 3, 5)),
             (tree.tyt_a2.pk, date(2026, 3, 31)), (tree.tyt_a2.pk, date(2026, 3, 1))}  # fmt: skip
    expected = {
        (tree.tyt_a1.pk, first),
        (tree.tyt_a1.pk, date(2026, 3, 1)),
        (tree.tyt_a2.pk, date(2026, 3, 1)),
    }

    def rows() -> set[tuple[int, date]]:
        return set(DirtyUnitMonth.objects.values_list("unit_id", "month"))

    for vendor in {connection.vendor, "other"}:  # the running backend's path, then the general one
        DirtyUnitMonth.objects.exclude(month=first).delete()
        monkeypatch.setattr(connection, "vendor", vendor)
        with transaction.atomic():
            store.mark_dirty(pairs)
        monkeypatch.undo()
        assert rows() == expected
        assert DirtyUnitMonth.objects.get(unit=tree.tyt_a1, month=first).marked_at == kept


@pytest.mark.django_db(transaction=True)
def test_recompute_without_a_broker_drains_a_nation_of_dirty_months_without_nesting(tree):
    """With no broker a queued task runs in place. A recompute marks coverage and roll-ups, which used to queue
    the recompute again: each ran inside the previous one's commit, one level per unit-month, and a national
    generation (thousands of unit-months) died of RecursionError. Now the running drain takes them itself."""
    import sys

    from mchis.analytics import store
    from mchis.analytics.models import DirtyCoverage, DirtyRollup

    months = [date(2000 + n // 12, 1 + n % 12, 1) for n in range(120)]
    now = timezone.now()
    DirtyUnitMonth.objects.bulk_create(  # as a bulk import leaves them, before its commit queues the recompute
        [DirtyUnitMonth(unit=u, month=m, marked_at=now) for u in (tree.tyt_a1, tree.tyt_a2) for m in months]
    )
    old_limit = sys.getrecursionlimit()
    sys.setrecursionlimit(400)  # far above one drain's depth, far below one level per unit-month
    try:
        assert store.recompute_dirty(limit=10_000) == 240
    finally:
        sys.setrecursionlimit(old_limit)
    assert not DirtyUnitMonth.objects.exists()
    assert not DirtyCoverage.objects.exists() and not DirtyRollup.objects.exists()
