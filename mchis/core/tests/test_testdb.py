"""The test suite's PostgreSQL backend (mchis.core.testdb): its flush leaves nothing behind."""

from __future__ import annotations

from datetime import date

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the backend is PostgreSQL's")


def test_every_foreign_key_is_deferrable_as_the_flush_assumes(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE contype = 'f' AND NOT condeferrable AND connamespace = 'public'::regnamespace"
        )
        assert cursor.fetchall() == []


@pytest.mark.django_db(transaction=True)
def test_flush_empties_every_table(tree, make_user):
    from mchis.core.models import AuditEvent
    from mchis.registers import models as registers

    unit = tree.tyt_a1
    day = date(2026, 1, 9)
    delivery = registers.Delivery.objects.create(
        facility=unit, event_date=day, month=day.replace(day=1), source_record_id="f1", full_name="Lò Thị Hoa",
        delivery_mode="normal", attendant="midwife", place="at_facility",
    )  # fmt: skip
    registers.Newborn.objects.create(
        delivery=delivery, facility=unit, month=day.replace(day=1), event_date=day, outcome="live", sex="F"
    )
    make_user("leader", tree.tyt_a1)
    assert registers.Newborn.objects.exists() and AuditEvent.objects.exists()  # the append-only audit log too

    call_command("flush", interactive=False, verbosity=0, inhibit_post_migrate=True)

    left = {
        model._meta.label: n
        for model in apps.get_models()
        if model._meta.managed and (n := model._base_manager.count())
    }
    assert left == {}
