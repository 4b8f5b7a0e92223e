"""POST /api/v1/offline/sync: deduplication by the browser's id, conflicts by base version, fates (ADR 0041/0042)."""

from __future__ import annotations

import gzip
import uuid
from typing import Any

import pytest
from django.test import Client

from mchis.offline.models import OfflineItem, StationSync
from mchis.registers.models import AncVisit
from mchis.registry.models import ChangeRequest, Child, RequestStatus
from mchis.registry.personal_id import compose
from mchis.registry.services import change_request_approve, child_propose_change

FORM = {
    "full_name": "Lò Văn Páo",
    "date_of_birth": "02/05/2021",
    "sex": "M",
    "mother_name": "Lò Thị Mai",
    "father_name": "Lò Văn Sính",
    "reason": "Sổ theo dõi",
}


@pytest.fixture(autouse=True)
def _no_2fa(settings):
    settings.ROLES_REQUIRING_2FA = []
    settings.REGISTRY_STEP_UP_FOR_CHANGES = False


def _client(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _sync(client: Client, *items: dict[str, Any], waiting: int = 0) -> Any:
    return client.post(
        "/api/v1/offline/sync", {"items": list(items), "waiting": waiting}, content_type="application/json"
    )


def _child_item(**fields: Any) -> dict[str, Any]:
    return {"client_id": str(uuid.uuid4()), "kind": "child_create", "fields": {**FORM, **fields}}


def test_r_ch_05_replayed_offline_child_creates_one_proposal(collector):
    client = _client(collector)
    item = _child_item()
    first = _sync(client, item, waiting=1)
    again = _sync(client, item)
    assert first.status_code == 200, first.content
    fate = first.json()["items"][0]
    assert fate["status"] == "accepted" and fate["decision"] == "pending"
    assert again.json()["items"][0]["object_ref"] == fate["object_ref"]
    assert ChangeRequest.objects.count() == 1
    assert OfflineItem.objects.get().attempts == 1


def test_items_are_handled_in_order_and_each_gets_its_fate(collector):
    items = [_child_item(full_name=name) for name in ("Lò Văn Một", "Lò Văn Hai", "Lò Văn Ba")]
    bad = _child_item(full_name="")
    answer = _sync(_client(collector), *items[:2], bad, items[2]).json()["items"]
    assert [a["status"] for a in answer] == ["accepted", "accepted", "rejected", "accepted"]
    assert "Họ và tên: bắt buộc nhập" in answer[2]["message"]
    assert answer[2]["errors"][0]["field"] == "full_name"
    names = [r.data["full_name"] for r in ChangeRequest.objects.order_by("proposed_at", "id")]
    assert names == ["Lò Văn Một", "Lò Văn Hai", "Lò Văn Ba"]


def test_a_rejected_item_fixed_and_sent_again_under_the_same_id_is_accepted(collector):
    client = _client(collector)
    item = _child_item(date_of_birth="31/02/2021")
    assert _sync(client, item).json()["items"][0]["status"] == "rejected"
    item["fields"]["date_of_birth"] = "28/02/2021"
    fate = _sync(client, item).json()["items"][0]
    assert fate["status"] == "accepted"
    assert ChangeRequest.objects.count() == 1
    assert OfflineItem.objects.get().attempts == 2


def test_register_record_replay_creates_one_row(collector, unit):
    client_id = str(uuid.uuid4())
    item = {
        "client_id": client_id,
        "kind": "register_record",
        "register": "anc",
        "fields": {
            "event_date": "03/11/2026",
            "place": "at_facility",
            "full_name": "Hoàng Thị Dung",
            "dob": "01/01/1998",
            "gestational_age_weeks": "12",
            "visit_number": "1",
        },
    }
    client = _client(collector)
    first = _sync(client, item).json()["items"][0]
    second = _sync(client, item).json()["items"][0]
    assert first["status"] == "accepted", first
    assert second["object_ref"] == first["object_ref"]
    assert AncVisit.objects.count() == 1
    assert AncVisit.objects.get().source_record_id == uuid.UUID(client_id).hex


def test_a_change_on_an_old_version_without_overlap_is_rebased_not_reverting(collector, leader, make_child):
    child = make_child()  # version 1
    online = child_propose_change(actor=collector, child=child, changes={"address_detail": "Bản Nà Hang"},
                                  reason="Cập nhật")  # fmt: skip
    change_request_approve(actor=leader, request=online)  # version 2
    fields = {**FORM, "full_name": child.full_name, "date_of_birth": "12/03/2018", "sex": "M",
              "mother_name": "Trần Thị Lan", "father_name": child.father_name,
              "personal_id": child.personal_id, "ethnicity_code": "01", "reason": "Mẹ đổi tên"}  # fmt: skip
    item = {"client_id": str(uuid.uuid4()), "kind": "child_change", "child": str(child.public_id),
            "base_version": 1, "fields": fields}  # fmt: skip
    fate = _sync(_client(collector), item).json()["items"][0]
    assert fate["status"] == "accepted", fate
    req = ChangeRequest.objects.get(public_id=fate["object_ref"])
    assert set(req.diff) == {"mother_name"}  # the offline form's stale address is not proposed
    assert not req.conflict


def test_a_change_on_an_old_version_of_the_same_field_is_a_conflict(collector, leader, leader2, make_child):
    child = make_child()
    online = child_propose_change(actor=collector, child=child, changes={"mother_name": "Trần Thị Hoa"},
                                  reason="Giấy khai sinh")  # fmt: skip
    change_request_approve(actor=leader, request=online)
    fields = {"full_name": child.full_name, "date_of_birth": "12/03/2018", "sex": "M",
              "mother_name": "Trần Thị Lan", "father_name": child.father_name,
              "personal_id": child.personal_id, "ethnicity_code": "01", "reason": "Mẹ đổi tên"}  # fmt: skip
    item = {"client_id": str(uuid.uuid4()), "kind": "child_change", "child": str(child.public_id),
            "base_version": 1, "fields": fields}  # fmt: skip
    client = _client(collector)
    fate = _sync(client, item).json()["items"][0]
    assert fate["status"] == "conflict" and fate["decision"] == "conflict"
    req = ChangeRequest.objects.get(public_id=fate["object_ref"])
    entry = req.conflict["mother_name"]
    assert (entry["base"], entry["theirs"], entry["ours"]) == ("Trần Thị Cúc", "Trần Thị Hoa", "Trần Thị Lan")
    assert entry["by"] and entry["at"]
    # never last-write-wins: approval waits for the resolution
    leader_client = _client(leader2)
    refused = leader_client.post(
        f"/api/v1/change-requests/{req.public_id}/approve", {}, content_type="application/json"
    )
    assert refused.status_code == 409
    assert Child.objects.get(pk=child.pk).mother_name == "Trần Thị Hoa"
    # the leader's page: side by side, then field by field
    page = leader_client.get(f"/offline/conflicts/{req.public_id}/")
    assert (
        page.status_code == 200
        and "Trần Thị Hoa" in page.content.decode()
        and "Trần Thị Lan" in page.content.decode()
    )
    done = leader_client.post(f"/offline/conflicts/{req.public_id}/", {"choice_mother_name": "ours"})
    assert done.status_code == 302
    req.refresh_from_db()
    assert not req.has_open_conflict and req.status == RequestStatus.PENDING
    assert req.diff == {"mother_name": ["Trần Thị Hoa", "Trần Thị Lan"]}
    # the collector sees the fate move on
    status = client.post(
        "/api/v1/offline/status", {"ids": [item["client_id"]]}, content_type="application/json"
    )
    assert status.json()[0]["status"] == "accepted" and status.json()[0]["decision"] == "pending"


def test_keeping_theirs_everywhere_closes_the_proposal_with_a_reason(collector, leader, leader2, make_child):
    child = make_child()
    change_request_approve(actor=leader, request=child_propose_change(
        actor=collector, child=child, changes={"mother_name": "Trần Thị Hoa"}, reason="Giấy khai sinh"))  # fmt: skip
    child.refresh_from_db()
    req = child_propose_change(actor=collector, child=child, changes={"mother_name": "Trần Thị Lan"},
                               reason="Mẹ đổi tên", base_version=1)  # fmt: skip
    assert req.has_open_conflict
    leader_client = _client(leader2)
    missing = leader_client.post(f"/offline/conflicts/{req.public_id}/", {})
    assert missing.status_code == 422 and "Chọn giá trị giữ lại" in missing.content.decode()
    leader_client.post(f"/offline/conflicts/{req.public_id}/", {"choice_mother_name": "theirs"})
    req.refresh_from_db()
    assert req.status == RequestStatus.REJECTED and req.comment
    assert req.conflict["mother_name"]["choice"] == "theirs"


def test_the_collector_cannot_resolve_and_another_province_sees_nothing(
    collector, make_user, tree, make_child, leader
):
    child = make_child()
    change_request_approve(actor=leader, request=child_propose_change(
        actor=collector, child=child, changes={"mother_name": "Trần Thị Hoa"}, reason="x"))  # fmt: skip
    child.refresh_from_db()
    req = child_propose_change(actor=collector, child=child, changes={"mother_name": "Trần Thị Lan"},
                               reason="y", base_version=1)  # fmt: skip
    assert _client(collector).get(f"/offline/conflicts/{req.public_id}/").status_code == 403
    other = make_user("leader", tree.tyt_b1)
    assert _client(other).get(f"/offline/conflicts/{req.public_id}/").status_code == 404
    assert "Lò" not in _client(other).get("/offline/conflicts/").content.decode()


def test_station_sync_is_recorded_for_the_district(collector, make_user, tree):
    _sync(_client(collector), _child_item(), waiting=3)
    row = StationSync.objects.get()
    assert row.last_success_at is not None and row.waiting == 2 and row.total_items == 1
    district = make_user("reporter", tree.ttyt_a)
    page = _client(district).get("/exchanges/")
    assert page.status_code == 200 and collector.username in page.content.decode()
    other = make_user("reporter", tree.ttyt_b)
    assert collector.username not in _client(other).get("/exchanges/").content.decode()


def test_a_disabled_account_cannot_sync(collector):
    client = _client(collector)
    type(collector).objects.filter(pk=collector.pk).update(is_active=False)
    assert _sync(client, _child_item()).status_code in (401, 403)
    assert not OfflineItem.objects.exists()


def test_device_key_is_per_person_and_stable(collector, leader):
    one, again = _client(collector).get("/api/v1/offline/key"), _client(collector).get("/api/v1/offline/key")
    assert one.status_code == 200 and one.json()["key"] == again.json()["key"]
    assert len(__import__("base64").b64decode(one.json()["key"])) == 32
    assert _client(leader).get("/api/v1/offline/key").json()["key"] != one.json()["key"]
    assert one["Cache-Control"] == "no-store"


def test_reference_data_holds_only_the_own_unit(collector, make_child, make_user, tree):
    make_child()
    data = _client(collector).get("/api/v1/offline/reference").json()
    assert len(data["children"]) == 1 and data["unit"]["code"] == collector.unit.code
    district = make_user("reporter", tree.ttyt_a)
    assert _client(district).get("/api/v1/offline/reference").json()["children"] == []


def test_service_worker_and_manifest_are_served_by_the_product(client):
    sw = client.get("/sw.js")
    assert sw.status_code == 200 and sw["Content-Type"].startswith("application/javascript")
    assert sw["Service-Worker-Allowed"] == "/"
    assert "workbox-core" in sw.content.decode() and "//cdn" not in sw.content.decode()
    manifest = client.get("/manifest.webmanifest")
    assert manifest.status_code == 200 and manifest["Content-Type"].startswith("application/manifest+json")
    assert manifest.json()["scope"] == "/"


def test_a_fault_on_one_entry_does_not_hold_the_queue_back(collector, monkeypatch):
    from mchis.offline import services

    real = services._run
    broken = _child_item(full_name="Lò Văn Hỏng")

    def run(actor, unit, entry):
        if str(entry.client_id) == broken["client_id"]:
            raise RuntimeError("boom")
        return real(actor, unit, entry)

    monkeypatch.setattr(services, "_run", run)
    answer = _sync(_client(collector), broken, _child_item()).json()["items"]
    assert [a["status"] for a in answer] == ["rejected", "accepted"]
    assert "Máy chủ gặp lỗi" in answer[0]["message"]


def test_reference_data_carries_what_the_offline_duplicate_hint_compares(
    collector, make_child, make_user, tree
):
    pid = compose(prefix="008", birth_year=2018, sex="M", serial=777)
    make_child(full_name="Lò Văn Páo", personal_id=pid, mother_name="Lò Thị Mai")
    row = _client(collector).get("/api/v1/offline/reference").json()["children"][0]
    assert {k: row[k] for k in ("name", "dob", "mother", "pid")} == {
        "name": "Lò Văn Páo", "dob": "12/03/2018", "mother": "Lò Thị Mai", "pid": pid
    }  # fmt: skip
    sibling = make_user("collector", tree.tyt_a2)  # same district, another station: none of ours
    assert _client(sibling).get("/api/v1/offline/reference").json()["children"] == []


def test_reference_data_of_2000_children_stays_small(collector, make_child):
    """A large commune (2,000 children): the JSON the device fetches and keeps (encrypted, +33 % base64)."""
    child = make_child()
    clones = []
    for i in range(1999):
        clone = Child.objects.get(pk=child.pk)
        clone.pk, clone.public_id = None, uuid.uuid4()
        clone.full_name = f"Hoàng Thị Phương Thảo {i}"
        clone.mother_name, clone.personal_id = "Nguyễn Thị Hồng Nhung", f"0012210{i:05d}"
        clone.source_ref = f"clone-{i}"
        clones.append(clone)
    Child.objects.bulk_create(clones)
    answer = _client(collector).get("/api/v1/offline/reference")
    assert len(answer.json()["children"]) == 2000
    size, packed = len(answer.content), len(gzip.compress(answer.content))
    print(
        f"reference data, 2000 children: {size} bytes, {packed} gzipped"
    )  # the figure in docs/offline.md (-s)
    assert size < 450_000  # about 205 bytes a child
