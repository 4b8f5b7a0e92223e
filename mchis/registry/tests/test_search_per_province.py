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

from mchis.core.text import fold
from mchis.registry import selectors
from mchis.registry.models import Child
from mchis.registry.search import SEARCH_INDEX_COLUMNS, in_provinces, province_index_name, search_filter
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
    queries = ("nguyen van an", "nguyen an", "tran thi cuc", "su", "an")
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
    one = _plan(Child.objects.filter(in_provinces(search_filter("nguyen van an"), ["08"])))
    assert "Seq Scan" not in one
    assert {province_index_name(c, "08") for c in SEARCH_INDEX_COLUMNS} <= set(one.replace("(", " ").split())
    assert "_trgm_p04" not in one
    nation = _plan(
        Child.objects.filter(in_provinces(search_filter("tran thi cuc"), [*PROVINCE_CODES_2025, ""]))
    )
    assert (
        "Seq Scan" not in nation and "child_name_trgm_pnone" in nation and "child_parents_trgm_p96" in nation
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname FROM pg_indexes WHERE tablename = 'registry_child' AND indexname LIKE '%trgm%'"
        )
        names = {row[0] for row in cursor.fetchall()}
    assert names == {
        province_index_name(c, p) for c in SEARCH_INDEX_COLUMNS for p in [*PROVINCE_CODES_2025, ""]
    }
