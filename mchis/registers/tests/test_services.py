"""The batch engine, period locks and scoping (R-MCH-01, R-MCH-02, R-INT-01)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from mchis.core.errors import PermissionDeniedError, ValidationFailed
from mchis.core.models import AuditEvent
from mchis.registers.models import AncVisit, Delivery, IngestBatch, Newborn, Person, SyncActivity
from mchis.registers.selectors import is_period_locked, sync_status
from mchis.registers.services import period_lock, period_unlock, record_save, records_upsert

from .conftest import anc, delivery


def audits(action_prefix="register."):
    return AuditEvent.objects.filter(action__startswith=action_prefix).count()


@pytest.mark.django_db
def test_r_int_01_upsert_create_update_unchanged(collector):
    r = records_upsert(actor=collector, register="anc", records=[anc(rid="1"), anc(rid="2")])
    assert (r.created, r.updated, r.unchanged, r.rejected) == (2, 0, 0, 0)
    r = records_upsert(actor=collector, register="anc", records=[anc(rid="1"), anc(rid="2", note="sửa")])
    assert (r.created, r.updated, r.unchanged) == (0, 1, 1)
    assert AncVisit.objects.get(source_record_id="2").note == "sửa"
    assert AncVisit.objects.count() == 2
    assert audits() == 2  # one per batch that changed something


@pytest.mark.django_db
def test_r_int_01_same_batch_twice_same_state_one_audit(collector):
    batch = [anc(rid=str(i)) for i in range(5)]
    records_upsert(actor=collector, register="anc", records=batch)
    state = list(AncVisit.objects.order_by("id").values())
    r = records_upsert(actor=collector, register="anc", records=batch)
    assert r.unchanged == 5 and r.created == r.updated == 0
    assert list(AncVisit.objects.order_by("id").values()) == state
    assert audits() == 1


@pytest.mark.django_db
def test_r_int_01_per_record_rejections_listed(collector):
    r = records_upsert(
        actor=collector, register="anc", records=[anc(rid="ok"), anc(rid="bad", event_date="2999-01-01")]
    )
    assert r.created == 1 and r.rejected == 1 and r.summary()["status"] == "WARNING"
    assert r.conflicts == [{"index": 1, "field": "event_date", "reason": "Ngày: không được ở tương lai."}]


@pytest.mark.django_db
def test_r_int_01_duplicate_ids_in_batch_refuse_everything(collector):
    with pytest.raises(
        ValidationFailed, match=r"Lô dữ liệu có mã bản ghi nguồn trùng nhau: không ghi gì\."
    ) as exc:
        records_upsert(actor=collector, register="anc", records=[anc(rid="1"), anc(rid="2"), anc(rid="1")])
    assert exc.value.errors[0]["index"] == 2
    assert AncVisit.objects.count() == 0


@pytest.mark.django_db
def test_r_int_01_batch_over_limit_refused(collector):
    with pytest.raises(ValidationFailed, match=r"Lô dữ liệu quá lớn\."):
        records_upsert(actor=collector, register="anc", records=[{}] * 5001)


@pytest.mark.django_db
def test_r_int_01_facility_outside_scope_rejected(collector, tree):
    r = records_upsert(actor=collector, register="anc", records=[anc(facility=tree.tyt_b1.code)])
    assert r.rejected == 1 and r.conflicts[0]["field"] == "facility"
    assert AncVisit.objects.count() == 0


@pytest.mark.django_db
def test_r_int_01_upper_level_may_write_for_facilities_below(ttyt_reporter, tree):
    r = records_upsert(actor=ttyt_reporter, register="anc", records=[anc(facility=tree.tyt_a2.code)])
    assert r.created == 1


@pytest.mark.django_db
def test_viewer_cannot_write(tree, make_user):
    viewer = make_user("viewer", tree.tyt_a1)
    with pytest.raises(PermissionDeniedError, match=r"Bạn không có quyền thực hiện thao tác này\."):
        records_upsert(actor=viewer, register="anc", records=[anc()])


@pytest.mark.django_db
def test_r_mch_01_delivery_newborns_replaced_on_update(collector):
    records_upsert(actor=collector, register="delivery", records=[delivery()])
    d = Delivery.objects.get()
    assert d.newborns.count() == 1 and d.is_ethnic_minority
    twins = delivery(
        newborns=[
            {"outcome": "live", "sex": "M", "weight_grams": 2600},
            {"outcome": "live", "sex": "F", "weight_grams": 2500},
        ]
    )
    r = records_upsert(actor=collector, register="delivery", records=[twins])
    assert r.updated == 1
    assert list(Newborn.objects.order_by("birth_order").values_list("sex", "month")) == [
        ("M", d.month),
        ("F", d.month),
    ]


@pytest.mark.django_db
def test_person_linked_by_personal_id_across_registers(collector):
    records_upsert(actor=collector, register="anc", records=[anc(personal_id="008308001234")])
    records_upsert(actor=collector, register="delivery", records=[delivery(personal_id="008308001234")])
    person = Person.objects.get()
    assert AncVisit.objects.get().person_id == person.pk == Delivery.objects.get().person_id


@pytest.mark.django_db
def test_r_mch_01_period_lock_refuses_writes_with_clear_message(collector, tree):
    records_upsert(actor=collector, register="anc", records=[anc(rid="1")])
    month = (
        date.today().replace(day=1)
        if (date.today() - timedelta(days=3)).month == date.today().month
        else (date.today() - timedelta(days=3)).replace(day=1)
    )
    period_lock(actor=None, unit=tree.tyt_a1, month=month, reason="Báo cáo đã duyệt")
    assert is_period_locked(tree.tyt_a1, month)
    r = records_upsert(actor=collector, register="anc", records=[anc(rid="1", note="sửa"), anc(rid="2")])
    assert r.rejected == 2 and r.created == r.updated == 0
    assert "đã được duyệt và khóa" in r.conflicts[0]["reason"]
    # unchanged replays are not writes: still fine
    assert records_upsert(actor=collector, register="anc", records=[anc(rid="1")]).unchanged == 1
    assert period_unlock(actor=None, unit=tree.tyt_a1, month=month, reason="Hủy duyệt")
    assert records_upsert(actor=collector, register="anc", records=[anc(rid="2")]).created == 1
    assert AuditEvent.objects.filter(action="register.period_lock").count() == 1
    assert AuditEvent.objects.filter(action="register.period_unlock").count() == 1


@pytest.mark.django_db
def test_web_record_save_create_and_edit(collector, tree):
    data = anc(facility=tree.tyt_a1.code)
    data.pop("source_record_id")
    data.pop("source_system")
    obj, errors = record_save(actor=collector, register="anc", data=data)
    assert errors == [] and obj.source_system == "web" and len(obj.source_record_id) == 32
    obj2, errors = record_save(
        actor=collector, register="anc", data={**data, "note": "ghi chú"}, instance=obj
    )
    assert errors == [] and obj2.pk == obj.pk and obj2.note == "ghi chú"
    _, errors = record_save(actor=collector, register="anc", data={**data, "event_date": ""}, instance=obj)
    assert errors[0]["field"] == "event_date"


@pytest.mark.django_db
def test_r_int_03_sync_activity_and_silent_flag(collector, tree, make_user):
    records_upsert(actor=collector, register="anc", records=[anc(rid="1"), anc(rid="x", event_date="bad")])
    assert IngestBatch.objects.count() == 1
    act = SyncActivity.objects.get()
    assert (act.records, act.created, act.rejected, act.source_system) == (2, 1, 1, "his-x")
    leader_ttyt = make_user("leader", tree.ttyt_a)
    rows = sync_status(principal=leader_ttyt)
    assert len(rows) == 1 and rows[0].records_24h == 2 and rows[0].errors_24h == 1 and not rows[0].silent
    from django.utils import timezone

    later = sync_status(principal=leader_ttyt, now=timezone.now() + timedelta(days=4))
    assert later[0].silent is True
    other = make_user("leader", tree.ttyt_b)
    assert sync_status(principal=other) == []


@pytest.mark.django_db
def test_r_mch_01_newborn_handoff_to_child_registry_once(collector):
    records_upsert(actor=collector, register="delivery", records=[delivery(personal_id="008195001234")])
    from mchis.registers.services import newborn_handoff

    nb = Newborn.objects.get()
    first = newborn_handoff(actor=collector, newborn=nb)
    again = newborn_handoff(actor=collector, newborn=nb)
    assert first.pk == again.pk and first.kind == "create"
    assert first.data["mother_name"] == "Lò Thị Mai" and first.data["sex"] == "F"
