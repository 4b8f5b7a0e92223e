"""A commune's report names its province in every register statement, so PostgreSQL reads one partition of each
partitioned register (ADR 0075, registers 0012): pruning at plan time, not at run time."""

from __future__ import annotations

import importlib
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mchis.reports.compute import register_values
from mchis.reports.periods import parse_period
from mchis.reports.selectors import form_in_force

from .registerdata import january_dataset

MIGRATION = importlib.import_module("mchis.registers.migrations.0012_partition_by_province")
pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="partitioning is PostgreSQL only")


def _q(sql: str) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql)
        return cur.fetchall()


@pg_only
@pytest.mark.django_db
def test_a_commune_report_reads_one_partition_of_each_register(forms, tree):
    january_dataset(tree.tyt_a1, tree.tyt_a2)
    spec = form_in_force("BCX3", date(2026, 1, 1)).parsed()
    with CaptureQueriesContext(connection) as ctx:
        values = register_values(spec, [tree.tyt_a1.pk], parse_period("2026-01"))[tree.tyt_a1.pk]
    assert values and any(values.values())  # the rows written through the ORM are found in their partition
    plans = []
    for query in ctx.captured_queries:
        if "registers_" not in query["sql"] or "GROUP BY" not in query["sql"]:
            continue
        plans.append([r[0] for r in _q("EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) " + query["sql"])])
    assert len(plans) == 10
    for plan in plans:
        text = "\n".join(plan)
        for table in MIGRATION.PARTITIONED_TABLES:
            if table not in text:
                continue
            # the register's own rows: pruned when planned (only the province's partition is in the plan)
            assert f"{table}_p08" in text and "pdefault" not in text or "never executed" in text, text
            # a correlated sub-query (the maternal death matched to a delivery): pruned at run time by the outer
            # row's province, the other partitions are never read
            for line in plan:
                if f"{table}_p" in line and f"{table}_p08" not in line:
                    assert "never executed" in line, text
