"""Browser walk of the analytics pages (issue 15), desktop (1366 px) and phone (360 px): build a pivot, switch
it to a chart, save it as a favourite shared with the unit, put it on the unit's dashboard, open the map and
drill down. Screenshots in test-results/<viewport>/analytics-*.png; any console error (a CSP refusal of an
inline style written by a chart tooltip, for one) fails the walk."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from mchis.web.tests.test_e2e_roles import Walk
from mchis.web.tests.test_e2e_roles import browser as browser
from mchis.web.tests.test_e2e_roles import pytestmark as pytestmark


def _data(tree: Any) -> None:
    from mchis.analytics.store import mark_months, recompute_dirty
    from mchis.registers import models as R
    from mchis.reports.services import forms_load, shipped_form_files
    from mchis.reports.tests.registerdata import rec

    forms_load(actor=None, paths=shipped_form_files())
    last = (date.today().replace(day=1) - timedelta(days=1)).replace(day=10)
    months = []
    for back in range(0, 5):
        day = (last.replace(day=1) - timedelta(days=back * 28)).replace(day=10)
        months.append(day.replace(day=1))
        for unit, n in ((tree.tyt_a1, 3 + back), (tree.tyt_a2, 2), (tree.tyt_b1, 4)):
            for i in range(n):
                rec(
                    R.Delivery,
                    unit,
                    day,
                    place="at_facility",
                    age_years=18 + i,
                    anc_4_in_3_trimesters=i % 2 == 0,
                )
    mark_months(sorted(set(months)), [tree.tyt_a1.pk, tree.tyt_a2.pk, tree.tyt_b1.pk])
    recompute_dirty(limit=1000)


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_analytics_pivot_chart_favourite_dashboard_map(
    transactional_db, live_server, tree, make_user, browser, viewport
):
    _data(tree)
    analyst = make_user("leader", tree.ministry_dept, f"pt.bo.{viewport}")
    w = Walk(browser, live_server, analyst, viewport, "analytics")
    page = w.page
    w.nav("/analytics/")
    w.shot("dashboard-default")
    w.click("a[href='/analytics/pivot/']")
    page.locator("#pick-dx").select_option(["ANC4"], force=True)
    page.locator("#pick-pe").select_option(["LAST_3_MONTHS"], force=True)
    page.locator("#pick-ou").select_option(["OU_GROUP-doh"], force=True)
    page.locator("#pick-rows").select_option("ou")
    page.locator("#pick-cols").select_option("pe")
    page.locator("#pick-approved").select_option("0")  # nothing approved yet: provisional values
    w.click("#pivot-update")
    assert page.locator("#pivot-result table.an-grid tbody tr").count() == 2
    w.shot("pivot-table")
    page.locator("#pick-type").select_option("column")
    w.click("#pivot-update")
    page.locator("#pivot-chart canvas").first.wait_for()
    page.locator("#pivot-chart").hover()
    w.shot("pivot-column")
    page.locator("#favorite-name").fill(f"Khám thai ≥ 4 lần theo tỉnh ({viewport})")
    page.locator("#favorite-form input[name='shared']").check()
    w.click("#favorite-save")
    assert page.locator("#favorite-list").inner_text().count("Khám thai ≥ 4 lần theo tỉnh") == 1
    w.click(".an-tabs a[href='/analytics/']")
    w.click("#dashboard-edit")
    page.locator("#dashboard-form input[name='items']").first.check()
    page.locator("#dashboard-form input[name='name']").fill("Bảng điều khiển của Vụ")
    w.click("#dashboard-save")
    assert "Khám thai ≥ 4 lần theo tỉnh" in page.locator("#dashboard-items").inner_text()
    page.locator("#dashboard-items canvas").first.wait_for()
    w.shot("dashboard-edited")
    w.click(".an-tabs a[href='/analytics/map/']")
    page.locator("#map-form select[name='approved']").select_option("0")
    w.click("#map-form button[type='submit']")
    page.locator("#map-data-box[data-ready='1']").wait_for()
    page.locator("#map-data-box").hover()
    w.shot("map-provinces")
    w.click("#map-table a:has-text('Sở Y tế Tuyên Quang')")
    page.locator("#map-data-box canvas").first.wait_for()
    assert "Trạm Y tế phường Minh Xuân" in page.locator("#map-table").inner_text()  # via CDC, TTYT
    w.shot("map-drilldown")
    assert not w.errors, w.errors  # a CSP refusal shows here as a console error
    w.context.close()
