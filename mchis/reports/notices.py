"""In-app notifications for report work (R-MCH-05, R-MCH-04): the sender learns of a return (with its reason)
or an approval; a unit's reporters and leaders see deadline notices under the bell. Called inside the services'
transactions, one line each."""

from __future__ import annotations

from django.urls import reverse

from mchis.core.principal import Principal, principal_ref, same_principal
from mchis.notifications.models import NotificationKind
from mchis.notifications.selectors import people_of
from mchis.notifications.services import notify

from .models import ReportInstance, ReportNotice
from .periods import Period


def _url(report: ReportInstance) -> str:
    period = Period(report.period_start, report.period_type)
    return reverse("reports:detail", args=[report.form.code, report.unit.code, period.code])


def transition(verb: str, actor: Principal, report: ReportInstance, reason: str) -> None:
    """Returned or approved: tell the person who sent it (and, when nobody is recorded, the unit's reporters)."""
    if verb not in ("return", "approve"):
        return
    period = Period(report.period_start, report.period_type)
    to = [report.submitted_by] if report.submitted_by_id else people_of(report.unit, ("reporter", "leader"))
    returned = verb == "return"
    notify(
        recipients=[u for u in to if not same_principal(actor, principal_ref(u))],
        kind=NotificationKind.RETURNED if returned else NotificationKind.APPROVED,
        title=f"Báo cáo {report.form.code} {period.label().lower()} "
        + ("bị trả lại, cần sửa và gửi lại" if returned else "đã được duyệt"),
        reason=reason, url=_url(report), object_type="report", object_id=report.pk,
    )  # fmt: skip


def deadline(notice: ReportNotice, message: str, period: Period) -> None:
    """A new deadline notice (reminder, overdue, escalation) for a unit: its reporters and leaders see it.
    E-mail for these goes out from the reminder job itself."""
    notify(
        recipients=people_of(notice.recipient, ("reporter", "leader")), kind=NotificationKind.DEADLINE,
        title=message, url=reverse("reports:list") + f"?period={period.code}",
        object_type="report_notice", object_id=notice.pk, key=f"report_notice:{notice.pk}", mail=False,
    )  # fmt: skip
