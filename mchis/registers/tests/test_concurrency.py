"""Concurrent batches touching the same records (R-INT-01): on PostgreSQL, ON CONFLICT upserts plus row locks in
key order mean no duplicates, no deadlock, no half-written delivery (newborn rows always match one version)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from mchis.registers.models import Delivery, Newborn
from mchis.registers.services import records_upsert

from .conftest import delivery

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")


@pytest.mark.django_db(transaction=True)
def test_r_int_01_concurrent_batches_same_records(tree, make_user):
    user = make_user("collector", tree.tyt_a1)
    n = 150

    def batch(tag: str, twins: bool) -> list[dict]:
        kids = (
            [
                {"outcome": "live", "sex": "M", "weight_grams": 2500},
                {"outcome": "live", "sex": "F", "weight_grams": 2600},
            ]
            if twins
            else [{"outcome": "live", "sex": "F"}]
        )
        records = [delivery(rid=f"D{i}", note=tag, newborns=kids) for i in range(n)]
        return (
            records if tag == "a" else list(reversed(records))
        )  # opposite order: would deadlock without sorting

    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def run(tag: str, twins: bool) -> None:
        try:
            barrier.wait()
            for _ in range(3):
                records_upsert(actor=user, register="delivery", records=batch(tag, twins))
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(t, tw)) for t, tw in (("a", True), ("b", False), ("a", True),
                                                                        ("b", False))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert Delivery.objects.count() == n
    for d in Delivery.objects.all():
        kids = Newborn.objects.filter(delivery=d).count()
        assert (d.note, kids) in {("a", 2), ("b", 1)}, (d.source_record_id, d.note, kids)
