"""Unit admin pages: scoped to the admin's subtree; move with a date and reason keeps the history."""

from __future__ import annotations

from datetime import date

from django.test import Client

from mchis.units.models import ReportingUnit, UnitPlacement


def login(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_r_sec_01_unit_admin_sees_only_its_subtree(tree, make_user) -> None:
    client = login(make_user("unit_admin", tree.cdc_a))
    page = client.get("/units/").content.decode()
    assert "TYT02269" in page and "CDC08" in page
    assert "TYT01273" not in page and "SYT04" not in page
    assert client.get("/units/TYT01273/").status_code == 404
    assert client.get("/units/TYT01273/move/").status_code == 404


def test_r_sec_02_collector_cannot_open_unit_admin(tree, make_user) -> None:
    assert login(make_user("collector", tree.cdc_a)).get("/units/").status_code == 403


def test_r_org_02_create_edit_and_move_through_the_pages(tree, make_user) -> None:
    client = login(make_user("unit_admin", tree.cdc_a))
    response = client.post(
        "/units/new/",
        {
            "code": "TTYT08-02",
            "name": "TTYT khu vực Kim Bình",
            "kind": "ttyt",
            "admin_unit": "02296",
            "parent": "CDC08",
        },
    )
    assert response.status_code == 302
    new = ReportingUnit.objects.get(code="TTYT08-02")
    assert new.parent == tree.cdc_a and new.admin_unit == tree.commune_a2
    client.post(
        "/units/TTYT08-02/edit/", {"name": "TTYT khu vực Kim Bình mới", "kind": "ttyt", "admin_unit": "02296"}
    )
    assert ReportingUnit.objects.get(code="TTYT08-02").name == "TTYT khu vực Kim Bình mới"
    response = client.post(
        "/units/TYT02296/move/", {"new_parent": "TTYT08-02", "on": "2025-07-01", "reason": "QĐ 123"}
    )
    assert response.status_code == 302
    assert [
        (p.valid_from, p.valid_to)
        for p in UnitPlacement.objects.filter(unit=tree.tyt_a2).order_by("valid_from")
    ] == [
        (date(2000, 1, 1), date(2025, 7, 1)),
        (date(2025, 7, 1), None),
    ]
    history = client.get("/units/TYT02296/").content.decode()
    assert "01/07/2025" in history and "TTYT khu vực Minh Xuân" in history


def test_form_errors_are_shown_inline_naming_the_field(tree, make_user) -> None:
    client = login(make_user("unit_admin", tree.cdc_a))
    response = client.post(
        "/units/new/",
        {"code": "TYT02269", "name": "Trùng", "kind": "tyt", "admin_unit": "99999", "parent": "CDC08"},
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Không có tỉnh/xã mã 99999" in page
    response = client.post(
        "/units/new/",
        {"code": "TYT02269", "name": "Trùng", "kind": "tyt", "admin_unit": "02269", "parent": "CDC08"},
    )
    assert "Mã đơn vị &#x27;TYT02269&#x27; đã tồn tại." in response.content.decode()
    response = client.post(
        "/units/TTYT08-01/move/", {"new_parent": "CDC08", "on": "2025-07-01", "reason": ""}
    )
    assert response.status_code == 200
    assert ReportingUnit.objects.get(code="TTYT08-01").parent == tree.cdc_a


def test_the_tree_opens_a_screenful_with_counts_and_loads_deeper_levels_on_demand(tree, make_user) -> None:
    # given a unit admin of the Sở (Sở → CDC → TTYT → stations) and many stations under one TTYT
    from mchis.units.models import UnitKind
    from mchis.units.services import unit_create

    for n in range(70):
        unit_create(actor=None, code=f"TYTX{n:03d}", name=f"Trạm Y tế thử {n:03d}", kind=UnitKind.TYT,
                    admin_unit=tree.commune_a1, parent=tree.ttyt_a)  # fmt: skip
    client = login(make_user("unit_admin", tree.doh_a))
    # when the tree page opens
    page = client.get("/units/").content.decode()
    # then the Sở and its units are shown with their counts; the crowded level waits to be opened
    assert 'data-unit="SYT08"' in page and 'data-unit="CDC08"' in page
    assert "72 trực thuộc" in page  # TTYT A: A1, A2 and the 70 test stations
    assert 'data-unit="TYTX000"' not in page
    assert 'hx-get="/units/TTYT08-01/children/"' in page and 'hx-trigger="toggle once"' in page
    # when the TTYT is opened, its stations arrive (htmx fragment, no layout)
    part = client.get("/units/TTYT08-01/children/").content.decode()
    assert 'data-unit="TYTX069"' in part and 'data-unit="TYT02269"' in part and "<html" not in part
    # and another province's branch is not there to open
    assert client.get(f"/units/{tree.ttyt_b.code}/children/").status_code == 404


def test_searching_the_tree_lists_matches_with_their_place(tree, make_user) -> None:
    client = login(make_user("unit_admin", tree.doh_a))
    page = client.get("/units/", {"q": "minh xuan"}).content.decode()
    assert "đơn vị khớp" in page
    assert 'href="/units/TYT02269/"' in page and "›" in page
    assert "TYT01273" not in client.get("/units/", {"q": "TYT0"}).content.decode()  # other province
