"""R-INT-02 / R-INT-04 / R-INT-05 end to end: the four demo partners run at once as their own processes on
localhost ports - the population registry simulator, the EHR warehouse, the Health Statistics software (ADX) and
the e-MCH handbook app - and each receives, through the product's own paths (the outbox for the pushes, the
identity check for the registry, the signed feed for the handbook), what it should, with every signature
verified by the receiver against our published keys."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from django.utils import timezone

from mchis.core.context import RequestMeta, reset_meta, set_meta
from mchis.core.models import AuditEvent
from mchis.integrations.exchange import engine, keys
from mchis.integrations.handbook.services import handbook_consent_give
from mchis.integrations.population.services import population_check_start
from mchis.outbox.models import EntryStatus, OutboxEntry
from mchis.registers.services import records_upsert
from mchis.registers.tests.conftest import anc, delivery
from mchis.registry.tests.conftest import VALID_DATA
from mchis.reports import services as reports
from mchis.reports.tests.registerdata import submit

from .receivers import Receiver, free_port
from .test_exchanges_security import _wait

MOTHER = "008195000123"
P = "2026-01"


def _start(module: str, *args: str) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", module, "--port", str(port), *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    _wait(url, process)
    return process, url


@pytest.mark.django_db(transaction=True)
def test_r_int_02_the_four_partners_receive_and_verify_end_to_end(
    live_server, tree, make_user, forms, people, make_child, settings, tmp_path: Path
):
    from mchis.accounts.services import api_client_create

    # our published keys, as a partner configures them (the file a receiver reads; the handbook fetches the URL)
    keys.active_private_jwk()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(keys.public_jwks()), encoding="utf-8")
    child = VALID_DATA
    population = tmp_path / "population.jsonl"
    population.write_text(
        json.dumps({
            "personal_id": child["personal_id"], "full_name": child["full_name"], "date_of_birth": "2018-03-12",
            "sex": "M", "father_name": child["father_name"], "mother_name": child["mother_name"],
        }, ensure_ascii=False),
        encoding="utf-8",
    )  # fmt: skip
    ehr = Receiver("mchis.integrations.ehr.receiver", free_port(), jwks).start()
    statistics = Receiver("mchis.integrations.statistics.receiver", free_port(), jwks).start()
    processes: list[subprocess.Popen[bytes]] = []
    try:
        gateway, gateway_url = _start(
            "mchis.integrations.population.simulator", "--data", str(population), "--token", "gw-token",
            "--jwks", str(jwks),
        )  # fmt: skip
        processes.append(gateway)
        _, handbook_token = api_client_create(
            actor=None, name="So SKBMTE", unit=tree.doh_a, scopes=["handbook.view"]
        )
        handbook, handbook_url = _start(
            "mchis.integrations.handbook.app", "--feed", f"{live_server.url}/api/v1/handbook/feed",
            "--token", handbook_token, "--jwks", f"{live_server.url}/api/v1/exchanges/jwks", "--interval", "0",
        )  # fmt: skip
        processes.append(handbook)
        settings.EXCHANGE_PARTNERS = {
            "ehr": {"url": ehr.url, "token": ehr.token, "batch_size": 50},
            "statistics": {"url": statistics.url, "token": statistics.token, "batch_size": 1},
        }
        settings.POPULATION_GATEWAY_URL = gateway_url
        settings.POPULATION_GATEWAY_TOKEN = "gw-token"

        # 1. the population registry: a new child's identity is checked, signed, and the answer lands on the record
        collector = make_user("collector", tree.tyt_a1)
        registered = make_child()
        population_check_start(actor=collector, child=registered)
        registered.refresh_from_db()
        assert registered.id_verification_result == "match" and registered.id_verified

        # 2. the EHR warehouse: register writes go through the outbox, signed, exactly once
        records_upsert(actor=collector, register="anc", records=[anc(rid="A-1", personal_id=MOTHER)])
        records_upsert(
            actor=collector, register="delivery", records=[delivery(rid="D-1", personal_id=MOTHER)]
        )
        ehr_entries = list(OutboxEntry.objects.filter(partner="ehr").values_list("id", flat=True))
        assert len(ehr_entries) >= 2
        assert engine.deliver_partner("ehr").delivered == len(ehr_entries)
        received = ehr.state()
        assert received["applied"] == sorted(ehr_entries) and received["refusals"] == {}

        # 3. the Health Statistics software: an approved report, as ADX, its import summary stored
        submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
        token = set_meta(RequestMeta(step_up_at=timezone.now()))
        try:
            reports.report_approve(
                actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P
            )
        finally:
            reset_meta(token)
        assert engine.deliver_partner("statistics").delivered == 1
        [report_entry] = OutboxEntry.objects.filter(partner="statistics")
        assert report_entry.status == EntryStatus.DELIVERED and report_entry.receipt
        assert statistics.state()["requests"] == 1 and statistics.state()["refusals"] == {}

        # 4. the handbook app pulls our signed feed and keeps the consenting mother's timeline
        handbook_consent_give(actor=collector, personal_id=MOTHER)
        request = urllib.request.Request(handbook_url + "/pull", data=b"", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310 - our own test process
            pulled = json.loads(answer.read())
        assert pulled["persons"] == [MOTHER] and pulled["refusals"] == {}

        # every exchange is in the audit log with the payload's hash
        delivered = AuditEvent.objects.filter(action="exchange.delivered")
        assert {e.object_id for e in delivered} >= {"ehr", "statistics"}
        assert all(len(e.changes["payload_sha256"][1]) == 64 for e in delivered)
        assert AuditEvent.objects.filter(action="exchange.feed_read").exists()
    finally:
        ehr.stop()
        statistics.stop()
        for process in processes:
            process.terminate()
            process.wait(timeout=10)
