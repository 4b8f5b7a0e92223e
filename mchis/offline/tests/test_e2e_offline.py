"""Browser walk of the offline entry (Playwright + /usr/bin/chromium, issue 18): a collector enters three children
and five register records with the network cut (`context.set_offline(True)`), reloads while still offline, goes
online, and everything arrives once; a change made offline on a child edited online meanwhile becomes a conflict
on the leader's resolution page; logout wipes the device copy. Screenshots (desktop and a 360 px phone) go to
test-results/offline/."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from mchis.registry.tests.test_e2e_registry import CHROMIUM, _page  # the `browser` fixture: conftest.py

SHOTS = Path(__file__).resolve().parents[3] / "test-results" / "offline"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason="Chromium not installed (apt-get install chromium)"
    ),
]


@pytest.fixture(autouse=True)
def _settings(settings):
    settings.REGISTRY_STEP_UP_FOR_CHANGES = False


def _session(browser, live_server, user, *, second_factor: bool = False):
    context, page = _page(browser, live_server, user, second_factor=second_factor)
    page.set_viewport_size(DESKTOP)
    return context, page


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)


# The paths held in the product's caches that are not public static files (pages, schemas, data).
CACHED_NON_STATIC = (
    "caches.keys().then(names => Promise.all(names.filter(n => n.startsWith('mchis')).map(n => caches.open(n)"
    ".then(c => c.keys())))).then(lists => lists.flat().map(r => new URL(r.url).pathname)"
    ".filter(p => !p.startsWith('/static/')))"
)


# The device keeps nothing of the session: either the database is gone, or (its deletion still waiting for a
# connection to let go) every store of it is empty. Opened only if it is there: an aborted creation leaves none.
NOTHING_STORED = """indexedDB.databases().then(all => {
  if (!all.some(d => d.name === 'mchis-offline')) return true;
  return new Promise(resolve => {
    const req = indexedDB.open('mchis-offline');
    req.onupgradeneeded = e => e.target.transaction.abort();
    req.onerror = () => resolve(true);
    req.onsuccess = () => {
      const d = req.result, names = ['keys', 'state', 'outbox'];
      d.onversionchange = () => d.close();
      const tx = d.transaction(names);
      const counts = names.map(n => tx.objectStore(n).count());
      tx.oncomplete = () => { d.close(); resolve(counts.every(c => c.result === 0)); };
      tx.onabort = () => { d.close(); resolve(false); };
    };
  });
})"""


def _until(page, expression: str, seconds: float = 60) -> None:
    """Poll a JavaScript expression from outside the page (page.wait_for_function evaluates strings inside
    the page, which the strict CSP refuses - as it should)."""
    end = time.monotonic() + seconds
    last: Exception | None = None
    while time.monotonic() < end:
        try:
            if page.evaluate(expression):
                return
        except Exception as exc:  # a navigation in progress: try again
            last = exc
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {expression} ({last})")


def _queued(page) -> int:
    return int(page.evaluate("document.querySelector('[data-outbox-n]').textContent"))


def test_offline_day_arrives_once_conflict_goes_to_the_leader_logout_wipes(
    transactional_db, live_server, tree, make_user, browser
):
    from mchis.offline.models import ItemStatus, OfflineItem
    from mchis.registers.models import AncVisit
    from mchis.registry.models import ChangeRequest, RequestKind
    from mchis.registry.services import change_request_approve, child_propose_change, child_propose_create

    collector = make_user("collector", tree.tyt_a1, "cb.ngoai_tuyen")
    leader = make_user("leader", tree.tyt_a1, "ld.ngoai_tuyen")
    start = child_propose_create(
        actor=collector, unit=tree.tyt_a1, reason="Sổ", acknowledge_warnings=True,
        data={"full_name": "Hoàng Văn Sủng", "date_of_birth": "2019-04-02", "sex": "M", "mother_name": "Hoàng Thị Dợ"},
    )  # fmt: skip
    child = change_request_approve(actor=leader, request=start).child
    assert child is not None

    context, page = _session(browser, live_server, collector)
    base = live_server.url
    page.goto(f"{base}/offline/")
    _until(page, "navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    _until(page, f"window.MchisOutbox.key('{collector.pk}', {{cachedOnly: true}}).then(k => !!k)")
    # the pages the station works on, opened once online: the service worker keeps them
    for path in (
        "/children/new/",
        "/registers/anc/new/",
        f"/children/{child.public_id}/change/",
        "/offline/",
    ):
        page.goto(base + path)
    context.set_offline(True)

    # three children, offline
    page.goto(f"{base}/children/new/")
    people = [("Lò Văn Páo", "02/05/2021", "Lò Thị Mai"), ("Giàng Thị Súa", "14/08/2022", "Giàng Thị Dế"),
              ("Vàng A Chứ", "30/01/2020", "Thào Thị Mỷ")]  # fmt: skip
    for i, (name, dob, mother) in enumerate(people):
        page.fill("#id_full_name", name)
        page.fill("#id_date_of_birth", dob)
        page.select_option("#id_sex", "F" if "Thị" in name else "M")
        page.fill("#id_mother_name", mother)
        page.click("main form[method=post] button[name=send]")
        _until(page, f"document.querySelector('[data-outbox-n]').textContent === '{i + 1}'")
        assert "hàng chờ" in page.locator("#offline-status").inner_text()
    # the browser refuses what the server would refuse, with the server's words
    page.fill("#id_full_name", "Lò Văn 3")
    page.click("main form[method=post] button[name=send]")
    assert "chỉ gồm chữ cái" in page.locator(".offline-error").first.inner_text()
    _shot(page, "child-form-offline")
    page.fill("#id_full_name", "")

    # five register records (khám thai), offline
    page.goto(f"{base}/registers/anc/new/")
    for i in range(5):
        page.fill("#id-full_name", f"Sùng Thị Lan {chr(65 + i)}")
        page.fill("#id-dob", "01/01/1998")
        page.fill("#id-gestational_age_weeks", str(10 + i))
        page.fill("#id-visit_number", "1")
        page.click("form[data-register-form] button[name=save]")
        _until(page, f"document.querySelector('[data-outbox-n]').textContent === '{4 + i}'")

    # a change proposal on version 1 of the child, offline
    page.goto(f"{base}/children/{child.public_id}/change/")
    page.fill("#id_mother_name", "Hoàng Thị Dợ Mỷ")
    page.fill("#id_reason", "Giấy khai sinh mới")
    page.click("main form[method=post] button[name=send]")
    page.wait_for_url("**/offline/")

    # reload while still offline: the queue is still there, listed and counted
    page.reload()
    _until(page, "document.querySelectorAll('[data-outbox-item]').length === 9")
    assert _queued(page) == 9
    assert OfflineItem.objects.count() == 0 and AncVisit.objects.count() == 0
    _shot(page, "outbox-offline")

    # meanwhile, online: the same child's mother is corrected and approved
    online = child_propose_change(actor=collector, child=child, changes={"mother_name": "Hoàng Thị Đợ"},
                                  reason="Sổ hộ khẩu")  # fmt: skip
    change_request_approve(actor=leader, request=online)

    context.set_offline(False)
    # the page sends the queue by itself (the "online" event, or the service worker's Background Sync)
    _until(page, "document.querySelectorAll('[data-outbox-item][data-status=waiting]').length === 0", 120)
    _until(page, "document.querySelector('[data-outbox-n]').textContent === '0'")
    # the server has answered every entry: wait for its rows themselves (not a fixed time)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and OfflineItem.objects.count() < 9:
        time.sleep(0.2)
    # again: the button sends nothing twice
    page.click("[data-testid=outbox-send]")
    page.wait_for_timeout(1500)  # a second sync, if the button wrongly sent again, would have answered by now
    assert OfflineItem.objects.count() == 9
    assert AncVisit.objects.count() == 5
    assert ChangeRequest.objects.filter(kind=RequestKind.CREATE, client_key__isnull=False).count() == 3
    assert OfflineItem.objects.filter(status=ItemStatus.CONFLICT).count() == 1
    assert OfflineItem.objects.exclude(status__in=[ItemStatus.ACCEPTED, ItemStatus.CONFLICT]).count() == 0
    page.reload()
    _until(page, "document.querySelectorAll('[data-outbox-item][data-status=conflict]').length === 1")
    _shot(page, "outbox-synced")

    # the leader sees the conflict side by side and resolves it field by field
    lctx, lead = _session(browser, live_server, leader, second_factor=True)
    lead.goto(f"{base}/offline/conflicts/")
    assert "Hoàng Văn Sủng" in lead.inner_text("main")
    lead.click("[data-testid=conflicts] a")
    table = lead.locator("[data-testid=conflict-table]")
    for text in ("Hoàng Thị Dợ", "Hoàng Thị Đợ", "Hoàng Thị Dợ Mỷ", leader.username):
        assert text in table.inner_text()
    _shot(lead, "conflict-resolve")
    lead.check("input[name=choice_mother_name][value=ours]")
    lead.click("[data-testid=resolve]")
    lead.wait_for_url("**/children/requests/**")
    conflict = ChangeRequest.objects.get(
        client_key=str(OfflineItem.objects.get(status=ItemStatus.CONFLICT).client_id)
    )
    assert not conflict.has_open_conflict and conflict.diff == {
        "mother_name": ["Hoàng Thị Đợ", "Hoàng Thị Dợ Mỷ"]
    }
    lctx.close()

    # logout wipes the device copy: IndexedDB and the caches
    page.goto(f"{base}/offline/")
    page.click(".site-user form[action$='/accounts/logout/'] button")
    page.wait_for_url("**/accounts/login/**")
    # the stores are emptied at once; the deletion itself completes when every connection has let go
    # (asynchronous by nature, and later still on a loaded machine): what must hold is that nothing is left
    _until(page, NOTHING_STORED, 15)
    # no cached page or data is left; the login page's own scripts and styles may be cached again at once by the
    # worker (public files under /static/, no personal data: that is what lets the login page open offline)
    _until(page, CACHED_NON_STATIC + ".then(left => left.length === 0)", 15)
    context.close()
