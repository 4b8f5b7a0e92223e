"""What the sync monitoring page shows (R-INT-03), both directions, inside the user's subtree: outbound per
partner (last success, lag, backlog, failures, dead letters; alerts when a partner is silent or its backlog
grows), per unit, the statistics import summaries; inbound per facility (the registers' sync status) and the
facilities that sent nothing today."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from mchis.core.scoping import visible_to
from mchis.offline import selectors as offline
from mchis.outbox import selectors as outbox
from mchis.outbox.models import FailureKind
from mchis.registers import selectors as registers
from mchis.registers.models import SyncActivity
from mchis.units.models import ReportingUnit, UnitKind

PARTNERS = {
    "ehr": "Kho dữ liệu hồ sơ sức khỏe điện tử (Bộ Y tế)",
    "statistics": "Phần mềm Thống kê y tế",
    "handbook": "Ứng dụng Sổ theo dõi SKBMTE điện tử",
}
MODES = {
    "ehr": "Gửi FHIR hằng ngày",
    "statistics": "Gửi ADX khi báo cáo được duyệt",
    "handbook": "Ứng dụng tự lấy",
}
FACILITY_KINDS = (UnitKind.TYT, UnitKind.TTYT, UnitKind.DISTRICT_HOSPITAL, UnitKind.PROVINCIAL_HOSPITAL)


@dataclass(frozen=True)
class Thresholds:
    silent_after: timedelta
    backlog_limit: int


def thresholds() -> Thresholds:
    return Thresholds(
        silent_after=timedelta(hours=float(getattr(settings, "EXCHANGE_SILENT_HOURS", 26))),
        backlog_limit=int(getattr(settings, "EXCHANGE_BACKLOG_ALERT", 5000)),
    )


def monitoring(principal: Any, *, inbound_silent_days: int = 3) -> dict[str, Any]:
    limits = thresholds()
    partners = list(PARTNERS)
    rows = outbox.partner_rows(
        principal, partners, silent_after=limits.silent_after, backlog_limit=limits.backlog_limit
    )
    unit_rows = outbox.unit_rows(principal, partners)
    names = dict(
        ReportingUnit.objects.filter(path__in={r["scope_path"] for r in unit_rows}).values_list(
            "path", "name"
        )
    )
    for unit_row in unit_rows:
        unit_row["unit_name"] = names.get(unit_row["scope_path"], unit_row["scope_path"] or "—")
        unit_row["partner_label"] = PARTNERS.get(unit_row["partner"], unit_row["partner"])
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    synced_today = set(
        visible_to(SyncActivity.objects.filter(at__gte=today, succeeded=True), principal).values_list(
            "facility_id", flat=True
        )
    )
    facilities = visible_to(
        ReportingUnit.objects.filter(kind__in=FACILITY_KINDS, active=True), principal
    ).order_by("path")
    missing_today = [f for f in facilities if f.pk not in synced_today]
    alerts = []
    for row in rows:
        label = PARTNERS[row.partner]
        if row.silent:
            alerts.append(f"{label}: không gửi được quá {limits.silent_after.total_seconds() / 3600:g} giờ.")
        if row.backlog_alert:
            alerts.append(f"{label}: tồn đọng {row.backlog} mục (ngưỡng {limits.backlog_limit}).")
        if row.dead:
            alerts.append(f"{label}: {row.dead} mục gửi lỗi chờ gửi lại (exchange_replay).")
    return {
        "partners": [{"row": r, "label": PARTNERS[r.partner], "mode": MODES[r.partner]} for r in rows],
        "units": unit_rows,
        "dead": outbox.dead_letters(principal, limit=30),
        "receipts": outbox.recent_receipts(principal, "statistics", limit=10),
        "inbound": registers.sync_status(principal=principal, silent_days=inbound_silent_days),
        "missing_today": missing_today[:100],
        "missing_today_count": len(missing_today),
        "alerts": alerts,
        "stations": list(offline.station_syncs(principal)[:300]),
        "labels": PARTNERS,
        "failure_labels": dict(FailureKind.choices),
    }
