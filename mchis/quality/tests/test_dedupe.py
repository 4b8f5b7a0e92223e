"""Duplicate detection (R-DQ-02): Vietnamese name handling, twins never linked, review queue memory."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from django.core.management import call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from mchis.quality import linkage
from mchis.quality.dedupe import find_possible_duplicates
from mchis.quality.linkage import default_model, features, is_twin_pair, match_weight, probability
from mchis.quality.models import CandidateStatus, DuplicateCandidate
from mchis.quality.services import duplicate_candidates_store, duplicate_confirm, duplicate_reject

BASE = {
    "full_name": "Hoàng Thị Ngọc Ánh", "date_of_birth": date(2019, 3, 7), "sex": "F", "personal_id": "008319004512",
    "mother_name": "Nguyễn Thị Hạnh", "father_name": "Hoàng Văn Dũng", "village_id": 1, "commune_id": 1,
}  # fmt: skip


def p(a: dict, b: dict) -> float:
    fa, fb = features(a), features(b)
    return 0.0 if is_twin_pair(fa, fb) else probability(match_weight(fa, fb, default_model()))


def test_r_dq_02_split_and_fold_vietnamese_names():
    assert linkage.split_name("Nguyễn Thị Minh Anh") == ("Nguyễn", "Thị Minh", "Anh")
    f = features({"full_name": "Huỳnh Văn Vũ", "date_of_birth": date(2020, 2, 11)})
    assert f["family_k"] == "hoang" and f["given_f"] == "vu" and f["dob_swap"] == date(2020, 11, 2)


def test_r_dq_02_diacritics_dropped_scores_below_exact_but_still_a_match():
    plain = BASE | {"full_name": "Hoang Thi Ngoc Anh"}
    assert p(BASE, plain) >= default_model().threshold
    fa, fb, fc = features(BASE), features(BASE), features(plain)
    assert match_weight(fa, fb, default_model()) > match_weight(fa, fc, default_model())


def test_r_dq_02_surname_variant_and_swapped_day_month_and_missing_id_still_match():
    dup = BASE | {"full_name": "Huỳnh Thị Ngọc Ánh", "date_of_birth": date(2019, 7, 3), "personal_id": ""}
    assert p(BASE, dup) >= default_model().threshold


def test_r_dq_02_twins_are_never_linked():
    twin = BASE | {"full_name": "Hoàng Thị Ngọc Bích", "personal_id": "008319004513"}
    assert is_twin_pair(features(BASE), features(twin))
    assert p(BASE, twin) == 0.0
    twin_no_ids = BASE | {"full_name": "Hoàng Văn Minh", "sex": "M", "personal_id": ""}
    assert p(BASE | {"personal_id": ""}, twin_no_ids) < default_model().threshold


def test_r_dq_02_different_children_same_common_surname_not_linked():
    other = BASE | {"full_name": "Nguyễn Văn Ánh", "sex": "M", "personal_id": "", "mother_name": "Lê Thị Mai",
                    "father_name": "Nguyễn Văn Tư", "village_id": 2, "date_of_birth": date(2019, 3, 7)}  # fmt: skip
    assert p(BASE | {"personal_id": ""}, other) < 0.5


def test_r_dq_02_python_scorer_agrees_with_sql_levels():
    """Each level's Python predicate and SQL condition give the same level on a sample pair (DuckDB)."""
    import duckdb

    a, b = (
        features(BASE),
        features(BASE | {"full_name": "Huỳnh Thị Ngọc Anh", "date_of_birth": date(2019, 7, 3)}),
    )
    con = duckdb.connect()
    for comp in linkage.COMPARISONS:
        py_level = linkage.comparison_vector(a, b)[comp.name]
        cases = " ".join(f"WHEN {lv.sql} THEN {i}" for i, lv in enumerate(comp.levels) if lv.sql != "ELSE")
        names = sorted({k for k in a})
        select = ", ".join(f'? AS "{k}_l", ? AS "{k}_r"' for k in names)
        params = [v for k in names for v in (a[k], b[k])]
        row = con.execute(
            f"SELECT CASE {cases} ELSE {len(comp.levels) - 1} END FROM (SELECT {select})", params
        ).fetchone()
        assert row is not None
        sql_level = row[0]
        assert sql_level == py_level, comp.name


@pytest.mark.django_db
def test_r_dq_02_entry_time_check_finds_existing_child_in_province(child, tree):
    existing = child(full_name="Hoàng Thị Ngọc Ánh", date_of_birth=date(2019, 3, 7), sex="F",
                     personal_id="008319004512", mother_name="Nguyễn Thị Hạnh")  # fmt: skip
    child(full_name="Hoàng Thị Ngọc Bích", date_of_birth=date(2019, 3, 7), sex="F",
          personal_id="008319004513", mother_name="Nguyễn Thị Hạnh")  # twin  # fmt: skip
    data = {"full_name": "Hoang Thi Ngoc Anh", "date_of_birth": date(2019, 7, 3), "sex": "F",
            "mother_name": "Nguyen Thi Hanh", "village_id": child.village.pk}  # fmt: skip
    found = find_possible_duplicates(data, tree.tyt_a2)
    assert [c.child_id for c in found] == [existing.pk]
    # another province's unit does not see it
    assert find_possible_duplicates(data, tree.tyt_b1) == []


@pytest.mark.django_db
def test_r_dq_02_full_scan_writes_csv_queue_and_not_duplicate_is_remembered(child, tree, make_user, tmp_path):
    a = child(full_name="Vũ Minh Khang", date_of_birth=date(2017, 4, 9), personal_id="008217000111", sex="M")
    b = child(full_name="Võ Minh Khang", date_of_birth=date(2017, 9, 4), personal_id="", sex="M")
    t1 = child(full_name="Lò Văn Páo", date_of_birth=date(2016, 1, 20), mother_name="Lò Thị Xoan", sex="M")
    t2 = child(full_name="Lò Thị Pằng", date_of_birth=date(2016, 1, 20), mother_name="Lò Thị Xoan", sex="F")
    out = tmp_path / "pairs.csv"
    call_command("dedupe_children", "--out", str(out))
    rows = list(csv.DictReader(out.open(encoding="utf-8")))
    assert {(r["child_id_a"], r["child_id_b"]) for r in rows} == {(str(a.public_id), str(b.public_id))}
    assert float(rows[0]["probability"]) >= 0.9
    cand = DuplicateCandidate.objects.get()
    assert (cand.child_a_id, cand.child_b_id) == (a.pk, b.pk)
    assert not DuplicateCandidate.objects.filter(child_a=t1, child_b=t2).exists()

    leader = make_user("leader", tree.tyt_a1)
    duplicate_reject(actor=leader, candidate=cand, reason="Hai anh em khác nhau")
    call_command("dedupe_children", "--out", str(out))
    assert list(csv.DictReader(out.open(encoding="utf-8"))) == []
    cand.refresh_from_db()
    assert cand.status == CandidateStatus.NOT_DUPLICATE and DuplicateCandidate.objects.count() == 1
    duplicate_candidates_store(actor=None, pairs=[(b.pk, a.pk, 0.99, a.unit_id)])
    assert DuplicateCandidate.objects.get().status == CandidateStatus.NOT_DUPLICATE


@pytest.mark.django_db
def test_r_dq_02_confirm_sends_merge_request_to_registry(child, tree, make_user):
    a = child(full_name="Vũ Minh Khang", date_of_birth=date(2017, 4, 9))
    b = child(full_name="Võ Minh Khang", date_of_birth=date(2017, 4, 9))
    duplicate_candidates_store(actor=None, pairs=[(a.pk, b.pk, 0.99, a.unit_id)])
    cand = DuplicateCandidate.objects.get()
    collector = make_user("collector", tree.tyt_a1)
    from mchis.core.errors import PermissionDeniedError

    with pytest.raises(PermissionDeniedError):
        duplicate_confirm(actor=collector, candidate=cand)
    leader = make_user("leader", tree.tyt_a1)
    cand = duplicate_confirm(actor=leader, candidate=cand, survivor_id=a.pk)
    assert cand.status == CandidateStatus.CONFIRMED and cand.merge_request_id


TWIN_CASES = [
    # (name a, name b, sex a, sex b, pid a, pid b, twins?)
    ("Chảo Thị Mẩy", "Chảo Thị Máy", "F", "F", "", "", True),  # tone marks differ: two names
    ("Bùi Thị Hiền", "Bùi Thị Hiên", "F", "F", "008326501697", "008326119730", True),
    ("Hoàng Văn An", "Hoàng Văn Bình", "M", "M", "", "", True),
    ("Hoàng Văn An", "Huynh Van An", "M", "M", "", "", False),  # variant + dropped diacritics: same child
    ("Lò Thị Pằng", "Lò Thị Pằngg", "F", "F", "", "", False),  # one typo, nothing else differs
    ("Lò Thị Pằng", "Lò Thị Pằnh", "F", "M", "", "", True),  # one letter apart but another sex
    ("Giàng A Páo", "Giàng A Páo", "M", "M", "001216000001", "001216000002", False),  # same name: ID typo
    ("Huỳnh Thi Ngoc Anh", "Hoàng Thị Ngọc Ánh", "F", "F", "", "", False),  # partly typed without diacritics
    ("Đỗ Đức Anh", "Đỗ Đúc Anh", "M", "M", "", "", True),  # đ kept on both, tone differs
]


@pytest.mark.parametrize("case", TWIN_CASES, ids=[f"{c[0]}|{c[1]}" for c in TWIN_CASES])
def test_r_dq_02_twin_rule_same_in_python_and_sql(case):
    import duckdb

    name_a, name_b, sex_a, sex_b, pid_a, pid_b, expected = case
    rows = [(1, name_a, sex_a, pid_a), (2, name_b, sex_b, pid_b)]
    py = [features({"full_name": n, "sex": s, "personal_id": p, "date_of_birth": date(2020, 5, 1),
                    "mother_name": "Lò Thị Xoan", "village_id": 3, "commune_id": 4}) for _, n, s, p in rows]  # fmt: skip
    assert is_twin_pair(py[0], py[1]) is expected
    con = duckdb.connect()
    con.execute("""CREATE TABLE src (unique_id BIGINT, public_id VARCHAR, unit_id BIGINT, full_name VARCHAR,
        date_of_birth DATE, sex VARCHAR, personal_id VARCHAR, mother_name VARCHAR, father_name VARCHAR,
        guardian_name VARCHAR, village_id BIGINT, commune_id BIGINT)""")
    for uid, n, s, p in rows:
        con.execute("INSERT INTO src VALUES (?, ?, 1, ?, DATE '2020-05-01', ?, ?, 'Lò Thị Xoan', '', '', 3, 4)",
                    [uid, str(uid), n, s, p])  # fmt: skip
    con.execute(f"CREATE TABLE feats AS {linkage.FEATURES_SQL}")
    cols = [c[0] for c in con.execute("SELECT * FROM feats LIMIT 0").description]
    select = ", ".join([f'l."{c}" AS "{c}_l"' for c in cols] + [f'r."{c}" AS "{c}_r"' for c in cols])
    kept = con.execute(
        f"SELECT count(*) FROM (SELECT {select} FROM feats l, feats r WHERE l.unique_id = 1 AND r.unique_id = 2) "
        f"WHERE {linkage.TWIN_FILTER_SQL}"
    ).fetchone()
    assert kept is not None and (kept[0] == 0) is expected
    sql_feats = dict(
        zip(cols, con.execute("SELECT * FROM feats WHERE unique_id = 1").fetchone() or (), strict=True)
    )
    for key in ("given_f", "family_k", "middle_f", "name_key", "name_raw", "name_plain", "carer_f"):
        assert sql_feats[key] == py[0][key], key


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123ab", max_size=13), st.text(alphabet="0123ab", max_size=13), st.integers(0, 3))
def test_r_dq_02_banded_edit_check_equals_levenshtein(a, b, k):
    assert linkage.within_edits(a, b, k) == (linkage.levenshtein(a, b) <= k)
