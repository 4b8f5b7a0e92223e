"""Browser walk (Playwright + Chromium): collector adds a child → leader approves → the timeline shows both
steps; collector proposes a change → leader returns it → collector corrects → leader approves (R-CH-04/05).
Also: the form's entry made offline is queued and sent once when back online (deduplicated by key)."""

from __future__ import annotations

import os
import shutil
import time

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason="Chromium not installed (apt-get install chromium)"
    ),
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def _page(browser, live_server, user, *, second_factor: bool = False):
    """A browser session for `user`. Leaders must pass 2FA at login (accounts app): their session is marked
    as OTP-verified with a confirmed device and a fresh step-up, as the accounts flow would leave it."""
    from django.test import Client
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client = Client()
    client.force_login(user)
    if second_factor:
        device = TOTPDevice.objects.create(user=user, name="e2e", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session["mchis_step_up_at"] = time.time()
        session.save()
    context = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    context.add_cookies(
        [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
    )
    page = context.new_page()
    page.set_default_timeout(60000)  # generous: CI shares 2 cores with another xdist worker
    return context, page


def _fill_child(page, name: str) -> None:
    page.fill("#id_full_name", name)
    page.keyboard.press("Tab")
    page.keyboard.type("12/03/2018")
    page.select_option("#id_sex", "M")
    page.select_option("#id_ethnicity_code", "01")
    page.fill("#id_mother_name", "Trần Thị Cúc")


def test_r_ch_05_collector_adds_leader_approves_change_returned_corrected_approved(
    transactional_db, live_server, tree, make_user, browser
):
    from mchis.registry.models import ChangeRequest, Child

    collector = make_user("collector", tree.tyt_a1, "cb.thu_thap")
    leader = make_user("leader", tree.tyt_a1, "ld.tram")
    _, col = _page(browser, live_server, collector)
    _, lead = _page(browser, live_server, leader, second_factor=True)
    base = live_server.url

    # 1. collector adds a child (proposal only)
    col.goto(f"{base}/children/new/")
    _fill_child(col, "Nguyễn Văn An")
    col.click("main form[method=post] button[name=send]")
    col.wait_for_url("**/children/requests/**")
    assert "Chờ duyệt" in col.locator(".req-status").inner_text()
    assert Child.objects.count() == 0

    # 2. leader approves from the queue
    lead.goto(f"{base}/children/requests/")
    assert "Thêm mới: 1" in lead.content()
    lead.click("table a >> nth=0")
    lead.click("button[value=approve]")
    lead.wait_for_load_state()
    assert "Đã duyệt" in lead.locator(".req-status").inner_text()
    child = Child.objects.get()

    # 3. the timeline shows both steps (who proposed, who approved)
    col.goto(f"{base}/children/{child.public_id}/")
    entry = col.locator(".tl-entry").first
    assert entry.locator(".tl-proposer").inner_text() == collector.username
    assert entry.locator(".tl-approver").inner_text() == leader.username

    # 4. collector proposes a change
    col.click("text=Đề xuất thay đổi")
    col.fill("#id_mother_name", "Trần Thị Cú")
    col.fill("#id_reason", "Sai tên mẹ theo giấy khai sinh")
    col.click("main form[method=post] button[name=send]")
    col.wait_for_url("**/children/requests/**")
    change = ChangeRequest.objects.get(kind="change")
    assert "Trần Thị Cú" in col.locator(".diff-table").inner_text()

    # 5. leader returns it with a comment
    lead.goto(f"{base}/children/requests/{change.public_id}/")
    lead.fill("#id_comment", "Tên mẹ thiếu chữ, kiểm tra lại")
    lead.click("button[value=return]")
    lead.wait_for_load_state()
    assert "Trả lại để sửa" in lead.locator(".req-status").inner_text()

    # 6. collector corrects and resubmits
    col.goto(f"{base}/children/requests/{change.public_id}/")
    assert "Tên mẹ thiếu chữ" in col.content()
    col.click("text=Sửa và gửi lại")
    col.fill("#id_mother_name", "Trần Thị Cúc Hoa")
    col.click("main form[method=post] button[name=send]")
    col.wait_for_load_state()
    assert "Chờ duyệt" in col.locator(".req-status").inner_text()

    # 7. leader approves; the timeline has both versions and the change
    lead.goto(f"{base}/children/requests/{change.public_id}/")
    lead.click("button[value=approve]")
    lead.wait_for_load_state()
    assert "Đã duyệt" in lead.locator(".req-status").inner_text()
    lead.goto(f"{base}/children/{child.public_id}/")
    entries = lead.locator(".tl-entry")
    assert entries.count() == 2
    assert "Trần Thị Cúc Hoa" in entries.nth(1).inner_text()
    child.refresh_from_db()
    assert child.mother_name == "Trần Thị Cúc Hoa"


def test_r_ch_05_offline_draft_is_sent_once_when_back_online(
    transactional_db, live_server, tree, make_user, browser
):
    from mchis.registry.models import ChangeRequest

    collector = make_user("collector", tree.tyt_a1, "cb.offline")
    context, page = _page(browser, live_server, collector)
    page.goto(f"{live_server.url}/children/new/")
    key = page.locator("[data-client-key]").input_value()
    assert len(key) >= 32  # crypto.randomUUID
    _fill_child(page, "Lò Thị Hoa")
    page.wait_for_function("document.body.dataset.offlineUser && window.MchisOutbox")
    # the device key arrives once per session (docs/offline.md): wait for it, not for a fixed time
    _poll(page, f"MchisOutbox.key('{collector.pk}', {{cachedOnly: true}}).then(k => !!k)")
    context.set_offline(True)
    page.click("main form[method=post] button[name=send]")
    # the offline outbox (issue 18) keeps it, under the form's own key, and sends it when back online; the
    # save is asynchronous (encryption, IndexedDB): wait for its message
    _poll(page, "(document.querySelector('#offline-status') || {}).textContent.includes('hàng chờ')")
    assert ChangeRequest.objects.count() == 0
    context.set_offline(False)
    for _ in range(120):
        if ChangeRequest.objects.exists():
            break
        time.sleep(0.5)
    assert ChangeRequest.objects.count() == 1
    assert ChangeRequest.objects.get().client_key == key
    # a fresh form starts empty with a new key
    page.goto(f"{live_server.url}/children/new/")
    assert page.locator("#id_full_name").input_value() == ""
    assert page.locator("[data-client-key]").input_value() != key


def _poll(page, expression: str, seconds: float = 30) -> None:
    """Poll a JavaScript expression from outside the page until it is truthy (a failure names it)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if page.evaluate(expression):
            return
        time.sleep(0.2)
    raise AssertionError(f"still false after {seconds} s: {expression}")


def test_a_province_searches_by_name_on_a_phone_and_is_asked_to_narrow_past_the_cap(
    transactional_db, live_server, tree, make_user, browser, monkeypatch
):
    """The Sở Y tế's name search (per-province indexes, ADR 0081) with more matches than the counted cap: the
    list shows the first page, says there are more and asks to narrow it (screenshots in test-results/)."""
    from datetime import date
    from pathlib import Path

    from mchis.core.text import fold
    from mchis.registry import selectors
    from mchis.registry.models import Child

    for n, unit, commune in ((0, tree.tyt_a1, tree.commune_a1), (1, tree.tyt_a2, tree.commune_a2)) * 3:
        name = f"Nguyễn Văn An {chr(65 + len(Child.objects.all()))}"
        Child.objects.create(unit=unit, commune=commune, full_name=name, name_folded=fold(name),
                             date_of_birth=date(2019, 1, 1 + n), mother_name="Lò Thị Mai")  # fmt: skip
    monkeypatch.setattr(selectors, "SEARCH_COUNT_CAP", 4)
    monkeypatch.setattr(selectors, "PAGE_SIZE", 3)
    _, page = _page(browser, live_server, make_user("viewer", tree.doh_a, "so.xem"))
    page.goto(f"{live_server.url}/children/")
    page.fill("input[name=q]", "nguyen van an")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**q=nguyen**")
    text = page.locator("main").inner_text()
    assert "Hơn 4 trẻ: hãy thu hẹp tìm kiếm" in text and "1/2" in text
    assert page.locator("tbody tr").count() == 3
    results = Path(__file__).resolve().parents[3] / "test-results" / "registry"
    results.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(results / "province-search-capped-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(results / "province-search-capped-desktop.png"), full_page=True)
    page.click("text=»")
    assert (
        "2/2" in page.locator("main").inner_text() and page.locator("text=»").count() == 0
    )  # the last within the cap


def test_the_ministry_narrows_a_name_search_to_a_province_on_a_phone(
    transactional_db, live_server, tree, make_user, browser
):
    """Above the provinces a name-only search reads every province's indexes: the page says so and offers the
    province select; picking one keeps the query and pages within that province (screenshots in
    test-results/)."""
    from datetime import date
    from pathlib import Path

    from mchis.core.text import fold
    from mchis.registry.models import Child

    for unit, commune, name in (
        (tree.tyt_a1, tree.commune_a1, "Nguyễn Văn An"),
        (tree.tyt_b1, tree.commune_b1, "Nguyễn Văn An Khang"),
    ):
        Child.objects.create(unit=unit, commune=commune, full_name=name, name_folded=fold(name),
                             date_of_birth=date(2019, 1, 1))  # fmt: skip
    _, page = _page(browser, live_server, make_user("viewer", tree.ministry, "bo.xem"))
    page.goto(f"{live_server.url}/children/?q=nguyen+van+an")
    assert "trên cả nước" in page.locator("main").inner_text() and page.locator("tbody tr").count() == 2
    results = Path(__file__).resolve().parents[3] / "test-results" / "registry"
    results.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(results / "ministry-search-national-phone.png"), full_page=True)
    page.select_option("select[name=province]", label="Cao Bằng")
    page.click("form[role=search] button[type=submit]")
    page.wait_for_url("**province=04**")
    text = page.locator("main").inner_text()
    assert (
        "Nguyễn Văn An Khang" in text and page.locator("tbody tr").count() == 1 and "trên cả nước" not in text
    )
    page.set_viewport_size({"width": 1280, "height": 800})
    page.screenshot(path=str(results / "ministry-search-province-desktop.png"), full_page=True)
