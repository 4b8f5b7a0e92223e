"""The initial migration at scale (QĐ 3978 Điều 20; R-CH-03, R-CH-04, R-CH-05): `import_children`."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from mchis.core.models import AuditEvent
from mchis.places.models import Village
from mchis.registry import bulk_import, services
from mchis.registry.models import ChangeRequest, Child, ChildVersion, CircumstanceMembership
from mchis.registry.personal_id import compose

HEADER = [
    "ma_ho_so",
    "ma_don_vi",
    "ho_ten",
    "ngay_sinh",
    "gioi_tinh",
    "dan_toc",
    "so_dinh_danh",
    "ho_ten_me",
    "thon",
]


def row(
    ref, unit="", name="Nguyễn Văn An", dob="12/03/2018", sex="Nam", mother="Trần Thị Cúc", village="", pid=""
):
    return [ref, unit, name, dob, sex, "01", pid, mother, village]


def write_csv(tmp_path, rows, name="so-cu.csv", header=HEADER):
    path = tmp_path / name
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run(path, approver, **options):
    out, err = io.StringIO(), io.StringIO()
    call_command(
        "import_children", str(path), approved_by=approver.username, stdout=out, stderr=err, **options
    )
    return out.getvalue()


def issues_of(path):
    with path.with_name(f"{path.stem}-canh-bao.csv").open(encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def district_leader(make_user, tree):
    return make_user("leader", tree.ttyt_a, username="lanh_dao_ttyt")


def test_r_ch_05_import_names_the_approving_leader_and_a_rerun_changes_nothing(tmp_path, unit, leader):
    # given a file of two records for one commune
    path = write_csv(tmp_path, [row("A1", pid=compose(prefix="008", birth_year=2018, sex="M", serial=1)),
                                row("A2", name="Lò Thị Hoa", sex="Nữ", dob="01/06/2019")])  # fmt: skip
    # when it is imported twice with the same source
    first = run(path, leader, unit=unit.code, source="so-giay")
    second = run(path, leader, unit=unit.code, source="so-giay")
    # then two records exist, each with one history row naming the leader, and the re-run added nothing
    assert "2 hồ sơ mới" in first and "0 hồ sơ mới, 2 đã có" in second
    assert Child.objects.count() == 2 and ChildVersion.objects.count() == 2
    assert {v.approved_by_id for v in ChildVersion.objects.all()} == {leader.pk}
    assert set(Child.objects.values_list("source", "source_ref")) == {("so-giay", "A1"), ("so-giay", "A2")}
    assert ChangeRequest.objects.count() == 0, "the file is the approval: no per-row request"
    # and each carries its province (the shard key, ADR 0075) as a record saved one by one would
    from mchis.units.provinces import province_code_of

    assert set(Child.objects.values_list("province_code", flat=True)) == {province_code_of(unit.pk)} != {""}


def test_r_ch_04_bulk_history_row_is_the_record_as_the_services_see_it(tmp_path, unit, leader):
    # given a row with a circumstance group
    path = tmp_path / "f.csv"
    path.write_text(
        "ma_ho_so,ho_ten,ngay_sinh,gioi_tinh,ho_ten_cha,nhom_hoan_canh,ngay_bat_dau_hoan_canh\n"
        "K1,Hà Văn Nam,05/05/2020,Nam,Hà Văn Tuấn,HC01,01/01/2024\n",
        encoding="utf-8",
    )
    # when it is imported in bulk
    run(path, leader, unit=unit.code, source="s")
    # then its history snapshot equals the snapshot the services compute from the live record
    child = Child.objects.get()
    version = ChildVersion.objects.get(child=child)
    assert version.snapshot == services.child_snapshot(child)
    assert child.parents_folded == "ha van tuan" and child.name_folded == "ha van nam"
    assert CircumstanceMembership.objects.filter(child=child, group_code="HC01").exists()
    assert version.kind == "create" and "dòng 2" in version.reason


def test_r_ch_03_bad_rows_are_reported_by_row_and_column_and_good_rows_load(tmp_path, unit, leader):
    # given one good row and one row with a bad date and a bad sex
    path = write_csv(tmp_path, [row("A1"), row("A2", name="", dob="31/02/2019", sex="X")])
    # when it is imported
    out = run(path, leader, unit=unit.code)
    # then the good row loaded, the bad one is in the issues file with its row and column, and summarised
    assert Child.objects.count() == 1 and "1 dòng lỗi" in out
    bad = [i for i in issues_of(path) if i["muc_do"] == "lỗi"]
    assert {(i["dong"], i["cot"]) for i in bad} == {("3", "ngay_sinh"), ("3", "gioi_tinh")}
    assert any("Ngày sinh" in i["noi_dung"] for i in bad)
    assert "ngay_sinh" in out and "Chi tiết từng dòng" in out


def test_r_ch_03_strict_import_with_a_bad_row_writes_nothing(tmp_path, unit, leader):
    path = write_csv(tmp_path, [row("A1"), row("A2", dob="31/02/2019")])
    with pytest.raises(CommandError, match="không ghi dữ liệu nào"):
        run(path, leader, unit=unit.code, strict=True)
    assert Child.objects.count() == 0 and ChildVersion.objects.count() == 0


def test_r_ch_03_a_fixed_file_loads_only_the_rows_that_were_refused(tmp_path, unit, leader):
    path = write_csv(tmp_path, [row("A1"), row("A2", dob="31/02/2019")])
    run(path, leader, unit=unit.code, source="s")
    path = write_csv(tmp_path, [row("A1"), row("A2", dob="28/02/2019")])
    out = run(path, leader, unit=unit.code, source="s")
    assert "1 hồ sơ mới, 1 đã có" in out and Child.objects.count() == 2


def test_r_ch_03_repeated_record_number_is_an_error_naming_the_first_row(tmp_path, unit, leader):
    # given the same ma_ho_so on rows 2 and 4, in different chunks
    rows = iter([{"_row": n, "ma_ho_so": ref, "ho_ten": "Lê Văn Tám", "ngay_sinh": "01/01/2020",
                  "gioi_tinh": "Nam", "ho_ten_me": "Lê Thị Hai"} for n, ref in ((2, "X"), (3, "Y"), (4, "X"))])  # fmt: skip
    found: list[bulk_import.ImportIssue] = []
    summary = services.children_import(
        approver=leader, rows=rows, source="s", unit=unit, on_issue=found.append, chunk_size=1
    )
    assert summary.created == 2 and summary.rejected == 1
    assert [(i.row, i.column, i.kind) for i in found] == [(4, "ma_ho_so", "duplicate_ref")]
    assert "dòng 2" in found[0].message


def test_r_ch_05_multi_unit_file_is_approved_by_a_leader_above_all_units(tmp_path, tree, district_leader):
    # given a file naming two communes of the same district health centre
    path = write_csv(
        tmp_path, [row("A1", unit="TYT02269"), row("B1", unit="TYT02296"), row("B2", unit="TYT02296")]
    )
    # when the district leader imports it without --unit
    out = run(path, district_leader, source="so-huyen")
    # then each row went to its own unit and commune, with one audit entry per commune unit
    by_unit = dict(Child.objects.values_list("source_ref", "unit__code"))
    assert by_unit == {"A1": "TYT02269", "B1": "TYT02296", "B2": "TYT02296"}
    assert set(Child.objects.values_list("commune_id", flat=True)) == {tree.commune_a1.pk, tree.commune_a2.pk}
    events = AuditEvent.objects.filter(action="child.import")
    assert events.count() == 2 and "3 hồ sơ mới" in out


def test_r_ch_05_a_leader_not_above_every_unit_is_refused_and_nothing_is_written(tmp_path, unit, leader):
    # given the commune leader of TYT02269 and a file whose third row belongs to another commune
    path = write_csv(
        tmp_path, [row("A1", unit="TYT02269"), row("A2", unit="TYT02269"), row("B1", unit="TYT02296")]
    )
    # when they import it (rows of their own unit come first and are written in an earlier chunk)
    with pytest.raises(CommandError, match="không phải lãnh đạo của đơn vị TYT02296"):
        run(path, leader)
    # then nothing at all is written
    assert Child.objects.count() == 0 and ChildVersion.objects.count() == 0


def test_r_ch_05_refusal_after_a_written_chunk_leaves_nothing(tree, unit, leader):
    rows = iter([
        {"_row": 2, "ma_ho_so": "A", "ma_don_vi": "TYT02269", "ho_ten": "Lê An", "ngay_sinh": "01/01/2020", "gioi_tinh": "Nam"},
        {"_row": 3, "ma_ho_so": "B", "ma_don_vi": "TYT01273", "ho_ten": "Lê Bình", "ngay_sinh": "01/01/2020", "gioi_tinh": "Nam"},
    ])  # fmt: skip
    with pytest.raises(Exception, match="TYT01273"):
        services.children_import(approver=leader, rows=rows, source="s", chunk_size=1)
    assert Child.objects.count() == 0


def test_r_ch_05_a_failed_chunk_write_leaves_nothing_and_names_the_error(tree, unit, leader, monkeypatch):
    """On PostgreSQL a writer thread inserts chunk N while chunk N+1 is checked: a failure there still
    reaches the caller, after the thread has stopped, and the whole run is rolled back."""
    real_insert = bulk_import.ChunkWriter._insert
    calls: list[int] = []

    def failing_insert(self, cursor, rows):
        calls.append(len(rows))
        if len(calls) == 3:
            raise RuntimeError("chunk 3 failed")
        return real_insert(self, cursor, rows)

    monkeypatch.setattr(bulk_import.ChunkWriter, "_insert", failing_insert)
    rows = iter([{"_row": n, "ma_ho_so": f"R{n}", "ho_ten": "Lê Văn Tám", "ngay_sinh": "01/01/2020",
                  "gioi_tinh": "Nam", "ho_ten_me": "Lê Thị Hai"} for n in range(2, 9)])  # fmt: skip
    with pytest.raises(RuntimeError, match="chunk 3 failed"):
        services.children_import(approver=leader, rows=rows, source="s", unit=unit, chunk_size=2)
    assert calls == [2, 2, 2]  # the first two chunks were written before the failure
    assert Child.objects.count() == 0 and ChildVersion.objects.count() == 0


@pytest.mark.skipif(connection.vendor != "postgresql", reason="per-chunk foreign-key checks are PostgreSQL's")
def test_r_ch_05_a_broken_reference_fails_its_chunk_and_nothing_is_written(tree, unit, leader, monkeypatch):
    """The writer checks the foreign keys at the end of each chunk (not at COMMIT): a row pointing at a village
    that does not exist fails the run at its own chunk, and the run is one transaction."""
    real_resolve = bulk_import.VillageResolver.resolve
    seen: list[str] = []

    def resolve(self, text):
        seen.append(text)
        return (10**9, "exact", "?") if text == "Thôn ma" else real_resolve(self, text)

    monkeypatch.setattr(bulk_import.VillageResolver, "resolve", resolve)
    rows = iter([{"_row": n, "ma_ho_so": f"R{n}", "ho_ten": "Lê Văn Tám", "ngay_sinh": "01/01/2020",
                  "gioi_tinh": "Nam", "ho_ten_me": "Lê Thị Hai", "thon": "Thôn ma" if n == 4 else ""}
                 for n in range(2, 12)])  # fmt: skip
    with pytest.raises(Exception, match="(?i)foreign key"):
        services.children_import(approver=leader, rows=rows, source="s", unit=unit, chunk_size=2)
    assert len(seen) < 10, "the run stopped at the broken chunk, not at the end of the file"
    assert Child.objects.count() == 0 and ChildVersion.objects.count() == 0


def test_r_ch_05_collector_cannot_approve_an_import(tmp_path, unit, collector):
    with pytest.raises(CommandError, match="không có quyền"):
        run(write_csv(tmp_path, [row("A1")]), collector, unit=unit.code)
    assert Child.objects.count() == 0


def test_r_ch_03_without_unit_the_file_must_name_units(tmp_path, district_leader):
    path = write_csv(
        tmp_path,
        [["A1", "Lê An", "01/01/2020", "Nam"]],
        header=["ma_ho_so", "ho_ten", "ngay_sinh", "gioi_tinh"],
    )
    with pytest.raises(CommandError, match="ma_don_vi"):
        run(path, district_leader)


def test_r_ch_03_unknown_or_non_commune_unit_is_a_row_error(tmp_path, tree, district_leader):
    path = write_csv(
        tmp_path,
        [row("A1", unit="TYT99999"), row("A2", unit="TTYT08-01"), row("A3", unit="TYT02269"), row("A4")],
    )
    run(path, district_leader)
    kinds = {(i["dong"], i["loai"]) for i in issues_of(path) if i["muc_do"] == "lỗi"}
    assert kinds == {("2", "unit_unknown"), ("3", "unit_not_commune"), ("5", "unit_missing")}
    assert list(Child.objects.values_list("source_ref", flat=True)) == ["A3"]


def test_r_ch_03_village_names_match_folded_fuzzy_or_become_pending(tmp_path, tree, unit, leader):
    # given a commune with "Thôn Đồng Tâm" and "Thôn 1"
    dong_tam = Village.objects.create(commune=tree.commune_a1, code="001", name="Đồng Tâm", kind="thon")
    one = Village.objects.create(commune=tree.commune_a1, code="002", name="1", kind="thon")
    rows = [
        row("A1", village="thon dong tam"),  # folded
        row("A2", village="Thôn Đồng Tâmm"),  # typo → fuzzy
        row("A3", village="Thôn 01"),  # leading zero
        row("A4", village="Thôn 12"),  # a different number is never a fuzzy match → pending
        row("A5", village="Bản Nà Phạ"),  # unknown → pending
        row("A6", village="ban na pha"),  # the same new village again
    ]
    path = write_csv(tmp_path, rows)
    # when imported
    out = run(path, leader, unit=unit.code)
    # then every row loaded, fuzzy matches are warnings, unknown names became pending villages
    village_of = dict(Child.objects.values_list("source_ref", "village_id"))
    assert village_of["A1"] == village_of["A2"] == dong_tam.pk and village_of["A3"] == one.pk
    pending = Village.objects.filter(pending=True)
    assert sorted(pending.values_list("name", flat=True)) == ["12", "Nà Phạ"]
    na_pha = pending.get(name="Nà Phạ")
    assert na_pha.kind == "ban" and village_of["A5"] == village_of["A6"] == na_pha.pk
    warnings = {(i["dong"], i["loai"]) for i in issues_of(path)}
    assert {
        ("3", "village_fuzzy"),
        ("5", "village_pending"),
        ("6", "village_pending"),
        ("7", "village_pending"),
    } <= warnings
    assert "chờ lãnh đạo xác nhận" in out and Child.objects.count() == 6


def test_r_ch_03_a_refused_row_adds_no_pending_village(tmp_path, unit, leader):
    path = write_csv(tmp_path, [row("A1", dob="31/02/2019", village="Bản Mới")])
    run(path, leader, unit=unit.code)
    assert not Village.objects.filter(pending=True).exists() and Child.objects.count() == 0


def test_r_ch_03_leader_confirms_a_pending_village(tree, unit, leader, collector):
    from mchis.places.services import village_confirm

    village = Village.objects.create(
        commune=tree.commune_a1, code="009", name="Nà Phạ", kind="ban", pending=True
    )
    with pytest.raises(Exception, match="không có quyền"):
        village_confirm(actor=collector, village=village)
    village_confirm(actor=leader, village=village)
    village.refresh_from_db()
    assert village.pending is False


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Thôn Đông Hà", ("thon", "dong ha")), ("TDP 05", ("to_dan_pho", "5")), ("Tổ dân phố số 3", ("to_dan_pho", "so 3")),
     ("Ấp Long Hòa", ("ap", "long hoa")), ("Thôn", ("", "thon"))],
)  # fmt: skip
def test_village_key_folds_kind_and_numbers(text, expected):
    assert bulk_import.village_key(text) == expected
