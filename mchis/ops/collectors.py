"""The state metrics, read at each scrape. System-wide aggregates only (counts, ages): no personal data and
no unit's figures, which is why the operator's collector reads the other apps' tables directly."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Min, Sum
from django.utils import timezone
from prometheus_client.core import Metric

import mchis

from . import health
from .metrics import counter, gauge
from .models import OpsRun, RunKind, RunStatus

TASK_KEY = "ops:tasks:{state}:{name}"
TASK_NAMES_KEY = "ops:tasks:names"


def _safe_cache(op: str, *args: Any) -> Any:
    try:
        return getattr(cache, op)(*args)
    except Exception:  # a down Redis must never break a task or a scrape
        return None


def _count_task(state: str, sender: Any) -> None:
    name = getattr(sender, "name", "") or "unknown"
    names = _safe_cache("get", TASK_NAMES_KEY) or []
    if name not in names:
        _safe_cache("set", TASK_NAMES_KEY, sorted({*names, name}), None)
    key = TASK_KEY.format(state=state, name=name)
    if _safe_cache("add", key, 0, None) is not None:
        _safe_cache("incr", key)


def on_task_failure(sender: Any = None, **_: Any) -> None:
    _count_task("failure", sender)


def on_task_success(sender: Any = None, **_: Any) -> None:
    _count_task("success", sender)


def collect_all() -> Iterator[Metric]:
    info = gauge("mchis_build_info", "Running release", ["version"])
    info.add_metric([mchis.__version__], 1)
    yield info
    yield from _dependencies()
    yield from _celery()
    db_up = health.database_ok()
    if db_up:
        yield from _imports()
        yield from _outbox()
        yield from _reports()
        yield from _backups()
    yield from _breakers()


def _dependencies() -> Iterator[Metric]:
    up = gauge("mchis_dependency_up", "1 when the component answers", ["component"])
    latency = gauge("mchis_dependency_check_seconds", "Time the health probe took", ["component"])
    for name, probe in (
        ("database", health.database_ok),
        ("redis", health.redis_ok),
        ("broker", health.broker_ok),
    ):
        start = time.perf_counter()
        ok = probe()
        latency.add_metric([name], time.perf_counter() - start)
        up.add_metric([name], 1 if ok else 0)
    yield up
    yield latency


def _celery() -> Iterator[Metric]:
    lengths = gauge("mchis_celery_queue_length", "Messages waiting in each Celery queue", ["queue"])
    for queue, length in health.queue_lengths().items():
        lengths.add_metric([queue], length)
    yield lengths
    heartbeat = gauge(
        "mchis_celery_heartbeat_age_seconds", "Seconds since a worker ran the heartbeat", ["queue"]
    )
    for queue, age in health.heartbeat_ages().items():
        if age is not None:
            heartbeat.add_metric([queue], age)
    yield heartbeat
    failures = counter("mchis_celery_task_failures", "Celery tasks that raised", ["task"])
    successes = counter("mchis_celery_task_successes", "Celery tasks that finished", ["task"])
    from celery import current_app

    current_app.loader.import_default_modules()  # every task registered, so each has its series
    names = set(_safe_cache("get", TASK_NAMES_KEY) or [])
    names |= {n for n in current_app.tasks if not n.startswith("celery.")}
    for name in sorted(names):
        failures.add_metric([name], _safe_cache("get", TASK_KEY.format(state="failure", name=name)) or 0)
        successes.add_metric([name], _safe_cache("get", TASK_KEY.format(state="success", name=name)) or 0)
    yield failures
    yield successes


def _imports() -> Iterator[Metric]:
    from mchis.registers.models import IngestBatch

    batches = counter("mchis_import_batches", "Register ingestion batches by status", ["status"])
    for row in IngestBatch.objects.values("status").annotate(n=Count("id")).order_by():
        batches.add_metric([row["status"]], row["n"])
    yield batches
    records = counter("mchis_import_records", "Register records received, by outcome", ["outcome"])
    sums = IngestBatch.objects.filter(dry_run=False).aggregate(
        created=Sum("created"), updated=Sum("updated"), unchanged=Sum("unchanged"), rejected=Sum("rejected")
    )
    for outcome, value in sums.items():
        records.add_metric([outcome], value or 0)
    yield records
    waiting = gauge("mchis_import_batches_waiting", "Batches queued or running")
    waiting.add_metric([], IngestBatch.objects.filter(status__in=["queued", "running"]).count())
    yield waiting


def _outbox() -> Iterator[Metric]:
    """Work promised to a partner and not yet done: identity checks waiting for the population gateway."""
    from mchis.registry.models import Verification, VerificationStatus

    backlog = gauge("mchis_outbox_backlog", "Calls to partners waiting to be made", ["partner"])
    oldest = gauge("mchis_outbox_oldest_age_seconds", "Age of the oldest waiting call", ["partner"])
    pending = Verification.objects.filter(status=VerificationStatus.PENDING)
    agg = pending.aggregate(n=Count("id"), first=Min("requested_at"))
    backlog.add_metric(["population"], agg["n"] or 0)
    age = (timezone.now() - agg["first"]).total_seconds() if agg["first"] else 0
    oldest.add_metric(["population"], age)
    yield backlog
    yield oldest


def _reports() -> Iterator[Metric]:
    from mchis.reports.models import NoticeKind, ReportNotice

    missed = counter(
        "mchis_report_deadlines_missed", "Reports (form, unit, period) that passed their deadline"
    )
    missed.add_metric(
        [],
        ReportNotice.objects.filter(kind=NoticeKind.OVERDUE)
        .values("about_unit", "form_code", "period_start")
        .distinct()
        .count(),
    )
    yield missed


def _backups() -> Iterator[Metric]:
    last = gauge(
        "mchis_backup_last_success_timestamp_seconds",
        "When each kind of backup or check last succeeded",
        ["kind"],
    )
    groups = {
        "database": (RunKind.SQLITE_BACKUP, RunKind.PG_FULL, RunKind.PG_DIFF),
        "full": (RunKind.SQLITE_BACKUP, RunKind.PG_FULL),
        "evidence": (RunKind.SQLITE_BACKUP, RunKind.EVIDENCE),
        "verify": (RunKind.VERIFY,),
        "drill": (RunKind.DRILL,),
    }
    now = timezone.now()
    age = gauge("mchis_backup_age_seconds", "Seconds since the last successful database backup")
    for label, kinds in groups.items():
        run = OpsRun.objects.filter(kind__in=kinds, status=RunStatus.SUCCESS).order_by("-finished_at").first()
        if run and run.finished_at:
            last.add_metric([label], run.finished_at.timestamp())
            if label == "database":
                age.add_metric([], (now - run.finished_at).total_seconds())
    yield last
    yield age
    failed = counter("mchis_ops_run_failures", "Failed backups, verifications and drills", ["kind"])
    counts = dict(
        OpsRun.objects.filter(status=RunStatus.FAILED).values_list("kind").annotate(n=Count("id")).order_by()
    )
    for kind in RunKind:
        failed.add_metric([kind.value], counts.get(kind.value, 0))
    yield failed
    last_failed = gauge("mchis_ops_last_run_failed", "1 when the latest run of that kind failed", ["kind"])
    for kind in RunKind:
        latest = OpsRun.objects.filter(kind=kind).order_by("-started_at", "-id").first()
        if latest is not None:
            last_failed.add_metric([kind.value], 1 if latest.status == RunStatus.FAILED else 0)
    yield last_failed


def _breakers() -> Iterator[Metric]:
    from mchis.core import resilience

    state = gauge("mchis_circuit_breaker_open", "1 while calls to that partner are cut off", ["partner"])
    for name, breaker in resilience.breakers().items():
        state.add_metric([name], 1 if breaker.current_state == "open" else 0)
    yield state
