"""Fixtures for the reports tests: the shipped form versions loaded, users on each level of tree A."""

from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture
def forms(db) -> Any:
    from mchis.reports.services import forms_load, shipped_form_files

    return forms_load(actor=None, paths=shipped_form_files())


@pytest.fixture
def people(tree, make_user) -> Any:
    """Collector/reporter/leader at TYT A1, TTYT A, CDC A, Sở A, the ministry department, and TYT B1."""

    class People:
        tyt_reporter = make_user("reporter", tree.tyt_a1)
        tyt_leader = make_user("leader", tree.tyt_a1)
        tyt2_reporter = make_user("reporter", tree.tyt_a2)
        ttyt_leader = make_user("leader", tree.ttyt_a)
        ttyt_reporter = make_user("reporter", tree.ttyt_a)
        ttyt_collector = make_user("collector", tree.ttyt_a)
        cdc_leader = make_user("leader", tree.cdc_a)
        cdc_reporter = make_user("reporter", tree.cdc_a)
        doh_leader = make_user("leader", tree.doh_a)
        dept_leader = make_user("leader", tree.ministry_dept)
        ttyt_b_leader = make_user("leader", tree.ttyt_b)

    return People


@pytest.fixture(autouse=True)
def approver_recently_stepped_up():
    """Approving (and un-approving) a report needs a second factor within the step-up window (R-SEC-04).

    The workflow tests here act as a leader who has just confirmed it; `test_r_sec_04_approval_step_up.py`
    takes it away and shows the refusal (service, page, API). Requests through the test client get the
    session's own step-up time from the accounts middleware, so pages are never stepped up by this.
    """
    from mchis.accounts.testing import stepped_up

    with stepped_up():
        yield
