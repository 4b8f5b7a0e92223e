"""R-INT-02: approved reports reach the Health Statistics software (its own process) as ADX or DHIS2
dataValueSets, signed; the import summary is stored; a re-approval after un-approval sends again."""

from __future__ import annotations

import json

import pytest
from django.utils import timezone

from mchis.core.context import RequestMeta, reset_meta, set_meta
from mchis.integrations.exchange import engine, keys
from mchis.integrations.statistics import receiver as statistics_receiver
from mchis.outbox.models import EntryStatus, OutboxEntry
from mchis.reports import services as s
from mchis.reports.tests.registerdata import submit

from .receivers import Receiver, free_port

P = "2026-01"


@pytest.fixture
def step_up():
    token = set_meta(RequestMeta(step_up_at=timezone.now()))
    yield
    reset_meta(token)


@pytest.fixture
def statistics(db, tmp_path, settings):
    keys.active_private_jwk()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(keys.public_jwks()), encoding="utf-8")
    receiver = Receiver("mchis.integrations.statistics.receiver", free_port(), jwks).start()
    settings.EXCHANGE_PARTNERS = {
        "statistics": {"url": receiver.url, "token": receiver.token, "batch_size": 1}
    }
    yield receiver
    receiver.stop()


def _approve(people, tree):
    s.report_approve(actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)


def _entries():
    return list(OutboxEntry.objects.filter(partner="statistics").order_by("id"))


@pytest.mark.parametrize("fmt", ["adx", "dhis2"])
def test_r_int_02_an_approved_report_is_pushed_and_its_import_summary_stored(
    forms, people, tree, statistics, settings, step_up, fmt
):
    settings.EXCHANGE_PARTNERS["statistics"]["format"] = fmt
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    assert _entries() == []  # a submitted report is not sent
    _approve(people, tree)
    [entry] = _entries()
    assert entry.topic == "report.approved" and entry.scope_path == tree.tyt_a1.path
    assert engine.deliver_partner("statistics").delivered == 1
    entry.refresh_from_db()
    assert entry.status == EntryStatus.DELIVERED
    assert entry.receipt["status"] == "SUCCESS" and entry.receipt["imported"] > 0
    assert entry.receipt["updated"] == 0

    # un-approve, approve again: a second entry, sent again; the software sees the same figures
    s.report_request_unapproval(
        actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P, reason="sai số"
    )
    s.report_unapprove(
        actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P, reason="sửa số liệu"
    )
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    _approve(people, tree)
    assert engine.deliver_partner("statistics").delivered == 1
    second = _entries()[1]
    assert second.receipt["imported"] == 0 and second.receipt["ignored"] == entry.receipt["imported"]


def test_r_int_02_an_adx_payload_outside_the_schema_is_refused_by_the_software(statistics):
    from mchis.integrations.exchange import signing

    bad = b'<?xml version="1.0"?><adx xmlns="urn:ihe:qrph:adx:2015"><group/></adx>'
    headers = {
        "Authorization": f"Bearer {statistics.token}",
        "Content-Type": "application/adx+xml",
        signing.HEADER: signing.sign_detached(
            bad, private_jwk=keys.active_private_jwk(), audience="statistics"
        ),
    }
    status, answer = statistics.post("/api/dataValueSets", bad, headers)
    assert status == 400 and "lược đồ" in answer["message"]
    tampered = bad.replace(b"group", b"grouq")
    status, answer = statistics.post("/api/dataValueSets", tampered, headers)
    assert (status, answer["error"]) == (401, "bad_signature")
    assert statistics_receiver.XSD.exists()


def test_r_int_02_a_report_unapproved_before_it_left_is_not_sent(forms, people, tree, statistics, step_up):
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    _approve(people, tree)
    s.report_request_unapproval(
        actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P, reason="sai số"
    )
    s.report_unapprove(
        actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P, reason="sửa số liệu"
    )
    report = engine.deliver_partner("statistics")
    assert report.requests == 0 and report.dead == 1
    assert _entries()[0].failure_kind == "build"
    assert statistics.state()["requests"] == 0
