"""Async bulk-API jobs (?async=true) are safe to redeliver: a worker that dies mid-batch leaves the batch to be
run again by the redelivered task (Celery acks_late), never stuck as "running" with nothing written."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from mchis.registers import ingest, services
from mchis.registers.models import AncVisit, BatchStatus, IngestBatch
from mchis.registers.tasks import run_ingest_batch

from .conftest import anc


class WorkerKilled(BaseException):
    """Stands for SIGKILL: not an Exception, so nothing in the service may catch it."""


def _queued_batch(actor: Any, n: int, monkeypatch: pytest.MonkeyPatch) -> IngestBatch:
    """Given an async batch accepted by the API and queued (the task is not run yet)."""
    monkeypatch.setattr(run_ingest_batch, "delay", lambda *a, **kw: None)
    records = [anc(rid=f"k{i}") for i in range(n)]
    status, body = services.batch_ingest(
        actor=actor, register="anc", records=records, run_async=True, idempotency_key="job-1"
    )
    assert status == 202 and body["status"] == BatchStatus.QUEUED
    return IngestBatch.objects.get(pk=body["jobId"])


@pytest.mark.django_db
def test_async_batch_worker_death_mid_batch_is_run_again_on_redelivery(collector, monkeypatch):
    batch = _queued_batch(collector, 3, monkeypatch)
    real = ingest.write_plan

    def dies_after_writing(*args: Any, **kwargs: Any) -> Any:
        real(*args, **kwargs)  # the rows are written (not committed) …
        raise WorkerKilled("SIGKILL")  # … and the worker dies

    # when the first delivery's worker dies mid-batch
    with monkeypatch.context() as m:
        m.setattr(ingest, "write_plan", dies_after_writing)
        with pytest.raises(WorkerKilled, match="SIGKILL"):
            run_ingest_batch(str(batch.pk))
    batch.refresh_from_db()
    # then nothing is half-written and the batch is still waiting
    assert batch.status == BatchStatus.QUEUED and AncVisit.objects.count() == 0
    # when the broker redelivers the task
    run_ingest_batch(str(batch.pk))
    # then the batch runs to the end, once
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SUCCESS and batch.created == 3 and batch.payload is None
    assert AncVisit.objects.count() == 3
    run_ingest_batch(str(batch.pk))  # a late duplicate delivery changes nothing
    assert AncVisit.objects.count() == 3 and IngestBatch.objects.get(pk=batch.pk).created == 3


_WORKER = """
import sys, time
import django
django.setup()
from mchis.registers import ingest
from mchis.registers.tasks import run_ingest_batch

real = ingest.write_plan
def slow(*args, **kwargs):
    result = real(*args, **kwargs)
    open(sys.argv[2], "w").write("written")
    time.sleep(120)  # killed here, with the rows written and the transaction open
    return result
ingest.write_plan = slow
run_ingest_batch(sys.argv[1])
"""


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a second process needs a shared database server"
)
@pytest.mark.django_db(transaction=True)
def test_async_batch_worker_killed_with_sigkill_is_run_again(collector, monkeypatch, tmp_path: Path):
    batch = _queued_batch(collector, 20, monkeypatch)
    db = connection.settings_dict
    url = f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    marker = tmp_path / "written"
    # given a worker process running the batch
    worker = subprocess.Popen(
        [sys.executable, "-c", _WORKER, str(batch.pk), str(marker)],
        env={**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "config.settings.test"},
    )
    try:
        for _ in range(600):
            if marker.exists() or worker.poll() is not None:
                break
            time.sleep(0.05)
        assert marker.exists(), "the worker did not reach the middle of the batch"
    finally:
        # when it is killed mid-batch (kill -9)
        worker.kill()
        worker.wait(timeout=10)
    # then the redelivered task runs the whole batch (it waits for the dead transaction to be rolled back)
    run_ingest_batch(str(batch.pk))
    batch.refresh_from_db()
    assert batch.status == BatchStatus.SUCCESS and batch.created == 20
    assert AncVisit.objects.count() == 20
