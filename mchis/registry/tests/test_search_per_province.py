"""Name search per province (issue 20, ADR 0081): each province answers from its own trigram indexes.

At 10 M children a province-scoped search read the nation's trigram posting lists (1.2–2.2 s p95); the indexes
are now one per province and column, and the search names the scope's province(s) in the query. These tests
hold what must not change (the same children found, nothing of another province, nothing lost to a stale
province code) and, on PostgreSQL, that the planner can answer from the per-province indexes.
"""

from __future__ import annotations

import importlib
from datetime import date

import pytest
from django.db import connection
from django.db.models import Q

from mchis.core.text import fold
from mchis.registry import selectors
from mchis.registry.models import Child
from mchis.registry.search import SEARCH_INDEX_COLUMNS, in_province, province_index_name
from mchis.units.provinces import PROVINCE_CODES_2025

MIGRATION = importlib.import_module("mchis.registry.migrations.0012_search_indexes_per_province")


def _child(unit, commune, name: str, *, mother: str = "", guardian: str = "") -> Child:
    from mchis.registry.search import parents_key

    return Child.objects.create(
        unit=unit, commune=commune, full_name=name, name_folded=fold(name), mother_name=mother,
        parents_folded=parents_key("", mother), guardian_name=guardian, guardian_name_folded=fold(guardian),
        date_of_birth=date(2020, 1, 2),
    )  # fmt: skip


def _names(principal, q: str) -> list[str]:
    return [c.full_name for c in selectors.child_search(principal, q=q)]


def test_the_province_list_frozen_in_the_migration_is_the_code_list_and_the_2025_provinces():
    from mchis.places.sources import _library_query

    library = {r["provinceCode"] for r in _library_query("SELECT DISTINCT provinceCode FROM admin_units")}
    assert set(PROVINCE_CODES_2025) == library and len(PROVINCE_CODES_2025) == 34
    assert MIGRATION.PROVINCE_CODES_2025 == PROVINCE_CODES_2025
    assert MIGRATION.SEARCH_INDEX_COLUMNS == SEARCH_INDEX_COLUMNS
    assert all(
        MIGRATION.province_index_name(c, p) == province_index_name(c, p)
        for c in SEARCH_INDEX_COLUMNS
        for p in [*PROVINCE_CODES_2025, ""]
    )


@pytest.mark.django_db
def test_province_and_national_searches_find_the_same_children_as_before_and_nothing_of_another_province(
    tree, make_user, monkeypatch
):
    # given look-alike children in two provinces, found by their own, a parent's or the guardian's name
    _child(tree.tyt_a1, tree.commune_a1, "Nguyễn Văn An", mother="Trần Thị Cúc")
    _child(tree.tyt_a2, tree.commune_a2, "Lò Thị Mai", guardian="Nguyễn Văn An")
    _child(tree.tyt_b1, tree.commune_b1, "Nguyễn Văn An", mother="Trần Thị Cúc")
    _child(tree.tyt_b1, tree.commune_b1, "Hà Văn Sử", mother="Nguyễn Thị An")
    province_a = make_user("viewer", tree.doh_a)
    nation = make_user("viewer", tree.ministry)
    queries = ("nguyen van an", "nguyen an", "tran thi cuc", "su", "an", "an 02/01/2020", "02/01/2020")
    # when a province and the nation search through the indexed path
    monkeypatch.setattr(selectors, "SMALL_SCOPE_UNITS", -1)
    by_province = {q: _names(province_a, q) for q in queries}
    by_nation = {q: _names(nation, q) for q in queries}
    # then each finds what it did before the indexes were split (the unindexed path), scoped
    monkeypatch.setattr(selectors, "SMALL_SCOPE_UNITS", 10**6)
    assert by_province == {q: _names(province_a, q) for q in queries}
    assert by_nation == {q: _names(nation, q) for q in queries}
    assert by_province["nguyen van an"] == ["Nguyễn Văn An", "Lò Thị Mai"]
    assert sorted(by_nation["nguyen van an"]) == ["Lò Thị Mai", "Nguyễn Văn An", "Nguyễn Văn An"]
    assert by_province["su"] == [] and by_nation["su"] == ["Hà Văn Sử"]


@pytest.mark.django_db
def test_a_child_without_a_province_code_is_still_found_nationally(tree, make_user, monkeypatch):
    # rows never lack the code (every writer stamps it; a unit's move re-stamps it), but a row that did must
    # not vanish from every search: the nation's query has an arm (and an index) for ""
    child = _child(tree.tyt_a1, tree.commune_a1, "Giàng A Páo")
    Child.objects.filter(pk=child.pk).update(province_code="")
    monkeypatch.setattr(selectors, "SMALL_SCOPE_UNITS", -1)
    assert _names(make_user("viewer", tree.ministry), "giang a pao") == ["Giàng A Páo"]


def _plan(qs) -> str:
    with connection.cursor() as cursor:
        # Only bitmap scans left: the search must be answerable from the per-province trigram indexes (a
        # condition they cannot serve would leave the disabled sequential scan in the plan).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
    return qs.explain()


@pytest.mark.django_db
def test_postgresql_answers_a_province_and_the_nation_from_the_per_province_indexes(tree):
    if connection.vendor != "postgresql":
        pytest.skip("trigram indexes are PostgreSQL's (SQLite searches with LIKE)")
    # given a table with statistics (on an empty one the planner's costs, not the indexes, decide the plan)
    import random

    from mchis.registry.search import parents_key

    rng = random.Random(81)
    families, middles, givens = (
        ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng"],
        ["Văn", "Thị", "Minh"],
        ["An", "Bình", "Cúc"],
    )
    rows = []
    for n in range(20000):
        name = f"{rng.choice(families)} {rng.choice(middles)} {rng.choice(givens)} {n}"
        mother = f"{rng.choice(families)} Thị {rng.choice(givens)} {n}"
        unit, commune = (tree.tyt_a1, tree.commune_a1) if n % 2 else (tree.tyt_b1, tree.commune_b1)
        rows.append(Child(unit=unit, commune=commune, province_code=("08" if n % 2 else "04"), full_name=name,
                          name_folded=fold(name), mother_name=mother, parents_folded=parents_key("", mother),
                          guardian_name_folded=fold(mother), date_of_birth=date(2020, 1, 2)))  # fmt: skip
    Child.objects.bulk_create(rows)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registry_child")
    # the shape the selector gives a province's search and, one arm per province, the nation's, each column's
    # term on its own (the whole search's plan depends on the table's size: at 10.2 M children it reads the
    # province's three indexes, docs/national-scale.md; on a small table reading the province whole is cheaper)
    for column in SEARCH_INDEX_COLUMNS:
        term = Q(**{f"{column}__contains": "lo van pao"})  # a rare name
        province = _plan(in_province(Child.objects.all(), "08", term))
        assert "Seq Scan on registry_child" not in province, province
        assert f"Bitmap Index Scan on {province_index_name(column, '08')}" in province, province
        assert "Index Cond" in province and "_trgm_p04" not in province, province
    arms = [
        in_province(Child.objects.all(), code, Q(name_folded__contains="giang thi mai")).values("pk")
        for code in [*PROVINCE_CODES_2025, ""]
    ]
    nation = _plan(Child.objects.filter(pk__in=arms[0].union(*arms[1:], all=True)))
    assert "Seq Scan on registry_child" not in nation, nation
    # every province's arm reads one of its own indexes (for an empty province any of its three will do); the
    # provinces with rows read the name index with the term as its condition
    scans = [line for line in nation.splitlines() if "Bitmap Index Scan on child_" in line]
    assert len(scans) == 35 and all("_trgm_p" in line for line in scans), nation
    for code in ("08", "04"):
        at = nation.index(f"Bitmap Index Scan on child_name_trgm_p{code}")
        assert nation[at:].splitlines()[1].strip().startswith("Index Cond: ((name_folded)::text ~~"), nation
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'registry_child' AND indexname LIKE '%trgm%'"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert names == {
        province_index_name(c, p) for c in SEARCH_INDEX_COLUMNS for p in [*PROVINCE_CODES_2025, ""]
    }


@pytest.mark.django_db
def test_a_national_page_takes_each_provinces_first_matches_and_orders_them_as_one_search(
    tree, make_user, monkeypatch
):
    # given more matches in each province than the page holds
    for n in range(4):
        _child(tree.tyt_a1, tree.commune_a1, f"Nguyễn Văn An {chr(65 + n)}")
        _child(tree.tyt_b1, tree.commune_b1, f"Nguyễn Văn An {chr(69 + n)}")
    _child(tree.tyt_b1, tree.commune_b1, "Nguyễn Văn An")  # the exact name ranks first wherever it is
    nation = make_user("viewer", tree.ministry)
    monkeypatch.setattr(selectors, "SMALL_SCOPE_UNITS", -1)
    everything = [c.full_name for c in selectors.child_search(nation, q="nguyen van an")]
    # when the page asks for the first three, each province giving only its own first three
    page = selectors.child_search_page(nation, q="nguyen van an", limit=3, cap=2)
    # then they are the first three of the whole search, and the capped count is right
    assert [c.full_name for c in page.items] == everything[:3] and everything[0] == "Nguyễn Văn An"
    assert (page.count, page.more) == (2, True) and len(everything) == 9


@pytest.mark.django_db
def test_a_user_above_the_provinces_narrows_a_search_to_one_province_and_no_one_reaches_outside_scope(
    tree, make_user, monkeypatch
):
    from django.test import Client

    # given the same name in two provinces
    _child(tree.tyt_a1, tree.commune_a1, "Nguyễn Văn An", mother="Trần Thị Cúc")
    _child(tree.tyt_b1, tree.commune_b1, "Nguyễn Văn An Khang")
    nation, province_a = make_user("viewer", tree.ministry), make_user("viewer", tree.doh_a)
    monkeypatch.setattr(selectors, "SMALL_SCOPE_UNITS", -1)  # the indexed path, as at national size
    # when the Ministry picks province 04, it gets what that province's own search gets (one arm, ADR 0081)
    narrowed = [c.full_name for c in selectors.child_search(nation, q="nguyen van an", province="04")]
    assert narrowed == ["Nguyễn Văn An Khang"]
    assert narrowed == _names(make_user("viewer", tree.doh_b), "nguyen van an")
    # a province's user naming another province finds nothing (the filter narrows the scope, never widens it)
    assert list(selectors.child_search(province_a, q="nguyen van an", province="04")) == []
    assert selectors.search_provinces(province_a) == []
    assert [code for code, _name in selectors.search_provinces(nation)] == ["04", "08"]
    # the API takes the same filter and refuses a malformed code with the field named
    api = Client()
    api.force_login(nation)
    body = api.get("/api/v1/children", {"q": "nguyen van an", "province": "04"}).json()
    assert [item["full_name"] for item in body["items"]] == ["Nguyễn Văn An Khang"] and body["count"] == 1
    bad = api.get("/api/v1/children", {"q": "an", "province": "4"})
    assert bad.status_code == 422 and "province" in bad.content.decode()
    # the list page offers the provinces to the Ministry only, and says why when it searches the whole nation
    page = api.get("/children/", {"q": "nguyen van an"}).content.decode()
    assert 'name="province"' in page and "trên cả nước" in page
    narrowed_page = api.get("/children/", {"q": "nguyen van an", "province": "04"}).content.decode()
    assert "Nguyễn Văn An Khang" in narrowed_page and "Trần Thị Cúc" not in narrowed_page
    assert "trên cả nước" not in narrowed_page
    own = Client()
    own.force_login(province_a)
    assert 'name="province"' not in own.get("/children/", {"q": "nguyen van an"}).content.decode()
