"""R-MCH-03 / R-MCH-05: a register record is voided with a reason (one service, audit row, web page and
``DELETE /api/v1/registers/{register}/records/{id}``); a voided record leaves every report at once, the
history keeps it; refused in a locked (approved) month; voiding twice is a precise error."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client

from mchis.core.errors import Conflict, DomainError
from mchis.core.models import AuditEvent
from mchis.registers.models import Delivery, Newborn
from mchis.registers.services import record_void, records_upsert
from mchis.reports import selectors
from mchis.reports import services as s

from .registerdata import submit

DAY = date.today().replace(day=1) - timedelta(days=20)  # a day of last month
P = f"{DAY:%Y-%m}"


def delivery(unit_code: str, rid: str) -> dict:
    return {
        "facility": unit_code,
        "source_system": "his-x",
        "source_record_id": rid,
        "event_date": DAY.isoformat(),
        "place": "at_facility",
        "full_name": "Lò Thị Mai",
        "dob": "1995-02-03",
        "delivery_mode": "caesarean",
        "attendant": "doctor",
        "newborns": [{"outcome": "live", "sex": "F", "weight_grams": 3000}],
    }


def two_deliveries(people, tree) -> Delivery:
    records_upsert(
        actor=people.tyt_reporter,
        register="delivery",
        records=[delivery(tree.tyt_a1.code, "D-1"), delivery(tree.tyt_a1.code, "D-2")],
    )
    return Delivery.objects.get(source_record_id="D-1")


def values(people, tree) -> dict:
    return selectors.report_view(people.tyt_reporter, "BCX3", tree.tyt_a1.code, P).values


def test_r_mch_03_voided_record_leaves_every_report_at_once(forms, people, tree):
    # given two deliveries (each with a live birth) counted in the commune report
    d1 = two_deliveries(people, tree)
    before = values(people, tree)
    assert before["I.5:total"] == 2 and before["III.1:total"] == 2
    # when one is voided with a reason
    record_void(actor=people.tyt_reporter, register="delivery", record_id=d1.pk, reason="Nhập trùng")
    # then the report counts one delivery and one live birth, with no other step
    after = values(people, tree)
    assert after["I.5:total"] == 1 and after["III.1:total"] == 1
    # and the district form reads the same registers the same way
    bch4 = selectors.report_view(people.ttyt_reporter, "BCH4", tree.ttyt_a.code, P)
    assert bch4.values["T:17"] == 0  # no caesareans of the TTYT's own facilities
    # and the history keeps the record, who voided it and why, with its audit row
    d1.refresh_from_db()
    assert d1.voided_at is not None and d1.voided_by == people.tyt_reporter and d1.void_reason == "Nhập trùng"
    assert Newborn.objects.filter(delivery=d1).count() == 1
    event = AuditEvent.objects.get(action="register.void")
    assert event.object_id == str(d1.pk) and event.reason == "Nhập trùng"


def test_r_mch_03_voiding_twice_is_a_precise_error(forms, people, tree):
    d1 = two_deliveries(people, tree)
    record_void(actor=people.tyt_reporter, register="delivery", record_id=d1.pk, reason="Nhập trùng")
    with pytest.raises(Conflict, match="đã bị hủy lúc .* bởi .* \\(lý do: Nhập trùng\\)") as exc:
        record_void(actor=people.tyt_reporter, register="delivery", record_id=d1.pk, reason="Lần nữa")
    assert exc.value.code == "already_voided"
    assert AuditEvent.objects.filter(action="register.void").count() == 1


def test_r_mch_03_void_needs_a_reason(forms, people, tree):
    d1 = two_deliveries(people, tree)
    with pytest.raises(DomainError, match="lý do") as exc:
        record_void(actor=people.tyt_reporter, register="delivery", record_id=d1.pk, reason="  ")
    assert exc.value.field == "reason"
    d1.refresh_from_db()
    assert d1.voided_at is None


def test_r_mch_05_void_refused_in_a_locked_month(forms, people, tree):
    # given the commune report of the month approved (the month is locked)
    d1 = two_deliveries(people, tree)
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    s.report_approve(actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    # when the facility voids a record of that month, then it is refused and nothing changes
    with pytest.raises(Conflict, match="đã được duyệt và khóa") as exc:
        record_void(actor=people.tyt_reporter, register="delivery", record_id=d1.pk, reason="Nhập trùng")
    assert exc.value.code == "period_locked"
    d1.refresh_from_db()
    assert d1.voided_at is None and not AuditEvent.objects.filter(action="register.void").exists()


def test_r_mch_03_void_outside_jurisdiction_is_not_found(forms, people, tree, make_user):
    from django.http import Http404

    d1 = two_deliveries(people, tree)
    other = make_user("collector", tree.tyt_b1)
    with pytest.raises(Http404, match=r"Không tìm thấy\."):
        record_void(actor=other, register="delivery", record_id=d1.pk, reason="x")


def test_r_mch_03_voided_record_cannot_be_resent_silently(forms, people, tree):
    d1 = two_deliveries(people, tree)
    record_void(actor=people.tyt_reporter, register="delivery", record_id=d1.pk, reason="Nhập trùng")
    changed = delivery(tree.tyt_a1.code, "D-1") | {"attendant": "midwife"}
    result = records_upsert(actor=people.tyt_reporter, register="delivery", records=[changed])
    assert result.updated == 0 and result.rejected == 1
    assert "đã bị hủy" in result.conflicts[0]["reason"]
    d1.refresh_from_db()
    assert d1.voided_at is not None and d1.attendant == "doctor"


def test_r_mch_03_void_through_the_api_delete(forms, people, tree):
    d1 = two_deliveries(people, tree)
    c = Client()
    c.force_login(people.tyt_reporter)
    url = f"/api/v1/registers/delivery/records/{d1.pk}"
    r = c.delete(url, {"reason": "Nhập trùng"}, content_type="application/json")
    assert r.status_code == 200, r.content
    assert r.json()["void_reason"] == "Nhập trùng" and r.json()["source_record_id"] == "D-1"
    r = c.delete(url, {"reason": "Lần nữa"}, content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "already_voided"
    r = c.delete(url, {}, content_type="application/json")
    assert r.status_code == 422
    outsider = Client()
    outsider.force_login(people.ttyt_b_leader)
    assert outsider.delete(url, {"reason": "x"}, content_type="application/json").status_code in (403, 404)


def test_r_mch_03_void_from_the_record_page(forms, people, tree):
    d1 = two_deliveries(people, tree)
    c = Client()
    c.force_login(people.tyt_reporter)
    page = c.get(f"/registers/delivery/{d1.pk}/").content.decode()
    assert 'data-testid="void"' in page
    r = c.post(f"/registers/delivery/{d1.pk}/void/", {"reason": ""}, follow=True)
    assert "Vui lòng nhập lý do" in r.content.decode()
    c.post(f"/registers/delivery/{d1.pk}/void/", {"reason": "Nhập trùng"})
    page = c.get(f"/registers/delivery/{d1.pk}/").content.decode()
    assert 'data-testid="voided"' in page and "Nhập trùng" in page
    assert values(people, tree)["I.5:total"] == 1
