"""R-INT-02 / R-INT-05: the e-MCH handbook feed (consent, cursor, paging, ETag, signature, scoping,
withdrawal) and the FHIR read API (metadata, Patient / Encounter / Observation, scoped)."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from django.test import Client

from mchis.integrations.exchange import keys, signing
from mchis.integrations.handbook import feed
from mchis.integrations.handbook.services import handbook_consent_give
from mchis.outbox.models import EntryStatus, OutboxEntry
from mchis.registers.models import AncVisit
from mchis.registers.services import records_upsert
from mchis.registers.tests.conftest import anc, delivery

MOTHER = "008195000123"
OTHER = "008195000456"


@pytest.fixture
def clerk(tree, make_user):
    return make_user("collector", tree.tyt_a1)


def _token(unit, scopes):
    from mchis.accounts.services import api_client_create

    _, token = api_client_create(actor=None, name=f"app {unit.code}", unit=unit, scopes=scopes)
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def app_a(tree):
    return _token(tree.doh_a, ["handbook.view"])


@pytest.fixture
def app_b(tree):
    return _token(tree.doh_b, ["handbook.view"])


def _pull(headers, since=0, limit=100, **extra):
    return Client().get("/api/v1/handbook/feed", {"since": since, "limit": limit}, **headers, **extra)


def _seed(clerk):
    today = date.today()
    lmp = today - timedelta(weeks=18)
    records_upsert(
        actor=clerk,
        register="anc",
        records=[
            anc(rid="A-1", personal_id=MOTHER, lmp_date=lmp.isoformat(), gestational_age_weeks=18),
            anc(rid="A-2", personal_id=OTHER),
        ],
    )


def test_r_int_02_only_consenting_persons_are_in_the_feed_with_their_timeline(clerk, app_a):
    _seed(clerk)
    handbook_consent_give(actor=clerk, personal_id=MOTHER)
    answer = _pull(app_a)
    assert answer.status_code == 200
    page = json.loads(answer.content)
    assert [p["person"]["personal_id"] for p in page["persons"]] == [MOTHER]  # OTHER never consented
    person = page["persons"][0]
    assert person["anc_contacts"][0]["gestational_age_weeks"] == 18
    lmp = date.fromisoformat(person["pregnancy"]["lmp_date"])
    assert person["pregnancy"]["next_contact_due"] == (lmp + timedelta(weeks=20)).isoformat()
    # signed by us for the handbook app, and cacheable by ETag
    signing.verify_detached(
        answer[signing.HEADER], answer.content, jwks=keys.public_jwks(), audience="handbook"
    )
    assert _pull(app_a, HTTP_IF_NONE_MATCH=answer["ETag"]).status_code == 304


def test_r_int_02_the_cursor_pages_and_acknowledges_what_the_app_has_read(clerk, app_a):
    for i in range(5):
        handbook_consent_give(actor=clerk, personal_id=f"0081950001{i:02d}")
    first = json.loads(_pull(app_a, limit=2).content)
    assert first["has_more"] and len(first["persons"]) == 2
    second = json.loads(_pull(app_a, since=first["cursor"], limit=2).content)
    assert {p["person"]["personal_id"] for p in second["persons"]}.isdisjoint(
        {p["person"]["personal_id"] for p in first["persons"]}
    )
    delivered = OutboxEntry.objects.filter(partner="handbook", status=EntryStatus.DELIVERED)
    assert set(delivered.values_list("id", flat=True)) == set(
        OutboxEntry.objects.filter(partner="handbook", id__lte=first["cursor"]).values_list("id", flat=True)
    )
    assert json.loads(_pull(app_a, since=second["cursor"] + 1000).content)["persons"] == []


def test_r_int_02_a_withdrawn_person_leaves_the_feed(clerk, app_a):
    _seed(clerk)
    handbook_consent_give(actor=clerk, personal_id=MOTHER)
    cursor = json.loads(_pull(app_a).content)["cursor"]
    client = Client()
    client.force_login(clerk)
    answer = client.post(
        "/api/v1/handbook/consents/withdraw",
        {"personal_id": MOTHER, "reason": "không muốn dùng ứng dụng"},
        content_type="application/json",
    )
    assert answer.status_code == 200 and answer.json()["withdrawn_at"]
    page = json.loads(_pull(app_a, since=cursor).content)
    assert page["persons"] == [{"person": {"personal_id": MOTHER}, "withdrawn": True}]  # a tombstone, no data
    records_upsert(actor=clerk, register="anc", records=[anc(rid="A-9", personal_id=MOTHER)])
    later = json.loads(_pull(app_a, since=page["cursor"]).content)
    assert later["persons"] == []  # new data of a withdrawn person is never served
    full = json.loads(_pull(app_a).content)
    assert all("anc_contacts" not in p for p in full["persons"])


def test_r_int_02_the_feed_is_scoped_to_the_app_tokens_province(clerk, app_a, app_b):
    _seed(clerk)
    handbook_consent_give(actor=clerk, personal_id=MOTHER)
    assert json.loads(_pull(app_b).content)["persons"] == []  # province B's app sees nothing of A
    assert len(json.loads(_pull(app_a).content)["persons"]) == 1
    assert _pull({}).status_code == 401
    people_token = _token(clerk.unit, ["register.view"])
    assert _pull(people_token).status_code == 403


def test_r_int_02_consent_is_recorded_once_with_a_valid_id(clerk):
    client = Client()
    client.force_login(clerk)
    ok = client.post("/api/v1/handbook/consents", {"personal_id": MOTHER}, content_type="application/json")
    assert ok.status_code == 201
    again = client.post("/api/v1/handbook/consents", {"personal_id": MOTHER}, content_type="application/json")
    assert again.status_code == 409
    bad = client.post("/api/v1/handbook/consents", {"personal_id": "12ab"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["field"] == "personal_id"


def test_next_contact_schedules():
    lmp = date(2026, 1, 1)
    assert feed.next_anc_contact(lmp=lmp, edd=None, last_visit=lmp + timedelta(weeks=21)) == lmp + timedelta(
        weeks=26
    )
    assert feed.next_anc_contact(lmp=None, edd=None, last_visit=lmp) is None
    dob = date(2025, 1, 1)
    assert feed.next_child_exam(dob=dob, last_exam=date(2025, 6, 1)) == date(2025, 7, 1)
    assert feed.next_child_exam(dob=dob, last_exam=date(2027, 6, 1)) == date(2027, 11, 28)
    assert feed.next_child_exam(dob=dob, last_exam=date(2029, 12, 1)) is None


def test_fhir_metadata_is_a_valid_capability_statement():
    answer = Client().get("/api/v1/fhir/metadata")
    assert answer.status_code == 200 and answer["Content-Type"] == "application/fhir+json"
    body = answer.json()
    assert body["resourceType"] == "CapabilityStatement" and body["fhirVersion"] == "4.0.1"
    assert {r["type"] for r in body["rest"][0]["resource"]} == {"Patient", "Encounter", "Observation"}


def test_fhir_reads_are_scoped(clerk, tree, make_user):
    records_upsert(actor=clerk, register="anc", records=[anc(rid="A-1", personal_id=MOTHER)])
    records_upsert(actor=clerk, register="delivery", records=[delivery(rid="D-1")])
    row = AncVisit.objects.get()
    client = Client()
    client.force_login(clerk)
    patient = client.get(f"/api/v1/fhir/Patient/pid-{MOTHER}")
    assert patient.status_code == 200 and patient.json()["identifier"][0]["value"] == MOTHER
    assert client.get(f"/api/v1/fhir/Encounter/anc-{row.pk}").json()["status"] == "finished"
    assert client.get(f"/api/v1/fhir/Observation/anc-{row.pk}-ga").json()["valueQuantity"]["value"] == 10
    newborn = client.get(
        "/api/v1/fhir/Encounter/delivery-"
        + str(__import__("mchis.registers.models").registers.models.Delivery.objects.get().pk)
    )
    assert newborn.status_code == 200
    outsider = Client()
    outsider.force_login(make_user("collector", tree.tyt_b1))
    for path in (f"Patient/pid-{MOTHER}", f"Encounter/anc-{row.pk}", f"Observation/anc-{row.pk}-ga"):
        answer = outsider.get(f"/api/v1/fhir/{path}")
        assert answer.status_code == 404 and answer.json()["resourceType"] == "OperationOutcome"
    assert client.get("/api/v1/fhir/Encounter/anc-99999999").status_code == 404
    assert client.get("/api/v1/fhir/Patient/../../etc").status_code == 404
