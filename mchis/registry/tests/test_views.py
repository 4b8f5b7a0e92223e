"""Server-rendered pages: inline Vietnamese errors, warnings to acknowledge, queue, decisions, timeline."""

from __future__ import annotations

import pytest
from django.test import Client

from mchis.registry.models import ChangeRequest, Child, RequestStatus
from mchis.registry.personal_id import compose
from mchis.registry.tests.conftest import VALID_DATA


@pytest.fixture(autouse=True)
def _no_login_2fa(settings):
    # 2FA at login is the accounts app's concern; these tests act on already-verified sessions.
    settings.ROLES_REQUIRING_2FA = []
    settings.REGISTRY_STEP_UP_FOR_CHANGES = False


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(**overrides):
    body = {**VALID_DATA, "date_of_birth": "12/03/2018", "client_key": "key-1"}
    body.update(overrides)
    return body


def test_r_ch_05_form_shows_inline_errors_naming_the_field(collector):
    response = _client(collector).post("/children/new/", _form(full_name="", personal_id="123"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Họ và tên: bắt buộc nhập." in html
    assert "Số định danh cá nhân: Số định danh phải gồm đúng 12 chữ số." in html
    assert ChangeRequest.objects.count() == 0


def test_r_ch_08_form_asks_to_acknowledge_warnings(collector):
    client = _client(collector)
    data = _form(personal_id=compose(prefix="008", birth_year=2016, sex="M", serial=5))
    first = client.post("/children/new/", data)
    assert "Tôi đã kiểm tra các cảnh báo" in first.content.decode()
    assert ChangeRequest.objects.count() == 0
    second = client.post("/children/new/", {**data, "acknowledge_warnings": "on"})
    assert second.status_code == 302
    assert ChangeRequest.objects.count() == 1


def test_r_ch_05_resubmitted_form_creates_nothing_twice(collector):
    client = _client(collector)
    first = client.post("/children/new/", _form())
    again = client.post("/children/new/", _form())
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    assert ChangeRequest.objects.count() == 1


def test_r_ch_05_leader_queue_decision_and_timeline(collector, leader):
    _client(collector).post("/children/new/", _form())
    request = ChangeRequest.objects.get()
    lead = _client(leader)
    queue = lead.get("/children/requests/")
    assert "Thêm mới: 1" in queue.content.decode()
    home = lead.get("/")
    assert "Đề xuất chờ duyệt" in home.content.decode()
    response = lead.post(f"/children/requests/{request.public_id}/", {"action": "approve", "comment": ""})
    assert response.status_code == 302
    child = Child.objects.get()
    page = lead.get(f"/children/{child.public_id}/").content.decode()
    assert collector.username in page and leader.username in page
    assert 'class="tl-entry"' in page


def test_r_ch_05_return_requires_comment_then_collector_corrects(collector, leader, make_child):
    child = make_child()
    col = _client(collector)
    response = col.post(
        f"/children/{child.public_id}/change/",
        {**_form(mother_name="Trần Thị Cú"), "reason": "Sai tên", "client_key": "k2"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    req = ChangeRequest.objects.get(kind="change")
    assert req.diff == {"mother_name": ["Trần Thị Cúc", "Trần Thị Cú"]}
    lead = _client(leader)
    page = lead.post(
        f"/children/requests/{req.public_id}/", {"action": "return", "comment": ""}
    ).content.decode()
    assert "Ý kiến: bắt buộc nhập" in page
    lead.post(f"/children/requests/{req.public_id}/", {"action": "return", "comment": "Kiểm tra lại tên mẹ"})
    req.refresh_from_db()
    assert req.status == RequestStatus.RETURNED
    edit = col.post(
        f"/children/requests/{req.public_id}/edit/",
        {**_form(mother_name="Trần Thị Cúc Hoa"), "reason": "Sai tên"},
    )
    assert edit.status_code == 302
    req.refresh_from_db()
    assert req.status == RequestStatus.PENDING and req.diff["mother_name"][1] == "Trần Thị Cúc Hoa"


def test_r_sec_01_other_commune_page_is_404(make_child, make_user, tree):
    child = make_child()
    outsider = _client(make_user("collector", tree.tyt_b1))
    assert outsider.get(f"/children/{child.public_id}/").status_code == 404
    assert outsider.get(f"/children/{child.public_id}/change/").status_code == 404


def test_r_ch_05_change_form_previews_the_diff_without_sending(collector, make_child):
    child = make_child()
    page = _client(collector).post(
        f"/children/{child.public_id}/change/",
        {**_form(mother_name="Trần Thị Cúc Hoa"), "reason": "Sai tên", "preview": "1"},
    )
    html = page.content.decode()
    assert page.status_code == 200 and "Các thay đổi sẽ gửi" in html
    assert "<del>Trần Thị Cúc</del>" in html and "<ins>Trần Thị Cúc Hoa</ins>" in html
    assert not ChangeRequest.objects.filter(kind="change").exists()
