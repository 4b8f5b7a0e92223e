"""R-MCH-05: two leaders act on one report at the same moment — exactly one wins (PostgreSQL row locks)."""

from __future__ import annotations

import contextvars
import threading

import pytest
from django.db import connection, connections

from mchis.core.errors import Conflict, PermissionDeniedError
from mchis.reports import services as s
from mchis.reports.models import ReportInstance, ReportTransition

from .registerdata import submit

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")


def _race(calls):
    barrier = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    # Each thread runs in a copy of this context: a new thread starts with an empty one, which would drop the
    # leader's recent step-up (a ContextVar) and make the outcome depend on which thread wins the lock.
    contexts = [contextvars.copy_context() for _ in calls]

    def run(i, fn):
        try:
            barrier.wait()
            outcomes[i] = contexts[i].run(fn)
        except Exception as exc:  # the outcome is what we assert on
            outcomes[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn)) for i, fn in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_r_mch_05_concurrent_approve_and_return_exactly_one_wins(tree, make_user):
    from mchis.reports.services import forms_load, shipped_form_files

    forms_load(actor=None, paths=shipped_form_files())
    reporter = make_user("reporter", tree.tyt_a1)
    leader1 = make_user("leader", tree.ttyt_a)
    cdc = make_user("leader", tree.cdc_a)
    kw = {"form_code": "BCX3", "unit_code": tree.tyt_a1.code, "period": "2026-01"}
    submit(actor=reporter, **kw)
    outcomes = _race(
        [
            lambda: s.report_approve(actor=leader1, **kw),
            lambda: s.report_return(actor=cdc, reason="Sai", **kw),
            lambda: s.report_approve(actor=leader1, **kw),
        ]
    )
    wins = [o for o in outcomes if isinstance(o, ReportInstance)]
    losses = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(wins) == 1 and len(losses) == 2, outcomes
    report = ReportInstance.objects.get()
    assert report.status == wins[0].status
    assert ReportTransition.objects.filter(report=report).count() == 2  # submit + the one winner


@pytest.mark.django_db(transaction=True)
def test_r_mch_05_concurrent_first_submissions_create_one_instance(tree, make_user):
    from mchis.reports.services import forms_load, shipped_form_files

    forms_load(actor=None, paths=shipped_form_files())
    # BCH4 has no manual cells, so the first action on the report is the submission itself
    r1 = make_user("reporter", tree.ttyt_a)
    r2 = make_user("leader", tree.ttyt_a)
    kw = {"form_code": "BCH4", "unit_code": tree.ttyt_a.code, "period": "2026-01"}
    outcomes = _race([lambda: s.report_submit(actor=r1, **kw), lambda: s.report_submit(actor=r2, **kw)])
    assert sum(isinstance(o, ReportInstance) for o in outcomes) == 1, outcomes
    assert sum(isinstance(o, Conflict | PermissionDeniedError) for o in outcomes) == 1, outcomes
    assert ReportInstance.objects.count() == 1
