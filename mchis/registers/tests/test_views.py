"""Web entry (R-MCH-02): list/search, keyboard-first form with inline errors, upload pages, sync page, scoping."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.test import Client
from openpyxl import Workbook

from mchis.registers.models import AncVisit, Delivery
from mchis.registers.services import records_upsert

from .conftest import anc

pytestmark = [pytest.mark.django_db, pytest.mark.urls("mchis.registers.tests.urls")]
DAY = date.today() - timedelta(days=1)


@pytest.fixture
def web(collector):
    client = Client()
    client.force_login(collector)
    return client


def test_index_and_list_search_folded_name(web, collector):
    records_upsert(
        actor=collector, register="anc", records=[anc(rid="1"), anc(rid="2", full_name="Lê Thị Lan")]
    )
    assert web.get("/registers/").status_code == 200
    month = AncVisit.objects.get(source_record_id="1").month.strftime("%Y-%m")
    res = web.get(f"/registers/anc/?month={month}&q=tran thi")
    body = res.content.decode()
    assert "Trần Thị Hoa" in body and "Lê Thị Lan" not in body
    partial = web.get(f"/registers/anc/?month={month}", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial and "Lê Thị Lan" in partial


def test_form_defaults_and_create(web, tree):
    page = web.get("/registers/anc/new/").content.decode()
    assert f'value="{date.today():%d/%m/%Y}"' in page and f'value="{tree.tyt_a1.code}" selected' in page
    res = web.post(
        "/registers/anc/new/",
        {"facility": tree.tyt_a1.code, "event_date": DAY.isoformat(), "full_name": "Trần Thị Hoa",
         "place": "at_facility", "hiv_tested": "on", "hiv_result": "negative", "save_next": "1"},
    )  # fmt: skip
    assert res.status_code == 302 and "event_date=" in res["Location"]
    rec = AncVisit.objects.get()
    assert rec.hiv_tested and rec.hiv_result == "negative" and rec.source_system == "web"


def test_form_inline_vietnamese_errors(web, tree):
    res = web.post(
        "/registers/anc/new/",
        {"facility": tree.tyt_a1.code, "event_date": "2999-01-01", "full_name": "", "hiv_result": "positive"},
    )
    assert res.status_code == 422
    body = res.content.decode()
    assert 'id="err-event_date"' in body and "không được ở tương lai" in body
    assert 'id="err-full_name"' in body and "bắt buộc" in body
    assert 'id="err-hiv_result"' in body
    assert AncVisit.objects.count() == 0


def test_edit_delivery_with_newborns(web, collector, tree):
    from .conftest import delivery

    records_upsert(actor=collector, register="delivery", records=[delivery()])
    d = Delivery.objects.get()
    page = web.get(f"/registers/delivery/{d.pk}/").content.decode()
    assert 'name="nb0_weight_grams" value="2400"' in page
    res = web.post(
        f"/registers/delivery/{d.pk}/",
        {"facility": tree.tyt_a1.code, "event_date": d.event_date.isoformat(), "full_name": d.full_name,
         "place": "at_facility", "delivery_mode": "normal", "attendant": "midwife",
         "gestational_age_weeks": "39", "newborn_slots": "2", "nb0_outcome": "live", "nb0_sex": "F",
         "nb0_weight_grams": "2600", "nb1_outcome": "live", "nb1_sex": "M", "nb1_weight_grams": "2550"},
    )  # fmt: skip
    assert res.status_code == 302, res.content.decode()[:2000]
    assert list(d.newborns.order_by("birth_order").values_list("weight_grams", flat=True)) == [2600, 2550]


def test_record_of_other_commune_is_404(collector, tree, make_user):
    other = make_user("collector", tree.tyt_b1)
    from .conftest import anc as anc_b

    records_upsert(actor=other, register="anc", records=[anc_b(facility=tree.tyt_b1.code)])
    rec = AncVisit.objects.get()
    client = Client()
    client.force_login(collector)
    assert client.get(f"/registers/anc/{rec.pk}/").status_code == 404
    assert "Trần Thị Hoa" not in client.get("/registers/anc/").content.decode()


def test_viewer_cannot_open_form(tree, make_user):
    client = Client()
    client.force_login(make_user("viewer", tree.tyt_a1))
    assert client.get("/registers/anc/").status_code == 200
    assert client.get("/registers/anc/new/").status_code == 403


def test_upload_preview_confirm_pages(web, tree, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    wb = Workbook()
    ws = wb.active
    ws.title = "Dữ liệu"
    ws.append(["Ngày", "Nơi thực hiện", "Họ và tên"])
    ws.append([DAY, "Tại TYT / tại cơ sở", "Trần Thị Hoa"])
    ws.append(["32/01/2026", "Tại TYT / tại cơ sở", "Lỗi Ngày"])
    buf = io.BytesIO()
    wb.save(buf)
    buf.seek(0)
    buf.name = "so.xlsx"
    res = web.post("/registers/anc/upload/", {"file": buf})
    assert res.status_code == 302
    page = web.get(res["Location"]).content.decode()
    assert "Sẽ tạo mới" in page and "ngày không tồn tại" in page
    confirm = res["Location"] + "confirm/"
    web.post(confirm, {})
    assert AncVisit.objects.count() == 1
    assert web.get(res["Location"] + "errors.xlsx").status_code == 200
    assert web.get("/registers/anc/template.xlsx").status_code == 200


def test_upload_bad_file_message(web, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    buf = io.BytesIO(b"a,b\n1,2\n")
    buf.name = "so.xlsx"
    res = web.post("/registers/anc/upload/", {"file": buf})
    assert res.status_code == 422 and "CSV" in res.content.decode()


def test_r_int_03_sync_page_visible_to_level_above(collector, tree, make_user):
    records_upsert(actor=collector, register="anc", records=[anc()])
    leader = make_user("leader", tree.ttyt_a)
    client = Client()
    client.force_login(leader)
    body = client.get("/registers/sync/").content.decode()
    assert tree.tyt_a1.code in body and "his-x" in body
    other = Client()
    other.force_login(make_user("leader", tree.ttyt_b))
    assert tree.tyt_a1.code not in other.get("/registers/sync/").content.decode()
    assert Client().get("/registers/sync/").status_code == 302
