"""Browser walks (Playwright + Chromium), by clicking only, on a desktop (1366 px) and a phone (360 px):

* a commune **collector** adds a child who may already exist (the warning, "đây là trẻ khác" + reason) and
  finds the request the leader returned at the top of the home page;
* the commune **leader** decides from the queue: approves the new child (confirming it is another child) and
  returns a change with a reason;
* a **district reporter** opens the reports of the month and sends the district report;
* a provincial **auditor** runs a phúc tra: new campaign, random sample, "all fields match" (keyboard), closes it.

Screenshots go to test-results/<viewport>/ (gitignored) for a person to look at. With MCHIS_GUIDE_SHOTS=1 the
desktop run also writes the user guide's pictures (docs/user-guide/img/*.jpg, small JPEGs).
"""

from __future__ import annotations

import os
import shutil
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
ROOT = Path(__file__).resolve().parents[3]
RESULTS = ROOT / "test-results"
GUIDE = ROOT / "docs" / "user-guide" / "img"
# Known missing menu entries, each with the work that adds it; the walk stops as expected-to-fail there.
MENU_GAPS = {"/children/": "issue 13 item 1: the collector's menu starts with Sổ theo dõi trẻ em"}
VIEWPORTS = {"desktop": {"width": 1366, "height": 800}, "phone": {"width": 360, "height": 740}}

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


class Walk:
    """One person's browser session: clicks, typing, screenshots (no URL is typed after the first page)."""

    def __init__(self, browser: Any, live_server: Any, user: Any, viewport: str, role: str) -> None:
        from django.test import Client
        from django_otp.plugins.otp_totp.models import TOTPDevice

        client = Client()
        client.force_login(user)
        device = TOTPDevice.objects.create(user=user, name="e2e", confirmed=True)
        session = client.session
        session["otp_device_id"] = device.persistent_id
        session["mchis_step_up_at"] = time.time()
        session.save()
        self.viewport, self.role, self.n = viewport, role, 0
        self.context = browser.new_context(viewport=VIEWPORTS[viewport], locale="vi-VN")
        self.context.add_cookies(
            [{"name": "sessionid", "value": client.cookies["sessionid"].value, "url": live_server.url}]
        )
        self.page = self.context.new_page()
        self.page.set_default_timeout(60000)  # generous: CI shares 2 cores with another xdist worker
        self.errors: list[str] = []
        self.page.on("console", self._console)
        self.page.goto(live_server.url + "/")

    def _console(self, message) -> None:  # message: Playwright's ConsoleMessage
        # The page and source line travel with the message, so a CSP failure names the page that caused it.
        if message.type == "error":
            where = message.location or {}
            self.errors.append(
                f"{self.page.url} [{where.get('url', '')}:{where.get('lineNumber', '')}] {message.text}"
            )

    def nav(self, href: str) -> None:
        """Click the menu link to `href` (opening the phone menu first when it is collapsed), else a link to it
        on the page (a home card). A page a person cannot reach by clicking fails the walk."""
        link = self.page.locator(f"header a[href='{href}']").first
        if link.count() and not link.is_visible():
            toggle = self.page.locator("header [aria-controls], header .menu-toggle, header summary").first
            if toggle.count():
                toggle.click()
        if not link.count() or not link.is_visible():
            link = self.page.locator(f"main a[href='{href}']").first
        if not link.count():
            if os.environ.get("MCHIS_E2E_ALLOW_GOTO") == "1":  # developer aid while a menu entry is missing
                self.page.goto(self.page.url.split("/", 3)[0] + "//" + self.page.url.split("/", 3)[2] + href)
                return
            if href in MENU_GAPS:
                pytest.xfail(f"{self.role}: {href} is not in the menu yet ({MENU_GAPS[href]})")
            raise AssertionError(f"{self.role}: no link to {href} on {self.page.url}")
        link.click()
        self.page.wait_for_load_state()

    def click(self, selector: str) -> None:
        self.page.locator(selector).first.click()
        self.page.wait_for_load_state()

    def shot(self, name: str, guide: str = "") -> None:
        self.n += 1
        folder = RESULTS / self.viewport
        folder.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(folder / f"{self.role}-{self.n:02d}-{name}.png"), full_page=True)
        if guide and self.viewport == "desktop" and os.environ.get("MCHIS_GUIDE_SHOTS") == "1":
            GUIDE.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(GUIDE / f"{guide}.jpg"), type="jpeg", quality=70, full_page=False)


def _world(tree: Any, make_user: Any) -> dict[str, Any]:
    """A commune with one live child, a pending change to return, approved commune reports, an auditor."""
    from django.utils import timezone

    from mchis.core.context import RequestMeta, reset_meta, set_meta
    from mchis.places.models import Village
    from mchis.registers.models import Delivery, Newborn
    from mchis.registry import services as reg
    from mchis.reports.services import (
        forms_load,
        report_approve,
        report_set_manual_values,
        report_submit,
        shipped_form_files,
    )

    Village.objects.get_or_create(commune=tree.commune_a1, code="T1", defaults={"name": "Thôn Làng Chùa"})
    people = {
        "collector": make_user("collector", tree.tyt_a1, "cb.thu_thap"),
        "leader": make_user("leader", tree.tyt_a1, "ld.tram"),
        "district_reporter": make_user("reporter", tree.ttyt_a, "bc.ttyt"),
        "district_leader": make_user("leader", tree.ttyt_a, "ld.ttyt"),
        "commune_reporter": make_user("reporter", tree.tyt_a1, "bc.tyt"),
        "auditor": make_user("auditor", tree.doh_a, "pt.so"),
    }
    names = {"collector": ("Hoàng Thị", "Mai"), "leader": ("Nguyễn Văn", "Hùng"), "district_reporter": ("Lê Thị", "Thu"),
             "district_leader": ("Trần Quốc", "Bảo"), "commune_reporter": ("Vũ Thị", "Yến"), "auditor": ("Phạm Minh", "Đức")}  # fmt: skip
    for key, (last, first) in names.items():
        type(people[key]).objects.filter(pk=people[key].pk).update(last_name=last, first_name=first)
        people[key].refresh_from_db()
    token = set_meta(RequestMeta(step_up_at=timezone.now()))
    try:
        for name, dob, mother in (("Nguyễn Văn An", "12/03/2018", "Trần Thị Cúc"),
                                  ("Lò Thị Hoa", "05/07/2019", "Lò Thị Xoan"),
                                  ("Phạm Minh Khôi", "21/11/2020", "Đỗ Thị Hạnh")):  # fmt: skip
            req = reg.child_propose_create(
                actor=people["collector"], unit=tree.tyt_a1, acknowledge_warnings=True,
                data={"full_name": name, "date_of_birth": dob, "sex": "M" if "Văn" in name or "Minh" in name else "F",
                      "ethnicity_code": "01", "mother_name": mother},
            )  # fmt: skip
            reg.change_request_approve(actor=people["leader"], request=req)
        from mchis.registry.models import Child

        hoa = Child.objects.get(full_name="Lò Thị Hoa")
        people["change"] = reg.child_propose_change(
            actor=people["collector"], child=hoa, changes={"mother_name": "Lò Thị Xoan Mai"}, reason="Sổ thôn"
        )
        forms_load(actor=None, paths=shipped_form_files())
        from mchis.reports.views import _default_period

        period = _default_period()  # the month the reports page opens on
        month = period.start
        d = Delivery.objects.create(facility=tree.tyt_a1, event_date=month + timedelta(days=8), month=month,
                                    source_record_id="e2e-walk-1")  # fmt: skip
        Newborn.objects.create(
            delivery=d, facility=d.facility, month=month, event_date=d.event_date, outcome="live"
        )
        for tyt in (tree.tyt_a1, tree.tyt_a2):
            reporter = people["commune_reporter"] if tyt == tree.tyt_a1 else make_user("reporter", tyt)
            report_set_manual_values(actor=reporter, form_code="BCX3", unit_code=tyt.code,
                                     period=period.code, values={"I.1:total": 1, "I.1.1:total": 0})  # fmt: skip
            report_submit(actor=reporter, form_code="BCX3", unit_code=tyt.code, period=period.code,
                          warning_comment="Đã kiểm tra")  # fmt: skip
            report_approve(
                actor=people["district_leader"], form_code="BCX3", unit_code=tyt.code, period=period.code
            )
    finally:
        reset_meta(token)
    return people


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_roles_walk_their_main_tasks_by_clicking(transactional_db, live_server, tree, make_user, browser, viewport,
                                                 settings):  # fmt: skip
    from mchis.quality.models import AuditCampaign
    from mchis.registry.models import ChangeRequest, RequestStatus

    settings.ROLES_REQUIRING_2FA = []
    people = _world(tree, make_user)
    walks: list[Walk] = []

    # --- the district reporter: the month's reports, then sends the district report ----------------------
    rep = Walk(browser, live_server, people["district_reporter"], viewport, "district-reporter")
    walks.append(rep)
    rep.shot("home", "reporter-home")
    rep.nav("/reports/")
    rep.shot("list", "reporter-list")
    rep.click(f"a[href*='/reports/BCH4/{tree.ttyt_a.code}/']")
    rep.shot("district-report", "reporter-report")
    rep.click("[data-testid=act-submit]")
    assert rep.page.locator("[data-testid=state]").inner_text().strip() == "Đã gửi"
    rep.shot("sent")

    # --- the auditor: a phúc tra from the menu to the closing --------------------------------------------
    aud = Walk(browser, live_server, people["auditor"], viewport, "auditor")
    walks.append(aud)
    aud.nav("/quality/")
    aud.nav("/quality/audits/")
    aud.page.select_option("select[name=audited_unit]", str(tree.tyt_a1.pk))
    aud.shot("new-campaign", "auditor-campaigns")
    aud.click("main form[method=post] button[type=submit]")
    aud.click("form[action$='/sample/'] button")
    aud.click("[data-testid=continue-audit]")
    aud.shot("sample", "auditor-sample")
    campaign = AuditCampaign.objects.get()
    total = campaign.samples.count()
    for _ in range(total):
        if viewport == "desktop":
            aud.page.locator("body").press("a")  # keyboard: all fields match, next record
        else:
            aud.page.locator("button[name=all_match]").click()
        aud.page.wait_for_load_state()
    assert campaign.samples.filter(checked=True).count() == total
    deadline = date.today() + timedelta(days=15)
    aud.page.fill("#fix_deadline", deadline.strftime("%d/%m/%Y"))
    aud.page.fill("#corrective_actions", "Rà soát lại sổ theo dõi trẻ em.")
    aud.shot("checked", "auditor-campaign")
    aud.click("form[action$='/close/'] button")
    campaign.refresh_from_db()
    assert campaign.status == "closed" and campaign.fix_deadline == deadline
    aud.shot("closed")

    # --- the leader: returns a change with a reason -------------------------------------------------------
    leader = Walk(browser, live_server, people["leader"], viewport, "leader")
    walks.append(leader)
    leader.shot("home", "leader-home")
    leader.nav("/children/requests/")
    leader.shot("queue", "leader-queue")
    leader.click(f"a[href='/children/requests/{people['change'].public_id}/']")
    leader.page.fill("#id_comment", "Tên mẹ chưa khớp giấy khai sinh, kiểm tra lại")
    leader.click("button[value=return]")
    leader.shot("returned")
    assert ChangeRequest.objects.get(pk=people["change"].pk).status == RequestStatus.RETURNED

    # --- the collector: sees the return first; adds a child who looks like an existing one ----------------
    col = Walk(browser, live_server, people["collector"], viewport, "collector")
    walks.append(col)
    home = col.page.locator("main").inner_text()
    assert "Tên mẹ chưa khớp giấy khai sinh" in home
    assert col.page.locator("[data-testid=bell-count]").inner_text().strip() != ""
    col.shot("home-returned", "collector-home")
    col.nav("/children/")
    col.shot("registry", "collector-registry")
    col.click("a[href='/children/new/']")
    col.page.fill("#id_full_name", "Nguyễn Văn An")
    col.page.locator("#id_date_of_birth").press_sequentially("12/03/2018")
    col.page.select_option("#id_sex", "M")
    col.page.locator("#id_mother_name").press_sequentially("Trần Thị Cúc")
    col.page.wait_for_selector("[data-testid=possible-duplicates]")
    assert "100%" in col.page.locator("[data-testid=possible-duplicates]").inner_text() or "%" in col.page.locator(
        "[data-testid=possible-duplicates]").inner_text()  # fmt: skip
    col.page.wait_for_load_state("networkidle")  # the hint is swapped in again as each field is typed
    col.page.locator("[data-testid=possible-duplicates]").scroll_into_view_if_needed()
    col.shot("duplicate-warning", "collector-duplicate")
    col.page.check("#id_not_duplicate")
    col.page.fill("#id_not_duplicate_reason", "Trẻ khác: anh em họ, khác cha")
    col.click("main form[method=post] button[name=send]")
    col.page.wait_for_url("**/children/requests/**")
    col.shot("sent", "collector-sent")
    new = ChangeRequest.objects.filter(kind="create").order_by("-proposed_at").first()
    assert new is not None and new.not_duplicate_reason == "Trẻ khác: anh em họ, khác cha"

    # --- the leader again: approves the new child, confirming it is another child ------------------------
    leader.nav("/children/requests/")
    leader.click(f"a[href='/children/requests/{new.public_id}/']")
    assert "Người đề xuất xác nhận đây là trẻ khác" in leader.page.content()
    leader.shot("approve-duplicate", "leader-approve")
    leader.page.check("#id_not_duplicate")
    leader.page.fill("#id_not_duplicate_reason", "Đã gọi trạm xác nhận: khác cha")
    leader.click("button[value=approve]")
    assert ChangeRequest.objects.get(pk=new.pk).status == RequestStatus.APPROVED
    leader.shot("approved")

    for w in walks:
        assert not [e for e in w.errors if "Content Security Policy" in e], w.errors
        w.context.close()
