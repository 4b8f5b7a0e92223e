"""`manage.py generate_demo`: tree built once, deterministic rows, labelled truth, bad arguments, accounts."""

from __future__ import annotations

import csv
import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from mchis.accounts.models import User
from mchis.core.bulk import BulkTable
from mchis.core.models import AuditEvent
from mchis.demo import services
from mchis.demo.models import DemoRun
from mchis.places.models import AdminUnit, CodeVersion, CommuneMapping, Level, MappingKind, Village
from mchis.registry.models import Child, CircumstanceMembership, SupportReceived
from mchis.registry.personal_id import check, structure_errors
from mchis.units.models import ReportingUnit, UnitKind

AS_OF = "2026-11-01"


@pytest.fixture
def province(db) -> AdminUnit:
    """Hưng Yên (2025 code 33, from old Hưng Yên 33 and Thái Bình 34): 12 communes, 8 of them mapped."""
    new = AdminUnit.objects.create(
        version=CodeVersion.V2025, level=Level.PROVINCE, code="33", name="Hưng Yên"
    )
    old_p = AdminUnit.objects.create(version=CodeVersion.PRE2025, level=Level.PROVINCE, code="34", name="Tỉnh Thái Bình")  # fmt: skip
    d1 = AdminUnit.objects.create(version=CodeVersion.PRE2025, level=Level.DISTRICT, code="336", name="Huyện Hưng Hà", parent=old_p)  # fmt: skip
    d2 = AdminUnit.objects.create(version=CodeVersion.PRE2025, level=Level.DISTRICT, code="338", name="Huyện Đông Hưng", parent=old_p)  # fmt: skip
    for i in range(12):
        kind = "phường" if i < 2 else "xã"
        commune = AdminUnit.objects.create(
            version=CodeVersion.V2025, level=Level.COMMUNE, code=f"12{i:03d}", name=f"{kind.capitalize()} Thử {i}",
            division_type=kind, parent=new,
        )  # fmt: skip
        if i < 8:
            district = d1 if i < 4 else d2
            for j in range(2):
                old = AdminUnit.objects.create(
                    version=CodeVersion.PRE2025, level=Level.COMMUNE, code=f"9{i:02d}{j:02d}", name=f"Xã Cũ {i}-{j}",
                    parent=district,
                )  # fmt: skip
                CommuneMapping.objects.create(old=old, new=commune, kind=MappingKind.WHOLE)
    return new


def _run(*extra: str, children: int = 300, seed: int = 5) -> str:
    out = StringIO()
    call_command("generate_demo", "--province", "33", "--children", str(children), "--seed", str(seed),
                 "--as-of", AS_OF, *extra, stdout=out)  # fmt: skip
    return out.getvalue()


def _counts() -> tuple[int, ...]:
    return (
        Child.objects.count(),
        ReportingUnit.objects.count(),
        Village.objects.count(),
        AuditEvent.objects.count(),
        DemoRun.objects.count(),
        CircumstanceMembership.objects.count(),
        SupportReceived.objects.count(),
        User.objects.count(),
    )


def test_builds_the_reporting_tree_once(province):
    _run()
    units = ReportingUnit.objects.count()
    communes = AdminUnit.objects.filter(parent=province, level=Level.COMMUNE)
    for commune in communes:
        tyt = ReportingUnit.objects.get(code=f"TYT{commune.code}")
        assert tyt.kind == UnitKind.TYT and tyt.admin_unit == commune
        ubnd = ReportingUnit.objects.select_related("parent").get(code=f"UBND{commune.code}")
        assert ubnd.parent is not None and ubnd.parent.code == "SYT33"
        assert 5 <= Village.objects.filter(commune=commune).count() <= 15
    tyt = ReportingUnit.objects.get(code=f"TYT{communes[0].code}")
    chain = [
        u.code for u in ReportingUnit.objects.filter(path__in=_ancestor_paths(tyt.path)).order_by("depth")
    ]
    assert chain == ["BYT", "BYT-BMTE", "SYT33", "CDC33", "TTYT33-336", tyt.code]
    # communes grouped by the old district they came from; unmapped ones in blocks
    assert ReportingUnit.objects.get(code="TTYT33-336").children.filter(kind=UnitKind.TYT).count() == 4
    assert ReportingUnit.objects.filter(kind=UnitKind.TTYT).count() == 3
    assert ReportingUnit.objects.filter(kind=UnitKind.CHILD_PROTECTION, code="CTXH33").exists()
    assert Village.objects.filter(commune=communes[0], kind="to_dan_pho").exists()  # phường → tổ dân phố

    _run(seed=6)
    assert ReportingUnit.objects.count() == units
    assert Child.objects.count() == 600


def _ancestor_paths(path: str) -> list[str]:
    parts = path.strip("/").split("/")
    return ["/" + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def test_children_belong_to_their_commune_tyt_and_village(province):
    _run()
    for child in Child.objects.select_related("unit", "village")[:200]:
        assert child.village is not None
        assert child.unit.code == f"TYT{child.village.commune.code}"
        assert child.unit.admin_unit_id == child.commune_id
        assert child.source == "demo" and child.source_ref
        assert child.name_folded == child.name_folded.lower() and "đ" not in child.name_folded


def test_same_seed_gives_identical_rows(province):
    fields = ("public_id", "source_ref", "full_name", "name_folded", "date_of_birth", "sex", "ethnicity_code",
              "personal_id", "father_name", "father_personal_id", "mother_name", "guardian_name", "village__code")  # fmt: skip
    _run("--error-rate", "0.2")
    first = list(Child.objects.order_by("source_ref").values_list(*fields))
    Child.objects.all().delete()
    DemoRun.objects.all().delete()
    _run("--error-rate", "0.2")
    second = list(Child.objects.order_by("source_ref").values_list(*fields))
    assert first == second and len(first) == 300


def test_r_ch_08_stored_ids_pass_the_rules_except_labelled_ones(province, tmp_path):
    truth_file = tmp_path / "truth.csv"
    _run("--error-rate", "0.25", "--truth", str(truth_file), children=1500)
    with truth_file.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    bad_ids = {r["record_ids"] for r in rows if r["kind"] in ("malformed_id", "inconsistent_id")}
    assert bad_ids
    # a duplicate whose birth year was mistyped keeps the child's ID: the ID then disagrees (labelled)
    bad_ids |= {
        r["record_ids"].split("|")[1] for r in rows if r["kind"] == "duplicate" and "year_typo" in r["detail"]
    }
    for child in Child.objects.exclude(personal_id=""):
        issues = check(child.personal_id, date_of_birth=child.date_of_birth, sex=child.sex)
        if str(child.public_id) in bad_ids:
            assert issues
        else:
            assert issues == [], (child.full_name, child.personal_id)
    assert not any(structure_errors(c) for c in Child.objects.exclude(personal_id="").values_list("father_personal_id", flat=True) if c)  # fmt: skip


def test_truth_file_lists_pairs_of_real_records(province, tmp_path):
    truth_file = tmp_path / "t" / "truth.csv"
    population = tmp_path / "population.jsonl"
    _run("--error-rate", "0.3", "--truth", str(truth_file), "--population", str(population), children=1200)
    with truth_file.open(encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames == ["kind", "record_ids", "detail"]
        rows = list(reader)
    by_id = {str(c.public_id): c for c in Child.objects.all()}
    kinds = {r["kind"] for r in rows}
    assert {"duplicate", "twin", "malformed_id", "missing_field"} <= kinds
    for row in rows:
        ids = row["record_ids"].split("|")
        assert all(i in by_id for i in ids)
        if row["kind"] == "duplicate":
            a, b = (by_id[i] for i in ids)
            changes = set(row["detail"].split(";"))
            assert a.father_name == b.father_name
            assert a.mother_name == b.mother_name or changes & {"mother_typo", "missing_mother"}
            assert a.commune_id == b.commune_id or "moved_commune" in changes
        if row["kind"] == "twin":
            a, b = (by_id[i] for i in ids)
            assert a.date_of_birth == b.date_of_birth and a.village_id == b.village_id
            assert a.full_name != b.full_name and (a.personal_id != b.personal_id or not a.personal_id)
    people = [json.loads(line) for line in population.read_text(encoding="utf-8").splitlines()]
    duplicates = sum(1 for r in rows if r["kind"] == "duplicate")
    with_id = Child.objects.exclude(personal_id="").count()
    assert with_id - duplicates - 50 < len(people) <= 1200 - duplicates
    assert set(people[0]) == {
        "personal_id",
        "full_name",
        "date_of_birth",
        "sex",
        "father_name",
        "mother_name",
    }
    assert len({p["personal_id"] for p in people}) == len(people)
    assert not (tmp_path / "t" / "truth.csv.part").exists()


def test_one_audit_event_summarises_the_children(province):
    _run()  # builds the tree (unit_create audits each unit)
    before = AuditEvent.objects.count()
    _run(seed=9, children=500)
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.order_by("-id").first()
    assert event is not None
    assert event.action == "demo.generate" and event.changes["children"] == [None, 500]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--province", "99", "--children", "10", "--seed", "1"], "--province"),
        (["--province", "33", "--children", "-1", "--seed", "1"], "--children"),
        (["--province", "33", "--children", "10", "--seed", str(2**64)], "--seed"),
        (["--province", "33", "--children", "10", "--seed", "1", "--error-rate", "1.5"], "--error-rate"),
        (
            ["--province", "33", "--children", "10", "--seed", "1", "--truth", "/proc/no/such/truth.csv"],
            "--truth",
        ),
    ],
)
def test_bad_arguments_leave_the_database_unchanged(province, args, needle):
    _run(children=20)
    before = _counts()
    with pytest.raises(CommandError, match=needle):
        call_command("generate_demo", *args, stdout=StringIO())
    assert _counts() == before


def test_not_loaded_admin_units_are_named(db):
    with pytest.raises(CommandError, match="Chưa nạp đơn vị hành chính: chạy manage.py load_admin_units"):
        call_command("generate_demo", "--province", "08", "--children", "5", "--seed", "1", stdout=StringIO())
    assert ReportingUnit.objects.count() == 0


def test_a_failure_midway_writes_nothing(province, tmp_path, monkeypatch):
    truth_file = tmp_path / "truth.csv"
    original = BulkTable.write

    def failing(self, rows):
        if self.model is SupportReceived:
            raise RuntimeError("disk full")
        return original(self, rows)

    monkeypatch.setattr(BulkTable, "write", failing)
    before = _counts()
    with pytest.raises(RuntimeError, match=r"disk full"):
        _run("--truth", str(truth_file), children=500)
    assert _counts() == before  # not even the tree: one transaction
    assert not truth_file.exists() and not (tmp_path / "truth.csv.part").exists()


def test_accounts_one_per_role_and_idempotent(province):
    first = _run("--accounts", children=10)
    assert "collector_tyt12000" in first and "system_admin_byt" in first
    users = {u.username: u for u in User.objects.all()}
    assert {u.role for u in users.values()} == {"collector", "leader", "reporter", "auditor", "unit_admin", "system_admin", "viewer"}  # fmt: skip
    assert users["leader_ttyt33-336"].unit.kind == UnitKind.TTYT
    assert all(u.must_change_password for u in users.values())
    second = _run("--accounts", children=10, seed=6)
    assert User.objects.count() == len(users) == 10
    assert second.count("(đã có)") == 10


def test_population_file_is_written_only_with_ids(province, tmp_path):
    population = tmp_path / "pop.jsonl"
    _run("--population", str(population), children=400)
    lines = population.read_text(encoding="utf-8").splitlines()
    assert len(lines) == Child.objects.exclude(personal_id="").count()
    person = json.loads(lines[0])
    child = Child.objects.get(personal_id=person["personal_id"])
    assert child.full_name == person["full_name"] and str(child.date_of_birth) == person["date_of_birth"]


def test_output_file_path_is_a_directory(province, tmp_path):
    target = tmp_path / "adir"
    target.mkdir()
    (target / "x.part").mkdir()
    with pytest.raises(CommandError, match="--population"):
        _run("--population", str(target / "x"), children=5)
    assert not Path(target / "x").exists()


def test_national_mode_shares_children_by_communes_in_every_province(province):
    """`--province all` (issue 20): every province with communes gets children in proportion to its communes
    (largest remainder: the total is exact), each province in its own run."""
    small = AdminUnit.objects.create(
        version=CodeVersion.V2025, level=Level.PROVINCE, code="04", name="Cao Bằng"
    )
    for i in range(4):
        AdminUnit.objects.create(
            version=CodeVersion.V2025, level=Level.COMMUNE, code=f"01{i:03d}", name=f"Xã Núi {i}",
            division_type="xã", parent=small,
        )  # fmt: skip
    assert services.national_plan(161) == [("04", 40), ("33", 121)]
    assert services.national_plan(0) == [("04", 0), ("33", 0)]
    out = StringIO()
    call_command("generate_demo", "--province", "all", "--children", "160", "--seed", "3", "--as-of", AS_OF,
                 stdout=out)  # fmt: skip
    assert Child.objects.filter(unit__admin_unit__parent=small).count() == 40
    assert Child.objects.filter(unit__admin_unit__parent=province).count() == 120
    assert sorted(DemoRun.objects.values_list("province_code", "children")) == [("04", 40), ("33", 120)]
    assert "Cả nước: 160 trẻ" in out.getvalue()
    # an interrupted national run is completed with --resume: provinces done with this seed are skipped
    DemoRun.objects.filter(province_code="04").delete()
    Child.objects.filter(unit__admin_unit__parent=small).delete()
    out = StringIO()
    call_command("generate_demo", "--province", "all", "--children", "160", "--seed", "3", "--as-of", AS_OF,
                 "--resume", stdout=out)  # fmt: skip
    assert "Tỉnh 33: đã sinh (--resume), bỏ qua" in out.getvalue() and "Cả nước: 40 trẻ" in out.getvalue()
    assert Child.objects.count() == 160
    with pytest.raises(CommandError, match="--province all không dùng với --truth"):
        call_command(
            "generate_demo", "--province", "all", "--children", "10", "--seed", "3", "--truth", "t.csv"
        )
