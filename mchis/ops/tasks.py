"""Scheduled operations (Celery beat, CELERY_BEAT_SCHEDULE): backups, verification, drills, heartbeats.
Each records its outcome (OpsRun) and a failure raises so Celery counts it (mchis_celery_task_failures)."""

from __future__ import annotations

from celery import shared_task

from . import engine, health


class OpsFailed(Exception):
    pass


@shared_task(name="ops.backup")
def backup() -> list[str]:
    if engine.is_sqlite():
        reports = [engine.backup_sqlite()]
    else:
        from . import pg

        reports = [pg.backup(kind=pg.scheduled_type()), engine.backup_evidence()]
    lines = [line for r in reports for line in r.lines]
    if not all(r.ok for r in reports):
        raise OpsFailed("\n".join(lines))
    return lines


@shared_task(name="ops.verify")
def verify() -> list[str]:
    if engine.is_sqlite():
        from .drill import verify_sqlite

        report = verify_sqlite()
    else:
        from . import pg

        report = pg.verify()
    if not report.ok:
        raise OpsFailed("\n".join(report.lines))
    return report.lines


@shared_task(name="ops.restore_drill")
def restore_drill() -> list[str]:
    if engine.is_sqlite():
        from .drill import drill_sqlite

        report = drill_sqlite()
    else:
        from . import pg

        report = pg.drill()
    if not report.ok:
        raise OpsFailed("\n".join(report.lines))
    return report.lines


@shared_task(name="ops.heartbeat")
def heartbeat(queue: str = "default") -> None:
    health.record_heartbeat(queue)
