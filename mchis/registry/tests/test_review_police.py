"""R-CH-02: review lists with counts per village and audited export; police round trip with dry run."""

from __future__ import annotations

import io

import pytest
from django.test import Client
from openpyxl import load_workbook

from mchis.core.models import AuditEvent
from mchis.registry import police, selectors, tabular
from mchis.registry.models import ChangeRequest
from mchis.registry.personal_id import compose


@pytest.fixture
def village(unit):
    from mchis.places.models import Village

    return Village.objects.create(commune=unit.admin_unit, code="T01", name="Nà Khà")


@pytest.fixture
def children(make_child, village):
    ok = make_child(village=village.pk)
    no_id = make_child(
        full_name="Lò Thị Hoa", sex="F", personal_id="", village=village.pk, mother_name="Lò Thị Mai"
    )
    no_ethnicity = make_child(full_name="Hà Văn Nam", ethnicity_code="", personal_id="")
    return ok, no_id, no_ethnicity


def test_r_ch_02_review_lists_and_counts_per_village(collector, children, village):
    ok, no_id, no_ethnicity = children
    rows = selectors.review_rows(collector, "no_id")
    assert {r.child.pk for r in rows} == {no_id.pk, no_ethnicity.pk}
    assert selectors.review_counts_by_village(rows) == [("(chưa có thôn)", 1), ("Thôn Nà Khà", 1)]
    missing = selectors.review_rows(collector, "missing_basic")
    assert [r.child.pk for r in missing] == [no_ethnicity.pk]
    assert "Thiếu dân tộc" in missing[0].problems


def test_r_ch_02_malformed_id_list(collector, children):
    ok = children[0]
    from mchis.registry.models import Child

    Child.objects.filter(pk=ok.pk).update(personal_id="99912345678")  # legacy bad data
    rows = selectors.review_rows(collector, "bad_id")
    assert [r.child.pk for r in rows] == [ok.pk]


def test_r_sec_06_review_export_needs_step_up_and_is_audited(collector, children, settings):
    settings.ROLES_REQUIRING_2FA = []
    client = Client()
    client.force_login(collector)
    response = client.get("/children/review/export.xlsx?kind=no_id")
    assert response.status_code == 302 and "/accounts/step-up/" in response["Location"]
    session = client.session
    import time

    session["mchis_step_up_at"] = time.time()
    session.save()
    response = client.get("/children/review/export.xlsx?kind=no_id")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.max_row == 3  # header + 2 children
    event = AuditEvent.objects.get(action="export", object_type="children.review_no_id.xlsx")
    assert event.changes["row_count"] == 2


def test_r_ch_02_police_round_trip_dry_run_then_change_requests(collector, children, make_user, tree):
    ok, no_id, no_ethnicity = children
    exported = police.export_rows(collector)
    assert {r["ma_ho_so"] for r in exported} == {str(no_id.public_id), str(no_ethnicity.public_id)}
    content = tabular.write_xlsx(police.COLUMNS, exported, title="x")
    # the police fill the verified number for Hoa and nothing for Nam; one unknown row is added
    book = load_workbook(io.BytesIO(content))
    sheet = book.active
    for row in sheet.iter_rows(min_row=2):
        if row[0].value == str(no_id.public_id):
            row[10].value = compose(prefix="008", birth_year=2018, sex="F", serial=77)
    sheet.append(["00000000-0000-0000-0000-000000000000", "Ai Đó"])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = tabular.read_rows(buffer.getvalue(), "tra-ve.xlsx", police.COLUMNS)

    preview = police.police_import(actor=collector, rows=rows, file_sha="b" * 64, dry_run=True)
    outcomes = {o.child.pk if o.child else None: o.outcome for o in preview}
    assert outcomes == {no_id.pk: "would_update", no_ethnicity.pk: "unchanged", None: "not_found"}
    assert not ChangeRequest.objects.filter(source="police").exists()

    police.police_import(actor=collector, rows=rows, file_sha="b" * 64, dry_run=False)
    police.police_import(actor=collector, rows=rows, file_sha="b" * 64, dry_run=False)
    created = ChangeRequest.objects.get(source="police")
    assert created.child == no_id and created.status == "pending"
    assert list(created.diff) == ["personal_id"]


def test_r_ch_02_police_id_already_used_is_a_conflict(collector, children):
    ok, no_id, _ = children
    rows = [
        {
            "_row": 2,
            "ma_ho_so": str(no_id.public_id),
            "so_dinh_danh": "",
            "so_dinh_danh_xac_minh": ok.personal_id,
        }
    ]
    [outcome] = police.police_import(actor=collector, rows=rows, file_sha="c" * 64, dry_run=True)
    assert outcome.outcome == "conflict" and "trẻ khác" in outcome.message


def test_r_sec_01_police_import_cannot_reach_other_communes(make_user, tree, children):
    outsider = make_user("collector", tree.tyt_b1)
    rows = [{"_row": 2, "ma_ho_so": str(children[1].public_id), "so_dinh_danh_xac_minh": "008319000001"}]
    [outcome] = police.police_import(actor=outsider, rows=rows, file_sha="d" * 64, dry_run=False)
    assert outcome.outcome == "not_found"
