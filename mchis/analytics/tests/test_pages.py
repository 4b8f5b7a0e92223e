"""The analytics pages (R-AN-01): pivot table with charts, downloads, favourites shared by unit, dashboards per
user group, the map with drill-down; every page scoped (R-MCH-07)."""

from __future__ import annotations

import io

from django.test import Client
from openpyxl import load_workbook

from mchis.analytics.models import Favorite
from mchis.core.models import AuditEvent


def login(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


PIVOT = (
    "/analytics/pivot/?dx=ANC4&dx=AN.DLV:total&pe=202601&ou=USER_ORGUNIT_CHILDREN&rows=ou&cols=dx&approved=0"
)


def test_r_an_01_pivot_table_with_totals_and_definition(data, make_user):
    page = login(make_user("viewer", data.ttyt_a)).get(PIVOT).content.decode()
    assert "Trạm Y tế phường Minh Xuân" in page and "Trạm Y tế xã Kim Bình" in page
    assert "Trạm Y tế phường Thục Phán" not in page  # another province
    assert "không xác định" in page  # Kim Bình: no delivery, zero denominator
    assert "Số liệu tạm tính" in page
    assert (
        "Số phụ nữ đẻ trong kỳ đã được khám thai ít nhất 4 lần" in page
    )  # the definition shown with the value


def test_r_an_01_chart_kinds_write_chart_json(data, make_user):
    c = login(make_user("viewer", data.ttyt_a))
    for kind in ("column", "stacked", "line", "pie"):
        page = c.get(PIVOT + f"&type={kind}").content.decode()
        assert 'id="pivot-chart-data"' in page and f'"kind": "{kind}"' in page
    page = c.get(
        "/analytics/pivot/?dx=AN.DLV:total&pe=202601&ou=TTYT08-01&type=single&approved=0"
    ).content.decode()
    assert 'class="an-single-value">2<' in page


def test_r_an_02_csv_and_excel_downloads(data, make_user):
    c = login(make_user("viewer", data.ttyt_a))
    csv = c.get(PIVOT + "&format=csv").content.decode("utf-8-sig")
    assert "Trạm Y tế phường Minh Xuân,50,2" in csv
    xlsx = c.get(PIVOT + "&format=xlsx")
    ws = load_workbook(io.BytesIO(xlsx.content)).active
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    assert rows[0][0] == "Số liệu tạm tính (gồm số liệu chưa duyệt)"
    assert ["Trạm Y tế phường Minh Xuân", 50, 2, None] in rows  # no total across two indicators
    assert ["Trạm Y tế xã Kim Bình", "không xác định", 0, None] in rows


def test_bad_selection_is_a_message_on_the_page_not_an_error(data, make_user):
    c = login(make_user("viewer", data.ttyt_a))
    r = c.get("/analytics/pivot/?dx=ANC4&pe=202601&ou=TYT01273")
    assert r.status_code == 200 and "Không có đơn vị &#x27;TYT01273&#x27; trong phạm vi" in r.content.decode()
    r = c.get("/analytics/pivot/?dx=ANC4;CS&pe=202601&rows=ou&cols=pe")
    assert "Nhiều chỉ số không cộng được" in r.content.decode()


def test_r_an_01_favourite_shared_with_the_unit_and_put_on_its_dashboard(data, make_user):
    leader = make_user("leader", data.ttyt_a)
    colleague = make_user("viewer", data.ttyt_a)
    other = make_user("leader", data.ttyt_b)
    c = login(leader)
    query = "dx=ANC4&pe=202601&ou=USER_ORGUNIT_CHILDREN&rows=ou&cols=pe&type=column&approved=0"
    r = c.post(
        "/analytics/favorites/", {"name": "ANC4 theo trạm", "kind": "column", "query": query, "shared": "1"}
    )
    assert r.status_code == 302
    fav = Favorite.objects.get()
    assert fav.shared and fav.unit == data.ttyt_a
    assert AuditEvent.objects.filter(action="analytics.favorite_save", object_id=str(fav.pk)).exists()
    assert "ANC4 theo trạm" in login(colleague).get("/analytics/pivot/").content.decode()
    assert "ANC4 theo trạm" not in login(other).get("/analytics/pivot/").content.decode()
    r = c.post("/analytics/dashboard/edit/", {"name": "Bảng của TTYT", "items": [fav.pk]})
    assert r.status_code == 302
    board = login(colleague).get("/analytics/").content.decode()
    assert "Bảng của TTYT" in board and "ANC4 theo trạm" in board
    assert login(colleague).get("/analytics/dashboard/edit/").status_code == 403  # a viewer may not edit


def test_r_an_01_default_dashboards_per_group(data, make_user):
    for unit, words in (
        (data.tyt_a1, "Trạm y tế xã"),
        (data.ttyt_a, "Tuyến huyện / khu vực"),
        (data.doh_a, "Tuyến tỉnh"),
        (data.ministry_dept, "Bộ Y tế (toàn quốc)"),
    ):
        page = login(make_user("viewer", unit)).get("/analytics/").content.decode()
        assert words in page, unit
    page = login(make_user("auditor", data.ttyt_a)).get("/analytics/").content.decode()
    assert "Phúc tra" in page and "Điểm chất lượng dữ liệu" in page


def test_r_an_01_map_of_provinces_and_drill_down(data, make_user):
    c = login(make_user("viewer", data.ministry_dept))
    page = c.get("/analytics/map/?dx=AN.DLV:total&pe=202601&approved=0").content.decode()
    assert "vn_provinces_2025.geojson" in page
    assert "Sở Y tế Tuyên Quang" in page and "Sở Y tế Cao Bằng" in page
    assert '"province": "08"' in page
    page = c.get("/analytics/map/?dx=AN.DLV:total&pe=202601&approved=0&unit=SYT08").content.decode()
    assert (
        "Trạm Y tế phường Minh Xuân" in page and "Chưa có ranh giới huyện, xã" in page
    )  # single-child levels skipped
    district = login(make_user("viewer", data.ttyt_a))
    page = district.get("/analytics/map/?dx=AN.DLV:total&pe=202601&approved=0&unit=SYT04").content.decode()
    assert "Không có đơn vị &#x27;SYT04&#x27;" in page and "CDC Cao Bằng" not in page


def test_commune_home_shows_its_month_at_a_glance(tree, forms, make_user):
    page = login(make_user("collector", tree.tyt_a1)).get("/").content.decode()
    assert "Phụ nữ đẻ" in page and "Tỷ lệ đẻ được khám thai ≥ 4 lần" in page
