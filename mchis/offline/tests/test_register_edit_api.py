"""An existing register record edited offline (docs/offline.md, ADR 0042): applied when the record is still the
version the form showed (its `row_hash`), else a conflict resolved field by field - never last-write-wins."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.test import Client

from mchis.core.models import AuditEvent
from mchis.offline.models import OfflineItem, RecordConflict
from mchis.registers import services as register_services
from mchis.registers.definitions import REGISTERS
from mchis.registers.models import AncVisit
from mchis.registers.webform import form_data, record_form_fields

ANC = {
    "event_date": "03/11/2026",
    "place": "at_facility",
    "full_name": "Hoàng Thị Dung",
    "dob": "01/01/1998",
    "gestational_age_weeks": "12",
    "visit_number": "1",
}


@pytest.fixture(autouse=True)
def _no_2fa(settings):
    settings.ROLES_REQUIRING_2FA = []


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _record(actor: Any, **fields: Any) -> AncVisit:
    record, errors = register_services.record_save(
        actor=actor, register="anc", data={**ANC, "facility": actor.unit.code, **fields}
    )
    assert record is not None, errors
    return record


def _online_edit(actor: Any, record: AncVisit, **fields: str) -> AncVisit:
    data = form_data(REGISTERS["anc"], {**record_form_fields(REGISTERS["anc"], record), **fields})
    saved, errors = register_services.record_save(actor=actor, register="anc", data=data, instance=record)
    assert saved is not None, errors
    return saved


def _edit(record: AncVisit, base_hash: str | None = None, **fields: str) -> dict[str, Any]:
    """What the edit page queues offline: the form as typed, the form as opened, the version it showed."""
    base = record_form_fields(REGISTERS["anc"], record)
    return {
        "client_id": str(uuid.uuid4()),
        "kind": "register_edit",
        "register": "anc",
        "record": record.pk,
        "base_hash": base_hash if base_hash is not None else record.row_hash,
        "base_fields": base,
        "fields": {**base, **fields},
    }


def _sync(client: Client, *items: dict[str, Any]) -> list[dict[str, Any]]:
    answer = client.post(
        "/api/v1/offline/sync", {"items": list(items), "waiting": len(items)}, content_type="application/json"
    )
    assert answer.status_code == 200, answer.content
    return answer.json()["items"]


def test_an_offline_edit_of_an_unchanged_record_is_applied_with_audit(collector):
    record = _record(collector)
    audits = AuditEvent.objects.filter(action="register.web_batch").count()
    fate = _sync(_client(collector), _edit(record, gestational_age_weeks="14", note="Phù nhẹ"))[0]
    assert fate["status"] == "accepted", fate
    assert fate["object_ref"] == f"anc:{record.pk}" and fate["url"] == f"/registers/anc/{record.pk}/"
    record.refresh_from_db()
    assert (record.gestational_age_weeks, record.note) == (14, "Phù nhẹ")
    assert AncVisit.objects.count() == 1
    assert AuditEvent.objects.filter(action="register.web_batch").count() == audits + 1
    assert not RecordConflict.objects.exists()


def test_a_replayed_offline_edit_is_applied_once(collector):
    record = _record(collector)
    item = _edit(record, visit_number="2")
    client = _client(collector)
    first, again = _sync(client, item)[0], _sync(client, item)[0]
    assert first["status"] == again["status"] == "accepted"
    assert OfflineItem.objects.get().attempts == 1
    assert AuditEvent.objects.filter(action="register.web_batch").count() == 2  # the create, one edit

    stale = _edit(record, visit_number="3")  # made on the version before the edit above
    first, again = _sync(client, stale)[0], _sync(client, stale)[0]
    assert first["status"] == again["status"] == "conflict"
    assert first["object_ref"] == again["object_ref"]
    assert RecordConflict.objects.count() == 1


def test_a_stale_offline_edit_becomes_a_conflict_resolved_field_by_field(collector, leader, make_user, tree):
    record = _record(collector)
    stale = _edit(record, gestational_age_weeks="15", note="Nhập ở bản")  # on the first version
    _online_edit(collector, record, gestational_age_weeks="13", visit_number="2")  # meanwhile, online
    fate = _sync(_client(collector), stale)[0]
    assert fate["status"] == "conflict" and fate["label"].startswith("Xung đột")
    record.refresh_from_db()
    assert (record.gestational_age_weeks, record.visit_number, record.note) == (
        13,
        2,
        "",
    )  # nothing overwritten
    conflict = RecordConflict.objects.get()
    assert fate["url"] == f"/offline/conflicts/records/{conflict.public_id}/"
    assert set(conflict.conflict) == {"gestational_age_weeks", "visit_number", "note"}
    ga = conflict.conflict["gestational_age_weeks"]
    assert (ga["base"], ga["theirs"], ga["ours"], ga["suggest"]) == ("12", "13", "15", "")  # both changed it
    assert (
        conflict.conflict["note"]["suggest"] == "ours"
        and conflict.conflict["visit_number"]["suggest"] == "theirs"
    )

    # in the same list as the child conflicts: the leader sees it, may not write registers (R-SEC-02)
    listing = _client(leader).get("/offline/conflicts/").content.decode()
    assert f"/offline/conflicts/records/{conflict.public_id}/" in listing
    page = _client(leader).get(fate["url"])
    assert page.status_code == 200 and "Chỉ người nhập sổ" in page.content.decode()
    assert _client(leader).post(fate["url"], {}).status_code == 403
    outsider = make_user("collector", tree.tyt_b1)
    assert _client(outsider).get(fate["url"]).status_code == 404

    # a choice is required for every field, and a record changed again since the page was drawn is not written
    client = _client(collector)
    seen = record.row_hash
    refused = client.post(fate["url"], {"seen_hash": seen, "choice_gestational_age_weeks": "ours"})
    assert refused.status_code == 422 and "Chọn giá trị giữ lại" in refused.content.decode()
    choices = {"choice_gestational_age_weeks": "ours", "choice_visit_number": "theirs", "choice_note": "ours"}
    refused = client.post(fate["url"], {"seen_hash": "0" * 64, **choices})
    assert refused.status_code == 422 and "vừa được sửa lại" in refused.content.decode()
    record.refresh_from_db()
    assert record.gestational_age_weeks == 13

    done = client.post(fate["url"], {"seen_hash": seen, **choices})
    assert done.status_code == 302, done.content.decode()[:2000]
    record.refresh_from_db()
    assert (record.gestational_age_weeks, record.visit_number, record.note) == (15, 2, "Nhập ở bản")
    conflict.refresh_from_db()
    assert not conflict.is_open and conflict.conflict["visit_number"]["choice"] == "theirs"
    assert AuditEvent.objects.filter(action="offline.record_conflict_resolve").count() == 1
    status = client.post(
        "/api/v1/offline/status", {"ids": [stale["client_id"]]}, content_type="application/json"
    ).json()[0]
    assert status["status"] == "accepted" and "đã được giải quyết" in status["message"]


def test_an_offline_edit_of_another_units_record_is_rejected_in_vietnamese(collector, make_user, tree):
    other = make_user("collector", tree.tyt_b1)
    theirs = _record(other)
    sibling = _record(make_user("collector", tree.tyt_a2))
    answer = _sync(_client(collector), _edit(theirs, note="x"), _edit(sibling, note="y"))
    for fate in answer:
        assert fate["status"] == "rejected"
        assert "không thuộc đơn vị của bạn" in fate["message"]
    assert set(AncVisit.objects.values_list("note", flat=True)) == {""}


def test_an_offline_edit_refused_by_the_register_rules_keeps_the_servers_message(collector):
    record = _record(collector)
    fate = _sync(_client(collector), _edit(record, gestational_age_weeks="60"))[0]
    assert fate["status"] == "rejected" and fate["errors"][0]["field"] == "gestational_age_weeks"
    record.refresh_from_db()
    assert record.gestational_age_weeks == 12
