"""Migration 0009 fills the days from the birth to the first postnatal visit of the deliveries already stored,
as the validator derives it for new ones."""

from __future__ import annotations

import importlib
from datetime import date
from types import SimpleNamespace

from django.db import connection

from mchis.registers import models as R
from mchis.reports.tests.registerdata import rec

fill = importlib.import_module("mchis.registers.migrations.0009_delivery_postpartum_first_days").fill


def test_existing_deliveries_get_their_first_visit_day(tree):
    born = date(2026, 1, 10)
    week1 = rec(R.Delivery, tree.tyt_a1, born, postpartum_week1_date=date(2026, 1, 12),
                postpartum_week2_6_date=date(2026, 1, 30))  # fmt: skip
    later = rec(R.Delivery, tree.tyt_a1, born, postpartum_week2_6_date=date(2026, 2, 5))
    none = rec(R.Delivery, tree.tyt_a1, born)
    broken = rec(R.Delivery, tree.tyt_a1, born, postpartum_week1_date=date(2026, 1, 8))  # before the birth
    fill(None, SimpleNamespace(connection=connection))
    got = dict(R.Delivery.objects.values_list("pk", "postpartum_first_days"))
    assert got == {week1.pk: 2, later.pk: 26, none.pk: None, broken.pk: None}
