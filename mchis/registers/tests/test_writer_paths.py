"""The row writer's PostgreSQL fast path (COPY rows read from dicts, issue 20) stores exactly what the general
path (Django's bulk_create) stores: the same register rows, newborns and answers, created then updated."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from mchis.registers.models import AncVisit, Delivery, Newborn
from mchis.registers.services import records_upsert

from .conftest import anc, delivery

SKIP = {"id", "created_at", "updated_at", "delivery_id", "person_id"}


def stored() -> dict[str, Any]:
    def rows(qs: Any, key: Any) -> list[dict[str, Any]]:
        return sorted(({k: v for k, v in r.items() if k not in SKIP} for r in qs.values()), key=key)

    return {
        "anc": rows(AncVisit.objects, lambda r: r["source_record_id"]),
        "delivery": rows(Delivery.objects, lambda r: r["source_record_id"]),
        "newborns": rows(Newborn.objects, lambda r: (r["event_date"], r["birth_order"], r["weight_grams"])),
    }


def run(collector: Any) -> tuple[dict[str, Any], list[Any]]:
    answers: list[Any] = []
    for register, make in (("anc", anc), ("delivery", delivery)):
        first = [make(rid=f"{register}-{i}", personal_id=f"00830100{i:04d}") for i in range(3)] + [
            make(rid=f"{register}-x", gestational_age_weeks=99)  # refused: same message either way
        ]
        second = [make(rid=f"{register}-0", note="sửa"), make(rid=f"{register}-1"), make(rid=f"{register}-9")]
        for batch in (first, second):
            result = records_upsert(actor=collector, register=register, records=batch)
            answers.append({k: v for k, v in result.summary().items() if k != "batchId"})
            answers.append([(r["index"], r["action"], r["key"]) for r in result.rows])
    return stored(), answers


@pytest.mark.django_db
def test_r_int_01_fast_writer_path_stores_what_the_general_path_stores(collector, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("the fast path is PostgreSQL's (DATABASE_URL=postgres://…)")
    fast = run(collector)
    for model in (Newborn, Delivery, AncVisit):
        model.objects.all().delete()
    monkeypatch.setattr(connection, "vendor", "other")  # the writer's general path on the same database
    general = run(collector)
    monkeypatch.undo()
    assert fast == general
    assert fast[0]["anc"] and fast[0]["newborns"]
