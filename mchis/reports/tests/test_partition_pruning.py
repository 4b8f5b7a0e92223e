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


@pg_only
@pytest.mark.django_db
def test_the_stillbirth_matcher_reads_the_facility_s_stillbirths_by_date(tree):
    """The death register's "unless the delivery register holds the stillbirth" sub-query runs once per fetal death
    of the month; it must read the facility's stillbirths near that date (partial index `newborn_stillbirth_idx`),
    not the facility's whole newborn history (13,000 rows a facility at national size: 1.6 s per statement)."""
    from datetime import timedelta

    from mchis.registers import models as R
    from mchis.reports.matching import MATCHERS

    from .registerdata import rec

    jan = date(2026, 1, 1)
    delivery = rec(R.Delivery, tree.tyt_a1, jan)
    R.Newborn.objects.bulk_create(
        R.Newborn(
            delivery=delivery, facility=tree.tyt_a1, province_code=delivery.province_code, birth_order=n,
            month=jan, event_date=jan + timedelta(days=n % 28), outcome="stillbirth" if n % 1000 == 0 else "live",
        )
        for n in range(1, 4001)
    )  # fmt: skip
    rec(R.Death, tree.tyt_a1, jan, death_kind="fetal")
    with connection.cursor() as cur:
        cur.execute("ANALYZE registers_newborn")
    deaths = R.Death.objects.filter(month=jan).annotate(
        held=MATCHERS["stillbirth_in_delivery_register"](None)
    )
    sql, params = deaths.query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (COSTS OFF) " + sql, params)
        plan = "\n".join(r[0] for r in cur.fetchall())
    assert "newborn_stillbirth_idx" in plan, plan
