"""Scheduled jobs of the reports app (Celery beat): deadline reminders, overdue notices, escalation (R-MCH-04).

Runs every morning; idempotent (each notice is created once, e-mail only for new notices).
"""

from __future__ import annotations

from celery import shared_task

from .services import reports_send_reminders


@shared_task(name="reports.send_reminders", acks_late=True)
def send_reminders() -> dict[str, int]:
    r = reports_send_reminders()
    return {"reminders": r.reminders, "overdue": r.overdue, "escalations": r.escalations}
