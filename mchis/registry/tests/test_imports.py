"""R-CH-03 imports (initial migration contract command; survey matching) — nothing written without approval."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import Workbook

from mchis.core.errors import DomainError
from mchis.registry import importing, tabular
from mchis.registry.models import ChangeRequest, RequestKind
from mchis.registry.personal_id import compose

HEADER = [
    "ma_ho_so",
    "ho_ten",
    "ngay_sinh",
    "gioi_tinh",
    "dan_toc",
    "so_dinh_danh",
    "ho_ten_me",
    "ho_ten_nguoi_giam_ho",
]
ROWS = [
    [
        "A1",
        "Nguyễn Văn An",
        "12/03/2018",
        "Nam",
        "01",
        compose(prefix="008", birth_year=2018, sex="M", serial=1),
        "Trần Thị Cúc",
        "",
    ],
    ["A2", "Lò Thị Hoa", "01/06/2019", "Nữ", "03", "", "Lò Thị Mai", ""],
]


def _csv(tmp_path, rows, name="so-cu.csv"):
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        writer.writerows(rows)
    return path


def test_r_ch_03_xlsx_template_is_read(unit):
    book = Workbook()
    sheet = book.active
    sheet.append(["Mã hồ sơ nguồn", "Họ và tên", "Ngày sinh", "Giới tính"])
    sheet.append(["X9", "Hà Văn Nam", "05/05/2020", "Nam"])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = tabular.read_rows(buffer.getvalue(), "f.xlsx", importing.COLUMNS)
    assert rows == [
        {"ma_ho_so": "X9", "ho_ten": "Hà Văn Nam", "ngay_sinh": "05/05/2020", "gioi_tinh": "Nam", "_row": 2}
    ]


def test_r_ch_03_survey_rows_match_existing_children_and_become_requests(collector, unit, make_child):
    known = make_child()  # Nguyễn Văn An, mother Trần Thị Cúc
    rows = [
        # same child found by name + DOB + mother, with a new ID number → change request
        {
            "_row": 2,
            "ho_ten": "NGUYEN VAN AN",
            "ngay_sinh": "12/03/2018",
            "gioi_tinh": "Nam",
            "ho_ten_me": "Tran Thi Cuc",
            "so_dinh_danh": "",
            "dan_toc": "01",
            "ho_ten_nguoi_giam_ho": "Nguyễn Văn Tư",
        },
        {
            "_row": 3,
            "ho_ten": "Lò Thị Hoa",
            "ngay_sinh": "01/06/2019",
            "gioi_tinh": "Nữ",
            "ho_ten_me": "Lò Thị Mai",
        },
        {
            "_row": 4,
            "ho_ten": "Nguyễn Văn An",
            "ngay_sinh": "12/03/2018",
            "gioi_tinh": "Nam",
            "so_dinh_danh": known.personal_id,
        },
    ]
    preview = importing.survey_import(
        actor=collector, unit=unit, rows=rows, source="sang-loc", file_sha="a" * 64, dry_run=True
    )
    assert [r.outcome for r in preview] == ["change_request", "create_request", "unchanged"]
    assert ChangeRequest.objects.exclude(kind=RequestKind.CREATE, status="approved").count() == 0, (
        "dry run writes nothing"
    )

    importing.survey_import(
        actor=collector, unit=unit, rows=rows, source="sang-loc", file_sha="a" * 64, dry_run=False
    )
    importing.survey_import(
        actor=collector, unit=unit, rows=rows, source="sang-loc", file_sha="a" * 64, dry_run=False
    )
    pending = ChangeRequest.objects.filter(status="pending")
    assert pending.count() == 2, "same file twice creates nothing twice"
    change = pending.get(kind=RequestKind.CHANGE)
    assert change.child == known and change.diff == {
        "guardian_name": [known.guardian_name or "", "Nguyễn Văn Tư"]
    }
    known.refresh_from_db()
    assert known.guardian_name == "", "nothing written live"


def _declaring(dimension: str) -> bytes:
    """A one-row import file whose sheet declares `dimension`, rebuilt with zipfile (a few KB on disk)."""
    import zipfile

    book = Workbook()
    book.active.append(["Mã hồ sơ nguồn", "Họ và tên", "Ngày sinh", "Giới tính"])
    plain = io.BytesIO()
    book.save(plain)
    source = zipfile.ZipFile(plain)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for item in source.infolist():
            data = source.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                head, _, rest = data.decode().partition("<dimension")
                data = (head + f'<dimension ref="{dimension}"/>' + rest.partition("/>")[2]).encode()
            zf.writestr(item.filename, data)
    return out.getvalue()


@pytest.mark.parametrize(
    ("dimension", "message"), [("A1:XFD12001", "16384 cột"), ("A1:D900000", "quá 100000 dòng")]
)
@pytest.mark.parametrize("columns", ["import", "police"])
def test_r_ch_03_import_sheet_declaring_a_huge_range_is_refused_before_reading(dimension, message, columns):
    from mchis.registry import police

    data = _declaring(dimension)
    assert len(data) < 10_000
    with pytest.raises(DomainError, match=message):
        tabular.read_rows(data, "f.xlsx", importing.COLUMNS if columns == "import" else police.COLUMNS)


def test_r_ch_03_csv_wider_than_the_template_is_refused():
    wide = ",".join(["x"] * 60) + "\n"
    with pytest.raises(DomainError, match="60 cột"):
        tabular.read_rows(wide.encode(), "f.csv", importing.COLUMNS)
