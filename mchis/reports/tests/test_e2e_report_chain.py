"""Browser walk (Playwright + Chromium): one month's report goes commune → TTYT → CDC → Sở, with one recall
and one return on the way (R-MCH-05, R-MCH-06)."""

from __future__ import annotations

import os
import shutil
from datetime import date

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
P = "2026-01"

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


def test_r_mch_05_report_walks_commune_ttyt_cdc_so_with_return_and_recall(
    transactional_db, live_server, tree, make_user, browser
):
    from mchis.accounts.testing import enrol_totp, totp_code
    from mchis.registers.models import Delivery, Newborn
    from mchis.reports.models import ReportInstance
    from mchis.reports.services import forms_load, shipped_form_files

    forms_load(actor=None, paths=shipped_form_files())
    d = Delivery.objects.create(
        facility=tree.tyt_a1, event_date=date(2026, 1, 9), month=date(2026, 1, 1), source_record_id="e2e-1"
    )
    Newborn.objects.create(
        delivery=d, facility=d.facility, month=d.month, event_date=d.event_date, outcome="stillbirth"
    )
    users = {
        "tyt": make_user("reporter", tree.tyt_a1, "bc.tyt"),
        "ttyt_leader": make_user("leader", tree.ttyt_a, "ld.ttyt"),
        "ttyt": make_user("reporter", tree.ttyt_a, "bc.ttyt"),
        "cdc_leader": make_user("leader", tree.cdc_a, "ld.cdc"),
        "cdc": make_user("reporter", tree.cdc_a, "bc.cdc"),
        "so_leader": make_user("leader", tree.doh_a, "ld.so"),
    }
    # approving is a critical action (R-SEC-04): each leader has an authenticator and answers the prompt
    devices = {who: enrol_totp(u)[0] for who, u in users.items() if who.endswith("_leader")}
    errors: list[str] = []

    def session(who: str):
        ctx = browser.new_context()
        page = ctx.new_page()
        page.set_default_timeout(60000)  # generous: CI shares 2 cores with another xdist worker
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", users[who].username)
        page.fill("input[name=password]", "Passw0rd!x")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        return page

    def open_report(page, form: str, unit: str):
        page.goto(f"{live_server.url}/reports/{form}/{unit}/{P}/")
        return page

    def act(page, verb: str, reason: str = "", who: str = ""):
        if reason:
            page.fill(f"#reason-{verb}", reason)
        page.click(f"[data-testid=act-{verb}]")
        page.wait_for_load_state()
        if who:  # the second-factor prompt, then the approval is sent again by itself
            page.locator("[data-testid=step-up]").wait_for()
            page.fill("input[name=code]", totp_code(devices[who], ahead=1))
            page.click("[data-testid=step-up] button[type=submit]")
            page.locator("[data-testid=state]").wait_for()

    def state(page) -> str:
        return page.locator("[data-testid=state]").inner_text()

    # Commune: types the manual cells (checked live by the form's own rules), submit, recall, submit again
    tyt = open_report(session("tyt"), "BCX3", tree.tyt_a1.code)
    assert tyt.locator('td[data-cell="I.5:total"]').inner_text() == "1"
    live = tyt.locator("#report-findings")
    assert "Chưa nhập ô bắt buộc" in live.inner_text()  # empty is not 0
    tyt.fill('#manual-form input[data-cell="I.1:total"]', "1")
    tyt.fill('#manual-form input[data-cell="I.1.1:total"]', "5")  # adolescents 5 > total 1 (issue 13.4)
    assert "Hàng I.1.1 (trong đó) không được lớn hơn hàng I.1. (5 <= 1 sai)" in live.inner_text()
    if os.environ.get("E2E_SCREENSHOTS"):
        tyt.screenshot(
            path=os.path.join(os.environ["E2E_SCREENSHOTS"], "bcx3-live-checks.png"), full_page=True
        )
    tyt.fill('#manual-form input[data-cell="I.1.1:total"]', "0")
    assert "I.1.1" not in live.inner_text() and "Chưa nhập ô bắt buộc" not in live.inner_text()
    act(tyt, "submit")  # a stillbirth: the warning "live births < deliveries" needs an explanation
    assert state(tyt) == "Nháp" and tyt.locator("#warning_comment").is_visible()
    tyt.fill("#warning_comment", "Một ca thai chết lưu")
    act(tyt, "submit")
    assert state(tyt) == "Đã gửi"
    act(tyt, "recall")
    assert state(tyt) == "Nháp"
    tyt.fill("#warning_comment", "Một ca thai chết lưu")
    act(tyt, "submit")

    # TTYT returns it with a reason; the commune sees the reason and resubmits; TTYT approves
    ttyt_l = open_report(session("ttyt_leader"), "BCX3", tree.tyt_a1.code)
    assert ttyt_l.locator("[data-testid=act-approve]").is_visible()
    act(ttyt_l, "return", "Thiếu số liệu đỡ đẻ tại nhà")
    assert state(ttyt_l) == "Bị trả lại"
    open_report(tyt, "BCX3", tree.tyt_a1.code)
    assert "Thiếu số liệu đỡ đẻ tại nhà" in tyt.locator("[data-testid=timeline]").inner_text()
    tyt.fill("#warning_comment", "Một ca thai chết lưu")
    act(tyt, "submit")
    open_report(ttyt_l, "BCX3", tree.tyt_a1.code)
    act(ttyt_l, "approve", who="ttyt_leader")
    assert state(ttyt_l) == "Đã duyệt"

    # TTYT sends its district report (includes the approved commune), CDC approves
    ttyt = open_report(session("ttyt"), "BCH4", tree.ttyt_a.code)
    assert ttyt.locator('[data-cell="T:7"]').inner_text() == "1"
    assert tree.tyt_a2.name in ttyt.locator("[data-testid=missing]").inner_text()
    # official layout: one row per commune (A2 marked missing), the TTYT's own row, then the total
    grid = ttyt.locator("[data-testid=unit-grid] tbody tr")
    assert [grid.nth(i).get_attribute("data-row") for i in range(grid.count())] == [
        tree.tyt_a1.code,
        tree.tyt_a2.code,
        tree.ttyt_a.code,
        "total",
    ]
    assert ttyt.locator(f'[data-cell="{tree.tyt_a1.code}:7"]').inner_text() == "1"
    assert ttyt.locator(f'[data-cell="{tree.tyt_a2.code}:7"]').inner_text() == "—"
    act(ttyt, "submit")
    cdc_l = open_report(session("cdc_leader"), "BCH4", tree.ttyt_a.code)
    act(cdc_l, "approve", who="cdc_leader")
    assert state(cdc_l) == "Đã duyệt"

    # CDC sends the province report, the Sở approves it
    cdc = open_report(session("cdc"), "BCT4", tree.cdc_a.code)
    assert cdc.locator('[data-cell="T:7"]').inner_text() == "1"
    assert cdc.locator(f'[data-cell="{tree.ttyt_a.code}:7"]').inner_text() == "1"
    act(cdc, "submit")
    so = open_report(session("so_leader"), "BCT4", tree.cdc_a.code)
    act(so, "approve", who="so_leader")
    assert state(so) == "Đã duyệt"

    chain = {
        (r.form.code, r.unit.code): r.status for r in ReportInstance.objects.select_related("form", "unit")
    }
    assert chain == {
        ("BCX3", tree.tyt_a1.code): "approved",
        ("BCH4", tree.ttyt_a.code): "approved",
        ("BCT4", tree.cdc_a.code): "approved",
    }
    actions = list(ReportInstance.objects.get(form__code="BCX3").transitions.values_list("action", flat=True))
    assert actions == ["submit", "recall", "submit", "return", "submit", "approve"]
    assert ReportInstance.objects.get(form__code="BCX3").warning_comment == "Một ca thai chết lưu"
    assert not [e for e in errors if "Content Security Policy" in e], errors
