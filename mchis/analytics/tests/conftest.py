"""Fixtures of the analytics tests: the shipped report forms, a few people, a recompute helper."""

from __future__ import annotations

from typing import Any

import pytest


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
