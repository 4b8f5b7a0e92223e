"""Fixtures of the analytics tests: the shipped report forms, a few people, a recompute helper."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from mchis.analytics.store import mark_months
from mchis.registers import models as R
from mchis.reports.tests.registerdata import rec


@pytest.fixture
def forms(db) -> Any:
    from mchis.reports.services import forms_load, shipped_form_files

    return forms_load(actor=None, paths=shipped_form_files())


@pytest.fixture
def recompute():
    """Recompute every dirty unit-month now (what the worker does after commit)."""
    from mchis.analytics.store import recompute_dirty

    return lambda: recompute_dirty(limit=10_000)


@pytest.fixture(autouse=True)
def _stepped_up():
    from mchis.accounts.testing import stepped_up

    with stepped_up():
        yield


@pytest.fixture
def data(tree, forms, recompute):
    """Three deliveries of January 2026 in the store: two in province A's station A1 (one with ANC4), one in B1."""
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 9), place="at_facility", anc_4_in_3_trimesters=True)
    rec(R.Delivery, tree.tyt_a1, date(2026, 1, 9), place="at_facility")
    rec(R.Delivery, tree.tyt_b1, date(2026, 1, 9), place="at_facility")
    mark_months([date(2026, 1, 1)], [tree.tyt_a1.pk, tree.tyt_b1.pk])
    recompute()
    return tree
