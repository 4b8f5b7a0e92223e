"""Report pages: list with filters, report page with buttons from can_<verb>, dashboards, form definitions,
boundary re-aggregation (R-MCH-03..07, R-ORG-01)."""

from __future__ import annotations

from datetime import date

from django.test import Client

from mchis.places.models import AdminUnit, CodeVersion, CommuneMapping, Level, MappingKind
from mchis.registers import models as R
from mchis.reports import services as s
from mchis.reports.models import FormDefinition
from mchis.units.models import UnitPlacement
from mchis.units.services import unit_create

from .registerdata import rec, submit


def login(user):
    c = Client()
    c.force_login(user)
    return c


def test_r_mch_05_report_page_shows_only_allowed_buttons(forms, people, tree):
    url = f"/reports/BCX3/{tree.tyt_a1.code}/2026-01/"
    page = login(people.tyt_reporter).get(url).content.decode()
    assert 'data-testid="act-submit"' in page and 'data-testid="act-approve"' not in page
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period="2026-01")
    page = login(people.ttyt_leader).get(url).content.decode()
    assert (
        'data-testid="act-approve"' in page
        and 'data-testid="act-return"' in page
        and 'data-testid="act-submit"' not in page
    )
    page = login(people.cdc_leader).get(url).content.decode()
    assert 'data-testid="act-return"' in page and 'data-testid="act-approve"' not in page
    assert login(people.ttyt_b_leader).get(url).status_code == 404


def test_r_mch_05_page_actions_post_through_services(forms, people, tree):
    base = f"/reports/BCX3/{tree.tyt_a1.code}/2026-01"
    c = login(people.tyt_reporter)
    assert c.post(f"{base}/act/submit/", {"cell:I.1:total": "3", "cell:I.1.1:total": "0"}).status_code == 302
    r = login(people.ttyt_leader).post(f"{base}/act/return/", {"reason": ""}, follow=True)
    assert "Vui lòng nhập lý do" in r.content.decode()
    login(people.ttyt_leader).post(f"{base}/act/return/", {"reason": "Thiếu sổ đẻ"})
    page = c.get(f"{base}/").content.decode()
    assert "Thiếu sổ đẻ" in page and "Bị trả lại" in page


def test_r_mch_04_list_dashboard_and_json_endpoint(forms, people, tree):
    c = login(people.ttyt_leader)
    page = c.get("/reports/", {"period": "2026-01"}).content.decode()
    assert tree.tyt_a1.name in page and tree.tyt_a2.name in page and tree.tyt_b1.name not in page
    assert (
        c.get("/reports/", {"period": "2026-01", "status": "approved"}).content.decode().count("<tr") == 2
    )  # header + empty row
    assert "vendor/echarts.min.js" in c.get("/reports/dashboard/", {"period": "2026-01"}).content.decode()
    data = c.get("/api/v1/reports/dashboard", {"period": "2026-01"}).json()
    i = data["forms"].index("BCX3")
    assert data["series"]["expected"][i] == 2 and data["series"]["late"][i] == 2


def test_r_mch_03_form_page_shows_the_query_behind_each_cell(forms, people):
    pk = FormDefinition.objects.get(code="BCX3").pk
    page = login(people.ttyt_leader).get(f"/reports/forms/{pk}/").content.decode()
    assert "Đếm số bản ghi trong sổ &#x27;delivery&#x27;" in page and "is_adolescent = True" in page
    assert "Nhập tay" in page and "Công thức" in page


def test_r_org_01_pre_2025_report_reaggregated_into_the_2025_commune(forms, people, tree):
    # Old stations X (commune merged whole into Minh Xuân) and Y (commune split; its seat, hence its data,
    # went to the default new commune Kim Bình). Both stopped on 1 July 2025.
    old_prov = AdminUnit.objects.create(
        version=CodeVersion.PRE2025, level=Level.PROVINCE, code="08", name="Tuyên Quang (cũ)"
    )
    x = AdminUnit.objects.create(
        version=CodeVersion.PRE2025, level=Level.COMMUNE, code="02263", name="Xã X", parent=old_prov
    )
    y = AdminUnit.objects.create(
        version=CodeVersion.PRE2025, level=Level.COMMUNE, code="02266", name="Xã Y", parent=old_prov
    )
    CommuneMapping.objects.create(old=x, new=tree.commune_a1, kind=MappingKind.WHOLE)
    CommuneMapping.objects.create(old=y, new=tree.commune_a1, kind=MappingKind.PARTIAL, is_default=False)
    CommuneMapping.objects.create(old=y, new=tree.commune_a2, kind=MappingKind.PARTIAL, is_default=True)
    tx = unit_create(
        actor=None,
        code="TYT-X",
        name="TYT xã X (cũ)",
        kind="tyt",
        admin_unit=tree.commune_a1,
        parent=tree.ttyt_a,
    )
    ty = unit_create(
        actor=None,
        code="TYT-Y",
        name="TYT xã Y (cũ)",
        kind="tyt",
        admin_unit=tree.commune_a2,
        parent=tree.ttyt_a,
    )
    UnitPlacement.objects.filter(unit__in=[tx, ty]).update(valid_to=date(2025, 7, 1))
    for unit, n in ((tx, 2), (ty, 5)):
        for _ in range(n):
            rec(R.Delivery, unit, date(2025, 3, 3), place="at_facility")
    rec(R.Delivery, tree.tyt_a1, date(2025, 3, 3), place="at_facility")
    c = login(people.ttyt_leader)
    plain = c.get(f"/reports/BCX3/{tree.tyt_a1.code}/2025-03/")
    assert plain.status_code == 200 and 'data-cell="I.5:total">1<' in plain.content.decode()
    page = c.get(f"/reports/BCX3/{tree.tyt_a1.code}/2025-03/", {"boundary": "2025"}).content.decode()
    assert 'data-testid="boundary"' in page and "xã mới mặc định" in page and "Xã Y" in page
    assert 'data-cell="I.5:total">3<' in page  # A1 + X (merged whole); Y's data went to its default commune
    other = c.get(f"/reports/BCX3/{tree.tyt_a2.code}/2025-03/", {"boundary": "2025"}).content.decode()
    assert 'data-cell="I.5:total">5<' in other
    # after the reform the old stations are not expected any more
    board = c.get("/reports/", {"period": "2025-08"}).content.decode()
    assert (
        "TYT xã X (cũ)" not in board
        and "TYT xã X (cũ)" in c.get("/reports/", {"period": "2025-03"}).content.decode()
    )


def test_r_sec_04_unapprove_on_the_page_sends_to_step_up(forms, people, tree):
    base = f"/reports/BCX3/{tree.tyt_a1.code}/2026-01"
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period="2026-01")
    s.report_approve(actor=people.ttyt_leader, form_code="BCX3", unit_code=tree.tyt_a1.code, period="2026-01")
    s.report_request_unapproval(
        actor=people.tyt_reporter,
        form_code="BCX3",
        unit_code=tree.tyt_a1.code,
        period="2026-01",
        reason="Sửa",
    )
    r = login(people.ttyt_leader).post(f"{base}/act/unapprove/", {"reason": "Đồng ý"})
    assert r.status_code == 302 and r["Location"].startswith("/accounts/step-up/?next=")


def test_r_mch_07_every_report_url_is_404_for_another_commune(forms, people, tree, make_user):
    outsider = login(make_user("leader", tree.tyt_b1))
    base = f"/reports/BCX3/{tree.tyt_a1.code}/2026-01"
    for url in (
        f"{base}/",
        f"{base}/xlsx",
        f"{base}/pdf",
        f"/api/v1/reports/BCX3/{tree.tyt_a1.code}/2026-01",
    ):
        assert outsider.get(url).status_code == 404, url
    for verb in ("submit", "recall", "approve", "return", "request_unapproval", "unapprove"):
        assert outsider.post(f"{base}/act/{verb}/", {"reason": "x"}).status_code == 404
    assert outsider.post(f"{base}/manual/", {"cell:I.1:total": "3"}).status_code == 404
    from mchis.reports.models import ReportInstance

    assert not ReportInstance.objects.filter(unit=tree.tyt_a1).exists()  # nothing created, nothing changed
    assert (
        outsider.get("/api/v1/reports/dashboard", {"period": "2026-01", "unit": tree.ttyt_a.code}).status_code
        == 404
    )
    assert (
        outsider.get("/api/v1/exports/adx", {"period": "2026-01", "unit": tree.ttyt_a.code}).status_code
        == 404
    )


def test_r_mch_05_report_api_query_count_does_not_grow_with_data(
    forms, people, tree, django_assert_max_num_queries
):
    from .registerdata import january_dataset

    c = login(people.ttyt_leader)
    url = f"/api/v1/reports/BCX3/{tree.tyt_a1.code}/2026-01"
    c.get(url)
    with django_assert_max_num_queries(25):
        empty = c.get(url)
    january_dataset(tree.tyt_a1, tree.tyt_a2)
    with django_assert_max_num_queries(25):
        full = c.get(url)
    assert empty.status_code == full.status_code == 200
    with django_assert_max_num_queries(20):
        c.get("/api/v1/reports/dashboard", {"period": "2026-01"})


def test_r_mch_05_home_card_counts_reports_waiting_for_me(forms, people, tree):
    from mchis.reports.periods import period_containing
    from mchis.reports.views import _cards

    period = period_containing(date.today(), "monthly").previous(1)
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=period.code)
    assert _cards(people.ttyt_leader)[0].value == 1
    assert _cards(people.cdc_leader)[0].value == 0


def test_r_sec_01_reaggregation_sums_only_units_the_reader_sees(forms, people, tree):
    # given a station of province B wrongly located in A's commune (legacy data, or a unit admin's mistake)
    stray = unit_create(
        actor=None, code="TYT-STRAY", name="Trạm lạc", kind="tyt", admin_unit=tree.commune_a1,
        parent=tree.ttyt_b,
    )  # fmt: skip
    for _ in range(4):
        rec(R.Delivery, tree.tyt_a1, date(2025, 3, 3), place="at_facility")
    # when B's leader re-aggregates the stray station's pre-2025 report into the 2025 commune
    page = login(people.ttyt_b_leader).get(f"/reports/BCX3/{stray.code}/2025-03/", {"boundary": "2025"})
    # then A's station (not visible to B) is neither counted nor named
    body = page.content.decode()
    assert page.status_code == 200 and 'data-testid="boundary"' in body
    assert 'data-cell="I.5:total">0<' in body and tree.tyt_a1.name not in body
