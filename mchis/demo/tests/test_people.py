"""The pure generator: determinism, ID rules (R-CH-08), realistic names, labelled errors. No database."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date

import pytest

from mchis.demo.people import ChildRow, CommuneInfo, PeopleGenerator, TruthRow, strip_diacritics
from mchis.demo.regions import ETHNIC_MIX
from mchis.registry.personal_id import check, structure_errors

AS_OF = date(2026, 11, 1)


def _communes(mix: dict[str, float], prefix: str = "033") -> list[CommuneInfo]:
    return [
        CommuneInfo(i, f"{i:05d}", 1000 + i, tuple(range(i * 10, i * 10 + 8)), prefix, tuple(mix.items()))
        for i in range(1, 13)
    ]


def _generate(
    seed: int, n: int, *, error_rate: float = 0.0, mix: dict[str, float] | None = None
) -> list[tuple[ChildRow, TruthRow | None]]:
    generator = PeopleGenerator(
        rng=random.Random(seed),
        communes=_communes(mix or ETHNIC_MIX["33"]),
        as_of=AS_OF,
        other_prefixes=["001", "079"],
        error_rate=error_rate,
        ref_prefix="T-",
    )
    return list(generator.stream(n))


def _key(row: ChildRow) -> tuple:
    return (row.public_id, row.source_ref, row.full_name, row.date_of_birth, row.sex, row.personal_id,
            row.father_name, row.mother_name, row.village_id, row.ethnicity_code, tuple(row.circumstances))  # fmt: skip


def test_same_seed_gives_identical_people():
    first = [_key(r) for r, _ in _generate(7, 2000, error_rate=0.2)]
    second = [_key(r) for r, _ in _generate(7, 2000, error_rate=0.2)]
    assert first == second


def test_another_seed_gives_other_people():
    first = [_key(r) for r, _ in _generate(7, 200)]
    other = [_key(r) for r, _ in _generate(8, 200)]
    assert first != other
    assert not {k[0] for k in first} & {k[0] for k in other}  # UUIDs never repeat across seeds


def test_exact_count_and_unique_public_ids():
    rows = _generate(3, 3001, error_rate=0.5)
    assert len(rows) == 3001
    assert len({r.public_id for r, _ in rows}) == 3001
    assert len({r.source_ref for r, _ in rows}) == 3001


def test_r_ch_08_every_generated_id_matches_dob_sex_and_a_real_prefix():
    rows = _generate(11, 5000)
    with_id = [r for r, _ in rows if r.personal_id]
    assert len(with_id) > 4000
    for row in with_id:
        assert check(row.personal_id, date_of_birth=row.date_of_birth, sex=row.sex) == [], row.personal_id
    for child, _ in rows:
        for pid, dob, sex in ((child.father_personal_id, child.father_dob, "M"), (child.mother_personal_id, child.mother_dob, "F")):  # fmt: skip
            if pid:
                assert check(pid, date_of_birth=dob, sex=sex) == []
    assert len({r.personal_id for r in with_id}) == len(with_id)  # serials never collide within a run


def test_r_ch_08_birth_prefix_is_a_pre_2025_prefix_of_the_province_mostly():
    rows = _generate(12, 3000)
    prefixes = Counter(r.personal_id[:3] for r, _ in rows if r.personal_id)
    assert prefixes["033"] / sum(prefixes.values()) > 0.85


def test_some_newborns_have_no_id_yet():
    rows = _generate(13, 5000)
    share = sum(1 for r, _ in rows if not r.personal_id) / len(rows)
    assert 0.03 <= share <= 0.12


def test_nguyen_share_is_realistic_in_a_kinh_province():
    rows = _generate(21, 5000)
    nguyen = sum(1 for r, _ in rows if r.full_name.startswith("Nguyễn ")) / len(rows)
    assert 0.25 <= nguyen <= 0.45


def test_names_are_gendered_and_father_shares_surname():
    rows = [r for r, _ in _generate(22, 3000)]
    boys_thi = sum(1 for r in rows if r.sex == "M" and r.full_name.split()[1] == "Thị")
    girls_thi = sum(1 for r in rows if r.sex == "F" and r.full_name.split()[1] == "Thị")
    girls_van = sum(1 for r in rows if r.sex == "F" and r.full_name.split()[1] == "Văn")
    assert boys_thi == 0 and girls_van == 0 and girls_thi > 100
    assert all(r.father_name.split()[0] == r.full_name.split()[0] for r in rows)


def test_parents_were_18_to_45_at_birth():
    for row, _ in _generate(23, 3000):
        assert row.date_of_birth and row.father_dob and row.mother_dob
        for parent in (row.father_dob, row.mother_dob):
            years = (row.date_of_birth - parent).days / 365.25
            assert 17.9 <= years <= 46, (row.full_name, years)


def test_children_are_under_16():
    for row, _ in _generate(24, 3000):
        assert row.date_of_birth is not None
        assert 0 <= (AS_OF - row.date_of_birth).days < 16 * 365.25


def test_mountain_province_has_its_ethnic_groups():
    rows = _generate(25, 3000, mix=ETHNIC_MIX["08"])
    groups = Counter(r.ethnicity_code for r, _ in rows)
    assert groups["01"] / len(rows) < 0.6  # Kinh are a minority in Tuyên Quang (incl. Hà Giang)
    assert {"02", "08", "09"} <= set(groups)  # Tày, H'Mông, Dao


def test_circumstance_memberships_have_ordered_dates():
    rows = [r for r, _ in _generate(26, 5000)]
    members = [c for r in rows for c in r.circumstances]
    assert 0.02 * len(rows) < len(members) < 0.1 * len(rows)
    for _, _, start, end in members:
        assert end is None or end >= start


# --- labelled errors --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def with_errors() -> list[tuple[ChildRow, TruthRow | None]]:
    return _generate(31, 6000, error_rate=0.3)


def test_truth_lists_every_injected_difference(with_errors):
    """A real person whose record differs from their true identity must carry a truth row."""
    labelled = {t.record_ids[0] for _, t in with_errors if t and len(t.record_ids) == 1}
    for row, _ in with_errors:
        true = row.true
        if true is None:
            continue
        differs = (row.full_name, row.date_of_birth, row.personal_id, row.sex) != (
            true.full_name, true.date_of_birth, true.personal_id, true.sex,
        ) or not row.father_name or not row.mother_name or not row.ethnicity_code  # fmt: skip
        if differs:
            assert row.public_id in labelled, (row.full_name, true)
    kinds = Counter(t.kind for _, t in with_errors if t)
    assert set(kinds) == {"duplicate", "twin", "dropped_diacritics", "swapped_day_month", "missing_field",
                          "malformed_id", "inconsistent_id"}  # fmt: skip
    assert 0.2 < sum(kinds.values()) / len(with_errors) < 0.4


def test_duplicates_are_the_same_person_with_entry_differences(with_errors):
    by_id = {r.public_id: r for r, _ in with_errors}
    duplicates = [t for _, t in with_errors if t and t.kind == "duplicate"]
    assert len(duplicates) > 100
    for truth in duplicates:
        original, duplicate = (by_id[i] for i in truth.record_ids)
        assert original.true is not None or not original.personal_id
        assert duplicate.true is None  # not a second person
        changes = set(truth.detail.split(";"))
        assert duplicate.father_name == original.father_name
        assert (duplicate.mother_name == original.mother_name) or changes & {"mother_typo", "missing_mother"}
        assert (duplicate.commune == original.commune) or "moved_commune" in changes
        assert (duplicate.full_name, duplicate.date_of_birth, duplicate.personal_id, duplicate.village_id) != (
            original.full_name, original.date_of_birth, original.personal_id, original.village_id,
        )  # fmt: skip


def test_twins_are_not_duplicates(with_errors):
    by_id = {r.public_id: r for r, _ in with_errors}
    twins = [t for _, t in with_errors if t and t.kind == "twin"]
    assert len(twins) > 30
    for truth in twins:
        a, b = (by_id[i] for i in truth.record_ids)
        assert (a.date_of_birth, a.father_name, a.mother_name, a.village_id) == (
            b.date_of_birth, b.father_name, b.mother_name, b.village_id,
        )  # fmt: skip
        assert a.given != b.given and a.full_name != b.full_name
        assert a.personal_id != b.personal_id or not a.personal_id
        assert b.true is not None or not b.personal_id  # a twin is a real person


def test_r_ch_08_malformed_and_inconsistent_ids_are_caught_by_the_rules(with_errors):
    seen: Counter[str] = Counter()
    for row, truth in with_errors:
        if truth and truth.kind == "malformed_id":
            assert structure_errors(row.personal_id), row.personal_id
            seen["malformed"] += 1
        elif truth and truth.kind == "inconsistent_id":
            issues = check(row.personal_id, date_of_birth=row.date_of_birth, sex=row.sex)
            assert issues and all(i.level == "warning" for i in issues), row.personal_id
            seen["inconsistent"] += 1
        elif row.personal_id and (truth is None or truth.kind in ("twin", "duplicate", "dropped_diacritics")):
            assert structure_errors(row.personal_id) == []
    assert seen["malformed"] > 20 and seen["inconsistent"] > 20


def test_swapped_day_month_really_swaps(with_errors):
    for row, truth in with_errors:
        if truth and truth.kind == "swapped_day_month":
            assert row.true is not None or not row.personal_id
            original = row.true.date_of_birth if row.true else None
            if original:
                assert (row.date_of_birth.day, row.date_of_birth.month) == (original.month, original.day)


def test_strip_diacritics_keeps_case():
    assert strip_diacritics("Nguyễn Thị Ánh Đào") == "Nguyen Thi Anh Dao"


def test_siblings_never_share_a_given_name():
    rows = [r for r, _ in _generate(41, 4000)]
    families: dict[tuple, list[ChildRow]] = {}
    for row in rows:
        families.setdefault((row.father_name, row.father_dob, row.mother_name), []).append(row)
    sizes = Counter(len(members) for members in families.values())
    assert sizes[2] + sizes[3] > 300  # families really have several children
    for members in families.values():
        assert len({m.given for m in members}) == len(members)


def test_demo_codes_exist_in_the_shared_catalogs_and_fit_the_registry_fields():
    import csv
    from pathlib import Path

    from mchis.demo.people import CIRCUMSTANCE_GROUPS, GUARDIAN_RELATIONSHIPS, SUBGROUPS, SUPPORT_TYPES
    from mchis.registry.models import Child, CircumstanceMembership, SupportReceived

    fixtures = Path(__file__).resolve().parents[2] / "catalogs" / "fixtures"

    def codes(name: str) -> set[str]:
        with (fixtures / f"{name}.csv").open(encoding="utf-8") as handle:
            return {row["code"] for row in csv.DictReader(handle)}

    groups = {g for g, _ in CIRCUMSTANCE_GROUPS} | {s for subs in SUBGROUPS.values() for s in subs}
    assert groups <= codes("child_circumstance")
    assert {s for s, _ in SUPPORT_TYPES} <= codes("support_type")
    assert {r for r, _, _ in GUARDIAN_RELATIONSHIPS} <= codes("child_relationship")
    assert {e for mix in ETHNIC_MIX.values() for e in mix} <= codes("ethnic_group")
    limits = {
        "group": CircumstanceMembership._meta.get_field("group_code").max_length or 0,
        "support": SupportReceived._meta.get_field("support_type_code").max_length or 0,
        "relationship": Child._meta.get_field("guardian_relationship").max_length or 0,
    }
    assert max(len(g) for g in groups) <= limits["group"]
    assert max(len(s) for s, _ in SUPPORT_TYPES) <= limits["support"]
    assert max(len(r) for r, _, _ in GUARDIAN_RELATIONSHIPS) <= limits["relationship"]


def _profiled(profile: str, seed: int = 5, n: int = 20000) -> list[tuple[ChildRow, TruthRow | None]]:
    from mchis.demo.people import PROFILES

    generator = PeopleGenerator(
        rng=random.Random(seed), communes=_communes({"01": 40, "08": 35, "03": 25}), as_of=AS_OF,
        other_prefixes=["001"], error_rate=0.2, ref_prefix="P-", profile=PROFILES[profile],
    )  # fmt: skip
    return list(generator.stream(n))


def test_every_duplicate_difference_and_family_habit_occurs_and_is_labelled():
    """Issue 14: dropped middle names, transpositions, OCR confusions, year typos, moves between communes;
    siblings sharing a name and near-named twins are labelled pairs (not duplicates)."""
    rows = _profiled("a")
    by_id = {r.public_id: r for r, _ in rows}
    changes: Counter[str] = Counter()
    for _, truth in rows:
        if truth and truth.kind == "duplicate":
            changes.update(truth.detail.split(";"))
    for kind in ("dropped_middle", "transposition", "ocr", "year_typo", "moved_commune", "missing_id",
                 "dropped_diacritics", "swapped_day_month", "mother_typo"):  # fmt: skip
        assert changes[kind] > 0, kind
    siblings = [t for _, t in rows if t and t.kind == "sibling_same_name"]
    assert siblings
    for truth in siblings:
        a, b = (by_id[i] for i in truth.record_ids)
        # the elder's own record may carry an entry error of its own (labelled separately)
        assert strip_diacritics(a.full_name) == strip_diacritics(b.full_name)
        assert a.mother_name in ("", b.mother_name) and a.date_of_birth != b.date_of_birth
    year_typos = [t for _, t in rows if t and t.kind == "duplicate" and "year_typo" in t.detail]
    a, b = (by_id[i] for i in year_typos[0].record_ids)
    assert a.date_of_birth and b.date_of_birth and abs(a.date_of_birth.year - b.date_of_birth.year) == 1


def test_profile_b_is_differently_parameterised():
    def share(rows: list[tuple[ChildRow, TruthRow | None]], kind: str) -> float:
        dups = [t for _, t in rows if t and t.kind == "duplicate"]
        return sum(kind in t.detail.split(";") for t in dups) / len(dups)

    a, b = _profiled("a"), _profiled("b")
    assert share(b, "moved_commune") > share(a, "moved_commune")
    assert share(b, "dropped_diacritics") < share(a, "dropped_diacritics")
