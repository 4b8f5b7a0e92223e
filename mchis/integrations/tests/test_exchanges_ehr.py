"""R-INT-02 / R-INT-05: the outbox and the EHR warehouse exchange — same-transaction enqueue, FHIR resources
validated by fhir.resources, signed requests to a warehouse running as its own process, retries, splits,
dead letters and replay, a receiver down then back, a worker killed mid-delivery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.utils import timezone

from mchis.core.models import AuditEvent
from mchis.integrations.ehr import adapter, fhir
from mchis.integrations.ehr.codes import PROFILE
from mchis.integrations.exchange import engine, keys, signing
from mchis.outbox.models import EntryStatus, OutboxEntry
from mchis.outbox.services import outbox_replay
from mchis.registers.models import AncVisit, ChildExam, Contraception, Death, Delivery
from mchis.registers.services import record_void, records_upsert
from mchis.registers.tests.conftest import anc, delivery

from .receivers import Receiver, free_port

PROFILES_DIR = Path(adapter.__file__).parent / "profiles"


@pytest.fixture
def clerk(tree, make_user):
    return make_user("collector", tree.tyt_a1)


@pytest.fixture
def jwks_file(db, tmp_path):
    keys.active_private_jwk()
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(keys.public_jwks()), encoding="utf-8")
    return path


@pytest.fixture
def warehouse(jwks_file, settings):
    receiver = Receiver("mchis.integrations.ehr.receiver", free_port(), jwks_file).start()
    settings.EXCHANGE_PARTNERS = {"ehr": {"url": receiver.url, "token": receiver.token, "batch_size": 50}}
    yield receiver
    receiver.stop()


def _write(actor, register, records):
    result = records_upsert(actor=actor, register=register, records=records)
    assert not result.conflicts, result.conflicts
    return result


def _ehr_entries():
    return list(OutboxEntry.objects.filter(partner="ehr").order_by("id"))


def test_r_int_02_a_register_write_enqueues_in_its_own_transaction(clerk):
    _write(clerk, "anc", [anc(rid="A-1"), anc(rid="A-2", personal_id="")])
    entries = _ehr_entries()
    assert [(e.topic, e.object_type, e.status) for e in entries] == [
        ("register.anc", "AncVisit", "pending")
    ] * 2
    assert entries[0].scope_path == clerk.unit.path

    with pytest.raises(RuntimeError, match="rolled back"), transaction.atomic():
        _write(clerk, "anc", [anc(rid="A-3")])
        raise RuntimeError("rolled back")
    assert len(_ehr_entries()) == 2  # the failed write left no outbound message behind


def test_r_int_02_every_resource_type_is_built_and_validated_by_fhir_resources(clerk, tree, make_user):
    _write(
        clerk, "anc", [anc(personal_id="008195000123", gestational_age_weeks=20, expected_delivery_date=None)]
    )
    _write(clerk, "delivery", [delivery(personal_id="008195000124", postpartum_week1_date=None)])
    ctx = {"facility": "TYT02269", "source_system": "his-x", "place": "at_facility"}
    day = (timezone.localdate() - timedelta(days=1)).isoformat()
    _write(
        clerk,
        "child_exam",
        [
            {
                **ctx,
                "source_record_id": "C-1",
                "event_date": day,
                "full_name": "Lò Văn An",
                "dob": (timezone.localdate() - timedelta(days=400)).isoformat(),
                "sex": "M",
                "weight_kg": "9.5",
                "height_cm": "75.0",
                "mother_name": "Lò Thị Mai",
            }
        ],
    )
    _write(
        clerk,
        "contraception",
        [
            {
                **ctx,
                "source_record_id": "K-1",
                "event_date": day,
                "full_name": "Hà Thị Lan",
                "dob": "1990-01-01",
                "method_code": "iud",
                "is_new_user": True,
            }
        ],
    )
    _write(
        clerk,
        "death",
        [
            {
                **ctx,
                "source_record_id": "T-1",
                "event_date": day,
                "full_name": "Lò Văn Bé",
                "sex": "M",
                "dob": (timezone.localdate() - timedelta(days=100)).isoformat(),
                "death_kind": "child",
                "icd10_code": "A09",
                "mother_name": "Lò Thị Mai",
            }
        ],
    )
    built = []
    for model, build in [
        (AncVisit, fhir.anc_resources),
        (ChildExam, fhir.child_exam_resources),
        (Contraception, fhir.contraception_resources),
        (Death, fhir.death_resources),
    ]:
        built += build(model.objects.select_related("facility").get())
    row = Delivery.objects.get()
    built += fhir.delivery_resources(row, row.newborns.all())
    validated = [fhir.validate(r) for r in built]
    types = {r["resourceType"] for r in validated}
    assert types == {"Patient", "RelatedPerson", "Encounter", "Observation", "Procedure", "Condition"}
    declared = {json.loads(p.read_text())["url"] for p in PROFILES_DIR.glob("*.json")}
    for res in validated:
        assert (
            res["meta"]["profile"][0] in declared
            and res["meta"]["profile"][0] == PROFILE[res["resourceType"]]
        )
    mother = next(r for r in validated if r["id"] == "pid-008195000123")
    assert mother["identifier"][0]["system"].endswith("/sid/so-dinh-danh-ca-nhan")
    cause = next(r for r in validated if r["resourceType"] == "Condition")
    assert cause["code"]["coding"][0] == {"system": "http://hl7.org/fhir/sid/icd-10", "code": "A09"}
    with pytest.raises(fhir.InvalidResource, match="Patient"):
        fhir.validate({"resourceType": "Patient", "id": "x", "birthDate": "not a date"})


def test_r_int_05_signed_bundle_reaches_the_warehouse_in_order_once_and_is_audited(clerk, warehouse):
    _write(clerk, "anc", [anc(rid=f"A-{i}", personal_id=f"0081950001{i:02d}") for i in range(5)])
    _write(clerk, "delivery", [delivery(rid="D-1", personal_id="008195000100")])
    report = engine.deliver_partner("ehr")
    assert report.delivered == 6 and report.requests == 1
    state = warehouse.state()
    ids = [e.pk for e in _ehr_entries()]
    assert state["applied"] == ids
    assert state["resource_counts"]["Patient"] == 5 + 1  # five women, one of them delivered; her newborn
    entry = _ehr_entries()[0]
    assert entry.status == EntryStatus.DELIVERED and len(entry.payload_sha256) == 64
    audit = AuditEvent.objects.filter(action="exchange.delivered").get()
    assert audit.changes["payload_sha256"][1] == entry.payload_sha256 and audit.object_id == "ehr"

    assert engine.deliver_partner("ehr").requests == 0  # nothing left: nothing sent twice


def test_r_int_05_a_tampered_or_unsigned_payload_is_refused_by_the_warehouse(warehouse):
    body = b'{"resourceType":"Bundle","type":"transaction","entry":[]}'
    good = signing.sign_detached(body, private_jwk=keys.active_private_jwk(), audience="ehr")
    headers = {"Authorization": f"Bearer {warehouse.token}", "Content-Type": "application/fhir+json"}
    tampered = body.replace(b"transaction", b"batch")
    assert warehouse.post("/fhir", tampered, {**headers, signing.HEADER: good})[1]["error"] == "bad_signature"
    assert warehouse.post("/fhir", body, headers)[1]["error"] == "missing_signature"
    other = signing.sign_detached(body, private_jwk=keys.active_private_jwk(), audience="statistics")
    assert warehouse.post("/fhir", body, {**headers, signing.HEADER: other})[1]["error"] == "wrong_audience"
    stale = signing.sign_detached(
        body, private_jwk=keys.active_private_jwk(), audience="ehr", now=time.time() - 3600
    )
    assert warehouse.post("/fhir", body, {**headers, signing.HEADER: stale})[1]["error"] == "clock_skew"
    wrong_token = {**headers, "Authorization": "Bearer nope", signing.HEADER: good}
    assert warehouse.post("/fhir", body, wrong_token) == (401, {"error": "bad_token"})
    assert warehouse.state()["applied"] == []


def test_r_int_05_key_rotation_without_downtime(clerk, warehouse, jwks_file):
    _write(clerk, "anc", [anc(rid="A-1")])
    assert engine.deliver_partner("ehr").delivered == 1
    keys.signing_key_rotate(actor=None)
    jwks_file.write_text(
        json.dumps(keys.public_jwks()), encoding="utf-8"
    )  # published; the receiver has the old
    _write(clerk, "anc", [anc(rid="A-2")])
    assert engine.deliver_partner("ehr").delivered == 1  # unknown kid → the receiver reloads our key set
    assert len(keys.public_jwks()["keys"]) == 2  # the old key still verifies during the overlap


def test_r_int_02_a_warehouse_down_for_a_day_receives_everything_in_order_exactly_once(
    clerk, jwks_file, settings
):
    receiver = Receiver("mchis.integrations.ehr.receiver", free_port(), jwks_file)
    settings.EXCHANGE_PARTNERS = {"ehr": {"url": receiver.url, "token": receiver.token, "batch_size": 3}}
    for day in range(4):  # writes keep coming while the warehouse is down; some persons change twice
        _write(clerk, "anc", [anc(rid=f"A-{day}-{i}", personal_id=f"00819500{day}{i:03d}") for i in range(4)])
        _write(
            clerk, "anc", [anc(rid=f"A-{day}-0", personal_id=f"00819500{day}000", gestational_age_weeks=12)]
        )
    now = timezone.now()
    for hour in range(24):
        report = engine.deliver_partner("ehr", now=now + timedelta(hours=hour))
        assert report.failure_kind == "unreachable" and report.delivered == 0
    head = _ehr_entries()[0]
    assert head.attempts == 24 and head.status == EntryStatus.PENDING  # only the head of the stream was tried
    assert _ehr_entries()[-1].attempts == 0
    receiver.start()
    try:
        report = engine.deliver_partner("ehr", now=now + timedelta(days=1, hours=1))
        assert report.delivered == 20
        ids = [e.pk for e in _ehr_entries()]
        assert receiver.state()["applied"] == ids  # in order, each once
        assert {e.status for e in _ehr_entries()} == {EntryStatus.DELIVERED}
    finally:
        receiver.stop()


def test_r_int_05_refusals_splits_malformed_receipts_and_skew_are_each_handled(clerk, warehouse, settings):
    _write(clerk, "anc", [anc(rid=f"A-{i}") for i in range(4)])
    warehouse.control(malformed_next=1)
    report = engine.deliver_partner("ehr")
    assert report.failure_kind == "malformed_receipt" and report.retried == 4
    later = timezone.now() + timedelta(minutes=1)
    assert engine.deliver_partner("ehr", now=later).delivered == 4
    assert warehouse.state()["applied"] == [e.pk for e in _ehr_entries()]  # the re-send was not applied twice

    warehouse.control(clock_offset=3600)
    _write(clerk, "anc", [anc(rid="A-9")])
    assert engine.deliver_partner("ehr").failure_kind == "clock_skew"
    warehouse.control(clock_offset=0)
    assert engine.deliver_partner("ehr", now=later + timedelta(minutes=1)).delivered == 1

    settings.EXCHANGE_PARTNERS = {
        **settings.EXCHANGE_PARTNERS,
        "ehr": {**settings.EXCHANGE_PARTNERS["ehr"], "max_bytes": 6000},
    }
    _write(clerk, "anc", [anc(rid=f"B-{i}") for i in range(6)])
    report = engine.deliver_partner("ehr")
    assert report.delivered == 6 and report.splits >= 1  # over the size limit: sent in smaller bundles


def test_r_int_05_a_refused_entry_becomes_a_sticky_dead_letter_that_holds_its_person_until_replay(
    clerk, warehouse
):
    _write(
        clerk, "anc", [anc(rid="A-1", personal_id="008195000001"), anc(rid="A-2", personal_id="008195000002")]
    )
    poisoned = AncVisit.objects.get(source_record_id="A-2")
    AncVisit.objects.filter(pk=poisoned.pk).update(gestational_age_weeks=None, expected_delivery_date=None)
    entries = _ehr_entries()
    original = adapter.resources_for

    def broken(object_type, ids):  # the second entry's resources break the warehouse's validation
        out = original(object_type, ids)
        if poisoned.pk in out:
            out[poisoned.pk][1]["status"] = {"not": "a code"}
        return out

    adapter.resources_for = broken
    try:
        report = engine.deliver_partner("ehr")
    finally:
        adapter.resources_for = original
    assert report.delivered == 1 and report.dead == 1
    dead = OutboxEntry.objects.get(pk=entries[1].pk)
    assert dead.status == EntryStatus.DEAD and dead.failure_kind in {"build", "refused"}
    _write(
        clerk, "anc", [anc(rid="A-2", personal_id="008195000002", gestational_age_weeks=30)]
    )  # same person
    assert engine.deliver_partner("ehr").delivered == 0  # held behind the dead letter (per-person order)
    assert outbox_replay(actor=None, partner="ehr") == 1
    assert engine.deliver_partner("ehr").delivered == 2
    applied = warehouse.state()["applied"]
    assert applied == sorted(applied)


def test_r_int_02_a_voided_record_is_sent_as_entered_in_error(clerk, warehouse, make_user, tree):
    _write(clerk, "anc", [anc(rid="A-1")])
    engine.deliver_partner("ehr")
    record = AncVisit.objects.get()
    record_void(actor=clerk, register="anc", record_id=record.pk, reason="nhập trùng")
    assert engine.deliver_partner("ehr").delivered == 1
    encounter = fhir.anc_resources(AncVisit.objects.select_related("facility").get())[1]
    assert encounter["status"] == "entered-in-error"


@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="a second process needs a shared database (PostgreSQL)",
)
@pytest.mark.django_db(transaction=True)
def test_r_int_02_a_worker_killed_mid_delivery_loses_and_duplicates_nothing(
    tree, make_user, tmp_path, settings
):
    clerk = make_user("collector", tree.tyt_a1)
    keys.active_private_jwk()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(keys.public_jwks()), encoding="utf-8")
    receiver = Receiver("mchis.integrations.ehr.receiver", free_port(), jwks).start()
    try:
        _write(clerk, "anc", [anc(rid=f"A-{i}", personal_id=f"0081950000{i:02d}") for i in range(6)])
        receiver.control(slow=900)  # applies, then answers late: the worker dies before it records delivery
        db = connection.settings_dict
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
            "EHR_WAREHOUSE_URL": receiver.url,
            "EHR_WAREHOUSE_TOKEN": receiver.token,
            "EHR_WAREHOUSE_TIMEOUT": "900",  # the worker waits for the answer until it is killed
            "EXCHANGE_LEASE_SECONDS": "2",
        }
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "exchange_deliver", "--partner", "ehr"],
            env=env,
            cwd=django_settings.BASE_DIR,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(1200):  # a loaded machine starts Django slowly
            if receiver.state()["applied"]:
                break
            time.sleep(0.1)
        os.kill(worker.pid, signal.SIGKILL)  # kill -9 mid-delivery
        worker.wait(timeout=10)
        assert {e.status for e in _ehr_entries()} == {EntryStatus.IN_FLIGHT}
        receiver.control(slow=0)
        time.sleep(2.1)  # the dead worker's lease expires
        settings.EXCHANGE_PARTNERS = {"ehr": {"url": receiver.url, "token": receiver.token}}
        report = engine.deliver_partner("ehr")
        assert report.delivered == 6
        entries = _ehr_entries()
        assert {e.status for e in entries} == {EntryStatus.DELIVERED}
        assert {e.attempts for e in entries} == {2}
        state = receiver.state()
        assert state["applied"] == [e.pk for e in entries]  # each entry applied once, in order
        assert state["requests"] == 2
    finally:
        receiver.stop()


def test_r_int_03_the_monitoring_page_shows_backlog_failures_and_dead_letters_in_the_users_subtree(
    clerk, tree, make_user, jwks_file, settings
):
    from django.test import Client

    settings.EXCHANGE_PARTNERS = {"ehr": {"url": "http://127.0.0.1:9", "token": "t"}}  # nobody listens there
    _write(clerk, "anc", [anc(rid="A-1"), anc(rid="A-2")])
    now = timezone.now()
    engine.deliver_partner("ehr", now=now - timedelta(hours=30))
    OutboxEntry.objects.filter(partner="ehr").update(created_at=now - timedelta(hours=30))
    OutboxEntry.objects.filter(pk=_ehr_entries()[1].pk).update(
        status=EntryStatus.DEAD, failure_kind="refused"
    )
    leader = make_user("leader", tree.ttyt_a)
    client = Client()
    client.force_login(leader)
    page = client.get("/exchanges/").content.decode()
    assert "Kho dữ liệu hồ sơ sức khỏe điện tử" in page
    assert "không gửi được quá 26 giờ" in page and "1 mục gửi lỗi" in page
    assert "Không kết nối được" in page  # the kind of the last failure, in words
    assert "Trạm Y tế phường Minh Xuân" in page  # per unit; and it sent nothing today (inbound)
    outsider = Client()
    outsider.force_login(make_user("leader", tree.ttyt_b))
    other = outsider.get("/exchanges/").content.decode()
    assert "mục gửi lỗi" not in other and "Trạm Y tế phường Minh Xuân" not in other


def test_exchange_replay_and_backfill_commands(clerk):
    from django.core.management import CommandError, call_command

    _write(clerk, "anc", [anc(rid="A-1"), anc(rid="A-2")])
    first, second = _ehr_entries()
    OutboxEntry.objects.filter(pk=first.pk).update(
        status=EntryStatus.DEAD, attempts=32, failure_kind="refused"
    )
    call_command("exchange_replay", "--partner", "ehr", "--since", timezone.localdate().isoformat())
    first.refresh_from_db()
    assert (first.status, first.attempts) == (EntryStatus.PENDING, 0)
    assert AuditEvent.objects.filter(action="exchange.replayed").count() == 1
    with pytest.raises(CommandError, match="không tồn tại"):
        call_command("exchange_replay", "--partner", "nobody")
    with pytest.raises(CommandError, match="ngày không hợp lệ"):
        call_command("exchange_replay", "--partner", "ehr", "--since", "30/11/2026")

    OutboxEntry.objects.all().delete()
    call_command("exchange_backfill", "--partner", "ehr")
    assert sorted(e.object_id for e in _ehr_entries()) == sorted(str(r.pk) for r in AncVisit.objects.all())
    assert not OutboxEntry.objects.exclude(partner="ehr").exists()  # the other partners are untouched
