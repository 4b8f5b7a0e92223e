"""Prometheus metrics (prometheus-client): per-route request counts, latencies and errors measured by a
middleware, plus a collector that reads the system's state at each scrape (database and Redis health, Celery
queue lengths and task outcomes, import throughput, outbox backlog, missed report deadlines, backup age).

Under gunicorn with several workers set PROMETHEUS_MULTIPROC_DIR (deploy/systemd): the request metrics of every
worker process are then summed at scrape time.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator

from django.http import HttpRequest, HttpResponse
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "mchis_http_requests_total",
    "HTTP answers by route, method and status code",
    ["route", "method", "status"],
)
LATENCY = Histogram(
    "mchis_http_request_duration_seconds",
    "Time to answer, by route and method",
    ["route", "method"],
    buckets=(0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)
EXCEPTIONS = Counter(
    "mchis_http_exceptions_total", "Unhandled exceptions (answered 500) by route and type", ["route", "type"]
)
INLINE_JOBS = Counter(
    "mchis_jobs_inline_fallback_total",
    "Background tasks run in the request because the broker was down",
    ["task"],
)

UNMATCHED = "<unmatched>"


def route_of(request: HttpRequest) -> str:
    """The URL pattern (children/<int:pk>/), never the concrete path: bounded label values, no IDs."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNMATCHED
    return "/" + (match.route or "")


class RequestMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        start = time.perf_counter()
        response = self.get_response(request)
        route = route_of(request)
        method = (
            request.method if request.method in {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"} else "OTHER"
        )
        REQUESTS.labels(route, method, str(response.status_code)).inc()
        LATENCY.labels(route, method).observe(time.perf_counter() - start)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> None:
        EXCEPTIONS.labels(route_of(request), type(exception).__name__).inc()


class StateCollector(Collector):
    """Read at scrape time from the database, Redis and the broker (each probe bounded, failures reported
    as "down" rather than failing the scrape)."""

    def collect(self) -> Iterator[Metric]:
        from . import collectors

        yield from collectors.collect_all()


def render() -> bytes:
    """The exposition text: this process's (or every process's, multiprocess mode) request metrics + state."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        process_part = generate_latest(registry)
    else:
        process_part = generate_latest(REGISTRY)
    state = CollectorRegistry()
    state.register(StateCollector())
    return process_part + generate_latest(state)


def gauge(name: str, doc: str, labels: list[str] | None = None) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


def counter(name: str, doc: str, labels: list[str] | None = None) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, labels=labels)


def install() -> None:
    """Task outcome counters (a worker's signals; the web process sees them through the shared cache)."""
    from celery import signals

    from mchis.core import jobs

    from . import collectors

    jobs.on_fallback(lambda name: INLINE_JOBS.labels(name).inc())
    signals.task_failure.connect(
        collectors.on_task_failure, weak=False, dispatch_uid="mchis-ops-task-failure"
    )
    signals.task_success.connect(
        collectors.on_task_success, weak=False, dispatch_uid="mchis-ops-task-success"
    )
