"""The register tables without inbound foreign keys are LIST-partitioned by province on PostgreSQL (issue 20
item 2, ADR 0075, migration registers 0012): the partitions, where the writer's rows land, the upsert through
the new key, the province-scoped reads touching one partition, and the migration's rebuild both ways."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from django.db import connection
from django.db.models import Index

from mchis.registers.models import AncVisit, ChildExam, Delivery, Newborn
from mchis.registers.services import records_upsert
from mchis.units.provinces import PROVINCE_CODES_2025

from .conftest import anc, delivery

MIGRATION = importlib.import_module("mchis.registers.migrations.0012_partition_by_province")
pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitioning is PostgreSQL only")


def _q(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


def _partitions(table: str) -> set[str]:
    return {
        r[0]
        for r in _q(
            "SELECT c.relname FROM pg_inherits h JOIN pg_class c ON c.oid = h.inhrelid "
            "WHERE h.inhparent = %s::regclass",
            [table],
        )
    }


def test_the_migration_freezes_the_province_codes_of_the_product():
    assert MIGRATION.PROVINCE_CODES_2025 == PROVINCE_CODES_2025


@pg_only
@pytest.mark.django_db
def test_the_registers_without_inbound_keys_are_partitioned_by_province_with_the_storage_parameters():
    expected = {f"p{code}" for code in PROVINCE_CODES_2025} | {"pnone", "pdefault"}
    for table in MIGRATION.PARTITIONED_TABLES:
        assert _q("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [table]) == [("p",)]
        assert _q("SELECT pg_get_partkeydef(%s::regclass)", [table]) == [("LIST (province_code)",)]
        assert {name.removeprefix(f"{table}_") for name in _partitions(table)} == expected
        options = _q("SELECT reloptions FROM pg_class WHERE relname = %s", [f"{table}_p08"])[0][0]
        assert "fillfactor=90" in options
    # the delivery is referenced by its newborns (a foreign key to a partitioned table needs the partition key)
    for model in (Delivery, Newborn):
        assert _q("SELECT relkind FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table]) == [("r",)]
    assert set(MIGRATION.PARTITIONED_TABLES) == {
        "registers_ancvisit", "registers_abortion", "registers_gynexam", "registers_contraception",
        "registers_childexam", "registers_death",
    }  # fmt: skip
    # every index the model declares is on the parent (and so on each partition)
    names = {r[0] for r in _q("SELECT indexname FROM pg_indexes WHERE tablename = 'registers_childexam'")}
    assert {i.name for i in ChildExam._meta.indexes} | {"child_exam_source_unique"} <= names


@pg_only
@pytest.mark.django_db
def test_a_written_record_lands_in_its_province_and_a_resend_updates_it(collector):
    records_upsert(actor=collector, register="anc", records=[anc(rid="PART-1")])
    row = AncVisit.objects.get()
    assert row.province_code == "08"
    assert _q("SELECT id FROM registers_ancvisit_p08") == [(row.pk,)]
    assert _q("SELECT count(*) FROM ONLY registers_ancvisit_pdefault") == [(0,)]
    # the same record sent again: the same row, updated (the upsert key holds the province)
    records_upsert(actor=collector, register="anc", records=[anc(rid="PART-1", full_name="Trần Thị Hoa Mới")])
    assert [(r.pk, r.full_name) for r in AncVisit.objects.all()] == [(row.pk, "Trần Thị Hoa Mới")]
    # and the delivery (not partitioned) takes the same key
    records_upsert(actor=collector, register="delivery", records=[delivery(rid="PART-2")])
    records_upsert(actor=collector, register="delivery", records=[delivery(rid="PART-2")])
    assert Delivery.objects.count() == 1 and Newborn.objects.get().province_code == "08"


@pg_only
@pytest.mark.django_db(transaction=True)
def test_later_migrations_add_and_remove_indexes_on_the_partitioned_parent():
    index = Index(fields=["dob"], name="child_exam_dob_tmp_idx")
    with connection.schema_editor() as editor:
        editor.add_index(ChildExam, index)
    assert _q("SELECT count(*) FROM pg_inherits WHERE inhparent = 'child_exam_dob_tmp_idx'::regclass") == [
        (len(PROVINCE_CODES_2025) + 2,)
    ]
    with connection.schema_editor() as editor:
        editor.remove_index(ChildExam, index)
    assert _q("SELECT to_regclass('child_exam_dob_tmp_idx')") == [(None,)]


@pg_only
@pytest.mark.django_db
def test_the_migration_rebuilds_a_table_both_ways_keeping_rows_keys_and_ids(collector):
    records_upsert(actor=collector, register="anc", records=[anc(rid="PART-3"), anc(rid="PART-4")])
    before = sorted(AncVisit.objects.values_list("id", "source_record_id", "province_code"))
    with connection.cursor() as cur:
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # as at the commit before a migration runs
        MIGRATION._rebuild(cur, "registers_ancvisit", partitioned=False)
    assert _q("SELECT relkind FROM pg_class WHERE oid = 'registers_ancvisit'::regclass") == [("r",)]
    assert _q(
        "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'registers_ancvisit_pkey'"
    ) == [("PRIMARY KEY (id)",)]
    with connection.cursor() as cur:
        MIGRATION._rebuild(cur, "registers_ancvisit", partitioned=True)
    assert sorted(AncVisit.objects.values_list("id", "source_record_id", "province_code")) == before
    assert len(_partitions("registers_ancvisit")) == len(PROVINCE_CODES_2025) + 2
    # the id sequence continues after the rows copied; the upsert still finds its key
    records_upsert(actor=collector, register="anc", records=[anc(rid="PART-3"), anc(rid="PART-5")])
    rows = dict(AncVisit.objects.values_list("source_record_id", "id"))
    assert len(rows) == 3 and rows["PART-5"] > max(r[0] for r in before)


@pg_only
@pytest.mark.django_db
def test_a_batch_finds_its_stored_rows_by_one_index_probe_per_key_whatever_the_statistics(collector):
    """A province partition that filled after it was last analysed (a new deployment, a month-start burst) is
    misjudged by the planner; the look-up of a batch's stored rows must not depend on that: it probes the unique
    index once per key instead of hashing the whole partition (issue 20: 217 ms a batch at 145,000 rows)."""
    from django.test.utils import CaptureQueriesContext

    from mchis.registers import writer

    records_upsert(actor=collector, register="anc", records=[anc(rid=f"S-{i}") for i in range(5)])
    with connection.cursor() as cur:
        cur.execute("ANALYZE registers_ancvisit_p08")  # the statistics of a nearly empty partition …
    records_upsert(actor=collector, register="anc", records=[anc(rid=f"B-{i}") for i in range(1500)])
    facility = AncVisit.objects.values_list("facility_id", flat=True)[0]
    keys = {(facility, "his-x", f"B-{i}") for i in range(0, 1500, 2)} | {(facility, "his-x", "NEW-1")}
    with CaptureQueriesContext(connection) as ctx:
        rows = writer.existing_rows(AncVisit, keys, lock=True)
    assert len(rows) == 750 and [r["source_record_id"] for r in rows] == sorted(k[2] for k in keys)[:750]
    (query,) = [q["sql"] for q in ctx.captured_queries if "registers_ancvisit" in q["sql"]]
    plan = "\n".join(r[0] for r in _q("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + query))
    # … and 1,505 rows now: one index probe per key, in the keys' order (the locks too), nothing hashed or scanned
    assert "Nested Loop" in plan and "Hash" not in plan and "Seq Scan" not in plan and "Sort" not in plan, (
        plan
    )
    assert "registers_ancvisit_p08" in plan and "pdefault" not in plan, plan
