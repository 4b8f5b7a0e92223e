"""Queue background work by task name, so services never import a tasks module (tasks import services).

Use it after commit: `transaction.on_commit(lambda: enqueue("registers.run_ingest_batch", str(batch.pk)))`.
Without a broker (`CELERY_TASK_ALWAYS_EAGER`: demo, tests) the task runs in place, as `.delay()` would.
"""

from __future__ import annotations

from typing import Any

from celery import current_app


def enqueue(task_name: str, *args: Any) -> Any:
    if task_name not in current_app.tasks:
        current_app.loader.import_default_modules()  # autodiscovery of tasks.py, as a worker does at start
    return current_app.tasks[task_name].delay(*args)


def runs_in_place() -> bool:
    """No broker: a queued task runs in the caller (demo, tests)."""
    return bool(current_app.conf.task_always_eager)
