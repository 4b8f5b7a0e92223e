"""Bulk API (R-INT-01): upsert, idempotency, dry run, async jobs, bad input, scoping."""

from __future__ import annotations

import json
from datetime import date

import pytest
from django.test import Client

from mchis.core.models import AuditEvent
from mchis.registers.models import AncVisit, IngestBatch

from .conftest import anc, delivery

pytestmark = pytest.mark.urls("mchis.registers.tests.urls")

URL = "/api/v1/registers/{}/records"


@pytest.fixture
def token(tree):
    from mchis.accounts.services import api_client_create

    _, tok = api_client_create(
        actor=None, name="HIS Minh Xuân", unit=tree.tyt_a1, scopes=["register.write", "register.view"]
    )
    return tok


@pytest.fixture
def api(token):
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def post(api, register, body, **extra):
    params = extra.pop("params", "")
    return api.post(
        URL.format(register) + params, data=json.dumps(body), content_type="application/json", **extra
    )


@pytest.mark.django_db
def test_r_int_01_bearer_batch_upsert_summary(api):
    res = post(api, "anc", {"records": [anc(rid="1"), anc(rid="2", event_date="2999-01-01")]})
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["status"] == "WARNING" and body["created"] == 1 and body["imported"] == 1
    assert body["rejected"] == body["ignored"] == 1
    assert body["conflicts"] == [
        {"index": 1, "field": "event_date", "reason": "Ngày: không được ở tương lai."}
    ]
    res = post(api, "anc", [anc(rid="1", note="x")])  # a bare list is accepted too
    assert res.json()["updated"] == 1


@pytest.mark.django_db
def test_r_int_01_idempotency_key_replay_and_conflict(api):
    batch = {"records": [anc(rid=str(i)) for i in range(3)]}
    first = post(api, "anc", batch, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 200 and first.json()["created"] == 3
    state = list(AncVisit.objects.order_by("id").values())
    again = post(api, "anc", batch, HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200 and again.json() == first.json()  # the stored answer, not "unchanged: 3"
    assert list(AncVisit.objects.order_by("id").values()) == state
    assert AuditEvent.objects.filter(action="register.api_batch").count() == 1
    assert IngestBatch.objects.count() == 1
    other = post(api, "anc", {"records": [anc(rid="9")]}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert other.status_code == 409 and other.json()["code"] == "idempotency_conflict"
    assert AncVisit.objects.count() == 3


@pytest.mark.django_db
def test_r_int_01_dry_run_writes_nothing(api):
    res = post(api, "delivery", {"records": [delivery()]}, params="?dryRun=true")
    assert res.status_code == 200 and res.json()["created"] == 1 and res.json()["dryRun"] is True
    assert AncVisit.objects.count() == 0 and IngestBatch.objects.count() == 0


@pytest.mark.django_db
def test_r_int_01_async_job_poll(api, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        res = post(api, "anc", {"records": [anc(rid="a"), anc(rid="b")]}, params="?async=true")
    assert res.status_code == 202
    job = res.json()["jobId"]
    polled = api.get(f"/api/v1/registers/jobs/{job}")
    assert polled.status_code == 200
    body = polled.json()
    assert body["status"] == "success" and body["summary"]["created"] == 2
    assert AncVisit.objects.count() == 2


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b'{"rows": []}', 400, "malformed"),
        (b'{"records": 5}', 422, "validation"),
        (b'{"records": [1, 2]}', 422, "validation"),
    ],
)
def test_r_int_01_malformed_batches_refused_whole(api, body, status, code):
    res = api.post(URL.format("anc"), data=body, content_type="application/json")
    assert res.status_code == status and res.json()["code"] == code
    assert AncVisit.objects.count() == 0


@pytest.mark.django_db
def test_batch_with_duplicate_keys_or_over_5000_records_refused_whole(api):
    res = post(api, "anc", {"records": [anc(rid="1"), anc(rid="1")]})
    assert res.status_code == 422 and res.json()["errors"][0]["index"] == 1
    res = post(api, "anc", {"records": [anc(rid=str(i)) for i in range(5001)]})
    assert res.status_code == 422 and "5000" in res.json()["errors"][0]["reason"]
    assert AncVisit.objects.count() == 0


@pytest.mark.django_db
def test_r_int_01_unknown_register_and_wrong_types(api):
    assert post(api, "nope", {"records": []}).status_code == 404
    res = post(api, "anc", {"records": [anc(gestational_age_weeks="ten", hiv_tested="maybe")]})
    fields = {c["field"] for c in res.json()["conflicts"]}
    assert fields == {"gestational_age_weeks", "hiv_tested"}


@pytest.mark.django_db
def test_r_sec_01_facility_outside_token_unit_rejected(api, tree):
    res = post(api, "anc", {"records": [anc(facility=tree.tyt_b1.code)]})
    assert res.json()["rejected"] == 1 and res.json()["conflicts"][0]["field"] == "facility"


@pytest.mark.django_db
def test_r_sec_02_token_without_write_scope_forbidden(tree):
    from mchis.accounts.services import api_client_create

    _, tok = api_client_create(actor=None, name="read only", unit=tree.tyt_a1, scopes=["register.view"])
    client = Client(HTTP_AUTHORIZATION=f"Bearer {tok}")
    assert post(client, "anc", {"records": [anc()]}).status_code == 403


@pytest.mark.django_db
def test_records_list_scoped_and_paginated(api, tree, make_user):
    post(api, "anc", {"records": [anc(rid=str(i)) for i in range(3)]})
    month = AncVisit.objects.get(source_record_id="1").month.strftime("%Y-%m")
    res = api.get(URL.format("anc") + f"?unit={tree.tyt_a1.code}&month={month}&limit=2")
    assert res.status_code == 200
    body = res.json()
    assert body["count"] == 3 and len(body["items"]) == 2 and body["items"][0]["facility"] == tree.tyt_a1.code
    outsider = Client()
    outsider.force_login(make_user("leader", tree.ttyt_b))
    assert outsider.get(URL.format("anc")).json()["count"] == 0
    assert outsider.get(URL.format("anc") + f"?unit={tree.tyt_a1.code}").status_code == 404


@pytest.mark.django_db
def test_registers_index_and_schemas(api):
    res = api.get("/api/v1/registers")
    keys = [r["key"] for r in res.json()]
    assert keys == ["anc", "delivery", "abortion", "gyn", "contraception", "child_exam", "death"]
    schema = api.get(res.json()[1]["schema_url"]).json()
    assert "newborns" in schema["required"] and schema["properties"]["place"]["enum"][0] == "at_facility"
    assert api.get("/api/v1/registers/nope/schema").status_code == 404


@pytest.mark.django_db
def test_session_user_can_post_with_csrf_exempt_test_client(tree, collector):
    client = Client()
    client.force_login(collector)
    res = post(client, "anc", {"records": [anc()]})
    assert res.status_code == 200 and res.json()["created"] == 1


@pytest.mark.django_db
def test_batch_larger_than_django_upload_limit_accepted(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024  # our endpoint reads the stream itself, with its own cap
    res = post(api, "anc", {"records": [anc(rid=str(i)) for i in range(50)]}, params="?dryRun=true")
    assert res.status_code == 200 and res.json()["created"] == 50


@pytest.mark.django_db
def test_r_mch_05_approved_period_locked_against_api_writes(api, tree):
    from mchis.registers.services import period_lock

    rec = anc(rid="L1")
    month = date.fromisoformat(rec["event_date"]).replace(day=1)
    period_lock(actor=None, unit=tree.tyt_a1, month=month, reason="Báo cáo đã duyệt")
    body = post(api, "anc", {"records": [rec]}).json()
    assert body["status"] == "ERROR" and body["rejected"] == 1
    assert "đã được duyệt và khóa" in body["conflicts"][0]["reason"]
    assert AncVisit.objects.count() == 0
