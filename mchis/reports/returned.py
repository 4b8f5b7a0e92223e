"""The home page's "returned to me": reports of the person's unit sent back by the level above, with the reason."""

from __future__ import annotations

from mchis.accounts.permissions import can
from mchis.core.cards import ReturnedItem, register_returned
from mchis.core.principal import Principal
from mchis.core.scoping import visible_to

from .models import ReportInstance, ReportStatus
from .notices import _url
from .periods import Period


@register_returned
def reports_returned(user: Principal) -> list[ReturnedItem]:
    if not user.is_authenticated:  # checked first: an anonymous visitor has no unit at all
        return []
    unit = user.unit
    if unit is None or not (can(user, "report.edit") or can(user, "report.submit")):
        return []
    unit_id = unit.pk
    reports = (
        visible_to(ReportInstance.objects.select_related("form", "unit"), user)
        .filter(unit_id=unit_id, status=ReportStatus.RETURNED)
        .prefetch_related("transitions__actor")[:20]
    )
    items = []
    for report in reports:
        last = next((t for t in reversed(list(report.transitions.all())) if t.action == "return"), None)
        period = Period(report.period_start, report.period_type)
        items.append(
            ReturnedItem(
                what=f"Báo cáo {report.form.code} {period.label().lower()}",
                reason=last.reason if last else "",
                url=_url(report),
                by=(last.actor.get_full_name() or last.actor.username) if last and last.actor else "",
                when=last.at if last else None,
            )
        )
    return items
