"""Phones (issue 13 item 8, ADR 0040): at 360 px the main list pages have no sideways scrolling and every list
table is a stack of cards, each value shown under its column's name. Screenshots in test-results/phone-cards/
(gitignored) for a person to look at."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from .test_e2e_roles import RESULTS, Walk, _world, pytestmark  # noqa: F401 - the e2e marker and skip
from .test_e2e_roles import browser as browser  # the fixture

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

SHOTS = Path(RESULTS) / "phone-cards"
PAGES = {  # who opens which list page
    "leader": ["/children/", "/children/review/", "/reports/", "/quality/findings/", "/exchanges/"],
    "collector": ["/children/", "/registers/"],
}

CARD_CHECK = """() => {
  const doc = document.documentElement;
  const tables = Array.from(document.querySelectorAll("main table"))
    .filter((t) => !t.classList.contains("report-grid") && !t.classList.contains("no-stack")
                   && t.tHead && t.tHead.rows.length === 1 && t.tBodies.length && t.tBodies[0].rows.length);
  const cards = tables.map((t) => {
    const row = t.tBodies[0].rows[0];
    // the first cell is the card's title (bold, no label); every other value carries its column's name
    const cells = Array.from(row.cells).slice(1).filter((c) => c.colSpan === 1 && c.textContent.trim());
    return {
      stacked: t.classList.contains("stack") && getComputedStyle(row).display === "block",
      titled: Number(getComputedStyle(row.cells[0]).fontWeight) >= 600,
      unlabelled: cells.filter((c) => {
        const label = c.getAttribute("data-label") || "";
        const shown = getComputedStyle(c, "::before").content;
        return !label || !shown.includes(label);
      }).map((c) => c.textContent.trim().slice(0, 30)),
    };
  });
  return {scroll: doc.scrollWidth - doc.clientWidth, tables: tables.length, cards};
}"""


@pytest.mark.parametrize("role", ["leader", "collector"])
def test_list_pages_are_cards_without_sideways_scrolling_at_360_px(
    transactional_db, live_server, tree, make_user, browser, role
):
    people: dict[str, Any] = _world(tree, make_user)
    walk = Walk(browser, live_server, people[role], "phone", f"cards-{role}")
    SHOTS.mkdir(parents=True, exist_ok=True)
    seen_tables = 0
    for href in PAGES[role]:
        walk.page.goto(live_server.url + href)
        walk.page.wait_for_load_state("networkidle")
        found = walk.page.evaluate(CARD_CHECK)
        name = href.strip("/").replace("/", "-") or "home"
        walk.page.screenshot(path=str(SHOTS / f"{role}-{name}.png"), full_page=True)
        assert found["scroll"] <= 1, f"{href}: {found['scroll']} px of sideways scrolling at 360 px"
        for card in found["cards"]:
            assert card["stacked"], f"{href}: a list table is not shown as cards"
            assert card["titled"], f"{href}: a card has no title (its first value in bold)"
            assert not card["unlabelled"], f"{href}: values without their column's name: {card['unlabelled']}"
        seen_tables += found["tables"]
    assert seen_tables, "no list table with rows was checked: the walk's data did not reach these pages"
    walk.context.close()
