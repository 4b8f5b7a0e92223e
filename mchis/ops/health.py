"""Liveness and readiness per component (R-OPS-02), and the probes that the metrics reuse.

/health/live            the web process answers (no dependency touched): restart it when this fails.
/health/ready           the web can serve: database reachable and every migration applied (503 otherwise);
                        Redis, the broker and the workers are reported but do not make the web unready,
                        because it keeps working without them (writes are never lost; background work runs
                        in place, see mchis.core.jobs).
/health/ready?component=worker|heavy|redis|broker|database   one component's readiness (503 when not ready),
                        for the probes of the worker services and the load balancer.
"""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

PROBE_TIMEOUT = 1.0  # seconds: a probe of a dead dependency must not hang the scrape or the balancer
HEARTBEAT_KEY = "ops:heartbeat:{queue}"
_migrations_ok = False


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        return True
    except Exception:  # any failure of the database means "down"
        return False


def migrations_ok() -> bool:
    """Every migration on disk is applied (remembered once true: migrations do not un-apply themselves)."""
    global _migrations_ok
    if _migrations_ok:
        return True
    try:
        executor = MigrationExecutor(connection)
        _migrations_ok = not executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception:
        return False
    return _migrations_ok


def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=PROBE_TIMEOUT, socket_connect_timeout=PROBE_TIMEOUT)


def redis_ok() -> bool | None:
    """None when no Redis is configured (embedded demo)."""
    if not settings.REDIS_URL:
        return None
    try:
        return bool(_redis(settings.REDIS_URL).ping())
    except Exception:
        return False


def broker_ok() -> bool | None:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        return None  # in-memory broker: tasks run in place
    try:
        return bool(_redis(url).ping())
    except Exception:
        return False


def queue_lengths() -> dict[str, int]:
    url = settings.CELERY_BROKER_URL
    if not url.startswith("redis"):
        return {}
    lengths = {}
    try:
        client = _redis(url)
        for queue in settings.CELERY_QUEUE_NAMES:
            lengths[queue] = int(client.llen(queue))
    except Exception:
        return {}
    return lengths


def heartbeat_ages() -> dict[str, float | None]:
    """Seconds since a worker of each queue ran `ops.heartbeat` (sent by beat every minute)."""
    ages: dict[str, float | None] = {}
    now = time.time()
    for queue in settings.CELERY_QUEUE_NAMES:
        try:
            seen = cache.get(HEARTBEAT_KEY.format(queue=queue))
        except Exception:
            seen = None
        ages[queue] = now - float(seen) if seen else None
    return ages


def record_heartbeat(queue: str) -> None:
    cache.set(HEARTBEAT_KEY.format(queue=queue), time.time(), None)


def component_states() -> dict[str, str]:
    """ "ok", "down" or "not_configured" for each component."""

    def word(value: bool | None) -> str:
        return "not_configured" if value is None else ("ok" if value else "down")

    db = database_ok()
    states = {
        "database": word(db),
        "migrations": word(migrations_ok() if db else False),
        "redis": word(redis_ok()),
        "broker": word(broker_ok()),
    }
    if settings.CELERY_TASK_ALWAYS_EAGER:
        for queue in settings.CELERY_QUEUE_NAMES:
            states[f"worker:{queue}"] = "not_configured"
    else:
        limit = settings.HEARTBEAT_MAX_AGE_SECONDS
        for queue, age in heartbeat_ages().items():
            states[f"worker:{queue}"] = "ok" if age is not None and age <= limit else "down"
    return states


WEB_REQUIRES = ("database", "migrations")
