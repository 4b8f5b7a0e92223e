"""Queue background work by task name, so services never import a tasks module (tasks import services).

Use it after commit: `transaction.on_commit(lambda: enqueue("registers.run_ingest_batch", str(batch.pk)))`.
Without a broker (`CELERY_TASK_ALWAYS_EAGER`: demo, tests) the task runs in place, as `.delay()` would.

A broker that is down (Redis stopped) never loses the write that queued the work, nor turns the page into an
error (R-OPS-02): the write is already committed when this runs, and the task then runs in place, once,
with its failure logged instead of raised. Every scheduled sweep is idempotent, so work that fails there too
is picked up again when the workers are back.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import current_app
from kombu.exceptions import KombuError
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
_fallback_listeners: list[Any] = []


def enqueue(task_name: str, *args: Any) -> Any:
    if task_name not in current_app.tasks:
        current_app.loader.import_default_modules()  # autodiscovery of tasks.py, as a worker does at start
    task = current_app.tasks[task_name]
    if current_app.conf.task_always_eager:
        return task.delay(*args)
    try:
        return task.apply_async(args=args, retry=False)
    # The broker, not the task. RuntimeError: kombu's producer pool once closed ("Acquire on closed pool", e.g.
    # after the app's pools were reset) refuses every later publish in this process; the work still runs here.
    except (KombuError, RedisError, OSError, RuntimeError) as exc:
        logger.warning("broker unavailable (%s): running %s in place", exc, task_name)
        for listener in _fallback_listeners:
            listener(task_name)
        try:
            return task.apply(args=args)
        except Exception:
            logger.exception("task %s failed in place (broker down); its sweep will retry it", task_name)
            return None


def on_fallback(listener: Any) -> None:
    """Observe tasks run in place because the broker was down (the ops metrics count them)."""
    _fallback_listeners.append(listener)


def runs_in_place() -> bool:
    """No broker: a queued task runs in the caller (demo, tests)."""
    return bool(current_app.conf.task_always_eager)
