"""Excel upload (R-MCH-02b): template, dry-run preview, commit, error file, legacy text, refused files."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from mchis.core.errors import Conflict
from mchis.core.models import AuditEvent
from mchis.registers import excel
from mchis.registers.definitions import REGISTERS
from mchis.registers.legacy import unicode_to_tcvn3, unicode_to_vni
from mchis.registers.models import AncVisit, Delivery, PendingUpload, UploadStatus
from mchis.registers.services import upload_commit, upload_discard, upload_preview

DAY = date.today() - timedelta(days=5)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def anc_sheet(rows, headers=None, place="Tại TYT / tại cơ sở"):
    """A sheet with the given columns; "Nơi thực hiện" (required) is added as the last column unless the
    headers are given without it on purpose."""
    wb = Workbook()
    ws = wb.active
    ws.title = "Dữ liệu"
    cols = headers or [
        "Mã cơ sở",
        "Ngày",
        "Họ và tên",
        "Ngày sinh",
        "Dân tộc",
        "Xét nghiệm HIV",
        "Tuổi thai (tuần)",
    ]
    add_place = place is not None and "Nơi thực hiện" not in cols
    ws.append([*cols, "Nơi thực hiện"] if add_place else cols)
    for row in rows:
        ws.append([*row, *([None] * (len(cols) - len(row))), place] if add_place else row)
    return wb


def to_bytes(wb):
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def preview(user, unit, data, register="anc", name="so.xlsx"):
    return upload_preview(actor=user, register=register, unit=unit, filename=name, chunks=[data])


@pytest.mark.django_db
def test_template_has_dropdowns_hidden_lists_and_guide(collector, tree):
    data = excel.build_template(REGISTERS["delivery"], facility_code=tree.tyt_a1.code)
    wb = load_workbook(io.BytesIO(data))
    assert wb.sheetnames == ["Dữ liệu", "_lists", "Hướng dẫn"]
    assert wb["_lists"].sheet_state == "hidden"
    ws = wb["Dữ liệu"]
    headers = [c.value for c in ws[1]]
    assert "Ngày *" in headers and "Trẻ 2: Cân nặng (gam)" in headers
    formulas = {dv.formula1 for dv in ws.data_validations.dataValidation}
    assert any("_lists" in f for f in formulas)
    lists = [c.value for c in wb["_lists"]["A"] if c.value]
    assert lists[0].startswith("at_facility - ")
    # the template itself uploads cleanly (one row with only the facility filled is an error row, not a crash)
    up = preview(collector, tree.tyt_a1, data, register="delivery")
    assert up.summary["counts"]["error"] == 1


@pytest.mark.django_db
def test_r_mch_02_preview_commit_error_file_cycle_with_legacy_text(collector, tree):
    rows = [
        [tree.tyt_a1.code, DAY, unicode_to_tcvn3("Trần Thị Hoa"), "01/05/2001", "02 - Tày", "Có", 12],
        [
            None,
            DAY.strftime("%d/%m/%Y"),
            unicode_to_vni("Nguyễn Thị Hường"),
            date(2000, 1, 2),
            "Kinh",
            "x",
            None,
        ],
        [tree.tyt_a1.code, "31/02/2026", "Lê Thị Lan", "01/01/1990", "01", "", 8],
        [tree.tyt_b1.code, DAY, "Hà Thị Nga", "01/01/1990", "01", "", 8],
    ]
    up = preview(collector, tree.tyt_a1, to_bytes(anc_sheet(rows)))
    assert up.summary["counts"] == {"create": 2, "update": 0, "unchanged": 0, "error": 2}
    errors = {e["row"]: e["errors"] for e in up.summary["sample"] if e["action"] == "error"}
    assert errors[4][0]["column"] == "B" and "không tồn tại" in errors[4][0]["reason"]
    assert errors[5][0]["column"] == "A" and errors[5][0]["field"] == "facility"
    assert AncVisit.objects.count() == 0  # preview writes nothing
    done = upload_commit(actor=collector, upload=up)
    assert done.status == UploadStatus.COMMITTED and done.summary["result"]["created"] == 2
    names = sorted(AncVisit.objects.values_list("full_name", flat=True))
    assert names == ["Nguyễn Thị Hường", "Trần Thị Hoa"]
    err = load_workbook(done.error_file_path)
    values = [[c.value for c in row] for row in err.active.iter_rows()]
    assert values[0][-2:] == ["Dòng gốc", "Lỗi"]
    assert [v[-2] for v in values[1:]] == [4, 5]
    assert "Cột B" in values[1][-1]
    assert AuditEvent.objects.filter(action="register.excel_batch").count() == 1
    with pytest.raises(Conflict, match=r"Tệp này đã được ghi hoặc đã hủy\."):
        upload_commit(actor=collector, upload=up)


@pytest.mark.django_db
def test_r_mch_02_same_file_twice_is_unchanged(collector, tree):
    data = to_bytes(anc_sheet([[tree.tyt_a1.code, DAY, "Trần Thị Hoa", "01/05/2001", "02", "1", 12]]))
    upload_commit(actor=collector, upload=preview(collector, tree.tyt_a1, data))
    again = preview(collector, tree.tyt_a1, data)
    assert again.summary["counts"]["unchanged"] == 1
    upload_commit(actor=collector, upload=again)
    assert AncVisit.objects.count() == 1
    assert AuditEvent.objects.filter(action="register.excel_batch").count() == 2


@pytest.mark.django_db
def test_duplicate_rows_in_file_are_row_errors(collector, tree):
    row = [tree.tyt_a1.code, DAY, "Trần Thị Hoa", "01/05/2001", "02", "1", 12]
    up = preview(collector, tree.tyt_a1, to_bytes(anc_sheet([row, row])))
    assert up.summary["counts"] == {"create": 1, "update": 0, "unchanged": 0, "error": 1}


@pytest.mark.django_db
def test_delivery_upload_with_newborn_columns(collector, tree):
    headers = ["Ngày", "Họ và tên", "Ngày sinh", "Tuổi thai khi đẻ (tuần)", "Cách đẻ", "Người đỡ đẻ",
               "Trẻ 1: Kết quả", "Trẻ 1: Giới tính trẻ", "Trẻ 1: Cân nặng (gam)",
               "Trẻ 2: Kết quả", "Trẻ 2: Giới tính trẻ", "Trẻ 2: Cân nặng (gam)"]  # fmt: skip
    rows = [
        [
            DAY,
            "Lò Thị Mai",
            "03/02/1995",
            36,
            "normal",
            "Hộ sinh",
            "live",
            "M - Nam",
            2300,
            "live",
            "Nữ",
            2100,
        ]
    ]
    up = preview(collector, tree.tyt_a1, to_bytes(anc_sheet(rows, headers)), register="delivery")
    assert up.summary["counts"]["create"] == 1, up.summary
    upload_commit(actor=collector, upload=up)
    d = Delivery.objects.get()
    assert list(d.newborns.values_list("sex", "weight_grams", "is_preterm")) == [
        ("M", 2300, True),
        ("F", 2100, True),
    ]


@pytest.mark.django_db
def test_discard_removes_file(collector, tree):
    up = preview(collector, tree.tyt_a1, to_bytes(anc_sheet([[None, DAY, "A", None, None, None, None]])))
    upload_discard(actor=collector, upload=up)
    assert not Path(up.file_path).exists()
    assert PendingUpload.objects.get().status == UploadStatus.DISCARDED


# --- refused files ---------------------------------------------------------------------------------------


def refused(collector, tree, data, fragment):
    with pytest.raises(excel.BadFile, match=re.escape(fragment)) as exc:
        preview(collector, tree.tyt_a1, data)
    assert fragment in exc.value.message, exc.value.message
    assert PendingUpload.objects.count() == 0


@pytest.mark.django_db
def test_csv_renamed_xlsx_refused(collector, tree):
    refused(collector, tree, "Ngày,Họ và tên\n01/01/2026,An\n".encode(), "CSV")


@pytest.mark.django_db
def test_truncated_file_refused(collector, tree):
    data = to_bytes(anc_sheet([[None, DAY, "A", None, None, None, None]] * 50))
    refused(collector, tree, data[: len(data) // 2], "cắt cụt")


@pytest.mark.django_db
def test_zip_bomb_refused_before_parsing(collector, tree):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
        zf.writestr("xl/worksheets/sheet1.xml", b"<" + b"a" * (60 * 1024 * 1024))
    refused(collector, tree, buf.getvalue(), "bom nén")


@pytest.mark.django_db
def test_merged_cells_refused(collector, tree):
    wb = anc_sheet([[None, DAY, "A", None, None, None, None], [None, DAY, "B", None, None, None, None]])
    wb.active.merge_cells("C2:C3")
    refused(collector, tree, to_bytes(wb), "ô gộp (C2:C3)")


@pytest.mark.django_db
def test_hidden_sheet_with_data_refused(collector, tree):
    wb = anc_sheet([[None, DAY, "A", None, None, None, None]])
    hidden = wb.create_sheet("Ẩn")
    hidden.append(["Trần Thị B", "01/01/2026"])
    hidden.sheet_state = "hidden"
    refused(collector, tree, to_bytes(wb), "Trang tính ẩn 'Ẩn'")


@pytest.mark.django_db
def test_hidden_data_sheet_refused(collector, tree):
    wb = anc_sheet([[None, DAY, "A", None, None, None, None]])
    wb.create_sheet("Khác").append(["x"])
    wb["Dữ liệu"].sheet_state = "hidden"
    wb.active = 1
    refused(collector, tree, to_bytes(wb), "đang bị ẩn")


@pytest.mark.django_db
def test_unknown_column_refused(collector, tree):
    wb = anc_sheet([], headers=["Ngày", "Họ và tên", "Màu mắt"], place=None)
    refused(collector, tree, to_bytes(wb), "Màu mắt")


@pytest.mark.django_db
def test_old_xls_refused(collector, tree):
    refused(collector, tree, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ".xls")


@pytest.mark.django_db
def test_tampered_kept_outcomes_are_ignored(collector, tree):
    up = preview(
        collector, tree.tyt_a1, to_bytes(anc_sheet([[None, DAY, "Trần Thị Hoa", None, None, None, 10]]))
    )
    kept = Path(up.file_path).with_suffix(".outcomes.pkl")
    assert kept.exists()
    kept.write_bytes(b"not a pickle")  # the HMAC no longer matches: the workbook is parsed again
    done = upload_commit(actor=collector, upload=up)
    assert done.summary["result"]["created"] == 1 and AncVisit.objects.get().full_name == "Trần Thị Hoa"


# --- memory bombs (issue 10 item 8): the sheet's declared size is checked before any reader allocates it ---------


def crafted(dimension: str | None, *, extra_cell: str = "", workbook_xml: bytes | None = None) -> bytes:
    """A real two-row workbook whose data sheet declares `dimension` (None: no <dimension> element), with
    an optional far-away cell, rebuilt with zipfile; tiny on disk whatever it declares."""
    source = zipfile.ZipFile(io.BytesIO(to_bytes(anc_sheet([[None, DAY, "A", None, None, None, None]]))))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode()
                head, _, rest = text.partition("<dimension")
                rest = rest.partition("/>")[2]
                text = head + (f'<dimension ref="{dimension}"/>' if dimension else "") + rest
                if extra_cell:
                    text = text.replace(
                        "</sheetData>",
                        f'<row r="{extra_cell[3:]}"><c r="{extra_cell}" t="inlineStr"><is><t>x</t></is></c></row>'
                        "</sheetData>",
                    )
                data = text.encode()
            if item.filename == "xl/workbook.xml" and workbook_xml is not None:
                data = workbook_xml
            zf.writestr(item.filename, data)
    return out.getvalue()


@pytest.mark.django_db
def test_r_mch_02_sheet_declaring_a1_xfd12001_refused_before_reading(collector, tree):
    data = crafted("A1:XFD12001")
    assert len(data) < 20_000
    refused(collector, tree, data, "16384 cột")


@pytest.mark.django_db
def test_r_mch_02_sheet_declaring_too_many_rows_refused(collector, tree):
    refused(collector, tree, crafted(f"A1:G{excel.MAX_ROWS + 5}"), f"tối đa {excel.MAX_ROWS} dòng")


@pytest.mark.django_db
def test_r_mch_02_sheet_without_dimension_is_measured_by_streaming(collector, tree):
    refused(collector, tree, crafted(None, extra_cell="XFD2"), "16384 cột")


@pytest.mark.django_db
def test_r_mch_02_workbook_xml_with_entities_refused(collector, tree):
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
        b'<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">&lol2;</workbook>'
    )
    refused(collector, tree, crafted("A1:G2", workbook_xml=bomb), "hỏng")


@pytest.mark.django_db
def test_r_mch_02_template_wide_file_is_still_accepted(collector, tree):
    up = preview(collector, tree.tyt_a1, crafted("A1:G2"))
    assert up.pk is not None


# --- no orphans (issue 10 item 10) ------------------------------------------------------------------------------


def _upload_files(settings):
    folder = Path(settings.MEDIA_ROOT) / "registers" / "uploads"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.django_db
def test_failed_preview_leaves_no_file(collector, tree, settings, monkeypatch):
    # given the dry run fails half-way for a reason that is not the file's (a database error, a bug)
    from mchis.registers import uploads

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(uploads, "records_upsert", boom)
    with pytest.raises(RuntimeError, match="went away"):
        preview(collector, tree.tyt_a1, to_bytes(anc_sheet([[None, DAY, "A", None, None, None, None]])))
    # then neither the upload nor its preview/outcome files remain
    assert _upload_files(settings) == [] and PendingUpload.objects.count() == 0


@pytest.mark.django_db
def test_expired_preview_and_stray_files_are_removed(collector, tree, settings):
    import os

    from django.utils import timezone

    from mchis.registers.services import uploads_expire

    up = preview(collector, tree.tyt_a1, to_bytes(anc_sheet([[None, DAY, "A", None, None, None, None]])))
    fresh = preview(collector, tree.tyt_a1, to_bytes(anc_sheet([[None, DAY, "B", None, None, None, None]])))
    PendingUpload.objects.filter(pk=up.pk).update(created_at=timezone.now() - timedelta(hours=25))
    stray = Path(settings.MEDIA_ROOT) / "registers" / "uploads" / "crashed.xlsx"
    stray.write_bytes(b"PK")
    old = (timezone.now() - timedelta(hours=25)).timestamp()
    os.utime(stray, (old, old))
    assert uploads_expire() == {"expired": 1, "stray_files": 1}
    assert PendingUpload.objects.get(pk=up.pk).status == UploadStatus.DISCARDED
    assert not Path(up.file_path).exists() and not stray.exists()
    assert Path(fresh.file_path).exists() and Path(fresh.preview_path).exists()
    assert uploads_expire() == {"expired": 0, "stray_files": 0}
