"""Browser test of the public portal (Playwright + Chromium): desktop and a 360 px phone, screenshots in
test-results/portal/ (looked at), and axe-core (npm, injected) finding no serious or critical WCAG 2.1 AA
violation on any page."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-sync"]
ROOT = Path(__file__).resolve().parents[3]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ROOT / "test-results" / "portal"
PAGES = {
    "home": "/public/",
    "indicator": "/public/indicators/deliveries/",
    "rate": "/public/indicators/anc4/?period=2026-01",
    "province": "/public/provinces/08/?period=2026-01",
    "definitions": "/public/indicators/",
    "methods": "/public/methods/",
    "data": "/public/data/",
    "bulletins": "/public/bulletins/",
    "not-found": "/public/indicators/nope/",
}
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 360, "height": 740}}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason="Chromium not installed (apt-get install chromium)"
    ),
    pytest.mark.skipif(not AXE.exists(), reason="axe-core not installed (npm install)"),
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_portal_on_desktop_and_phone_with_axe(transactional_db, live_server, published, browser):
    SHOTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    for device, viewport in VIEWPORTS.items():
        # bypass_csp only lets the test inject axe-core; the pages' own scripts run under the real policy
        ctx = browser.new_context(viewport=viewport, bypass_csp=True, is_mobile=device == "phone")
        page = ctx.new_page()
        page.set_default_timeout(60000)
        errors: list[str] = []
        page.on("console", lambda m, errors=errors: errors.append(m.text) if m.type == "error" else None)
        for name, url in PAGES.items():
            page.goto(live_server.url + url)
            page.wait_for_load_state("networkidle")
            if name == "indicator":
                page.wait_for_selector("[data-chart=map] canvas")
                page.wait_for_selector("[data-chart=trend] canvas")
            page.screenshot(path=str(SHOTS / f"{device}-{name}.png"), full_page=True)
            page.add_script_tag(path=str(AXE))
            result = page.evaluate(
                "axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}})"
            )
            for v in result["violations"]:
                if v["impact"] in ("serious", "critical"):
                    targets = [n["target"] for n in v["nodes"][:3]]
                    problems.append(f"{device} {name}: {v['id']} ({v['impact']}) {v['help']} {targets}")
            if device == "phone":  # usable on a phone: nothing wider than the screen but scrollable tables
                overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 1, f"{name} is {overflow}px wider than a 360 px phone"
        # the map links to a province page; the language switch keeps the visitor in the portal
        page.goto(live_server.url + "/public/")
        page.click("text=English")
        page.wait_for_load_state()
        assert "/public/" in page.url and "Women who gave birth" in page.content()
        page.screenshot(path=str(SHOTS / f"{device}-home-en.png"), full_page=True)
        assert not [e for e in errors if "404" not in e], errors
        ctx.close()
    assert not problems, "\n".join(problems)
