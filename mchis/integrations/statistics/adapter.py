"""Outbox entries of approved reports → one signed ADX (or dataValueSets) request per report."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.conf import settings

from mchis.outbox.models import OutboxEntry
from mchis.reports import exports
from mchis.reports.models import ReportInstance, ReportStatus

from ..exchange import engine, transport

NAME = "statistics"
TOPICS = ("report.approved",)
SUMMARY_KEYS = ("imported", "updated", "ignored", "deleted")


def _format() -> str:
    partner = getattr(settings, "EXCHANGE_PARTNERS", {}).get(NAME) or {}
    return str(partner.get("format", "adx"))


class StatisticsAdapter:
    name = NAME
    path = "/api/dataValueSets"

    def build(self, entries: Sequence[OutboxEntry]) -> engine.Payload:
        ids = [int(e.object_id) for e in entries]
        reports = {r.pk: r for r in ReportInstance.objects.select_related("form", "unit").filter(pk__in=ids)}
        gone = [e.pk for e in entries if int(e.object_id) not in reports]
        if gone:
            raise engine.BuildFailed(gone, "báo cáo không còn tồn tại")
        withdrawn = [e.pk for e in entries if reports[int(e.object_id)].status != ReportStatus.APPROVED]
        if withdrawn:  # un-approved before it left: the next approval queues it again
            raise engine.BuildFailed(withdrawn, "báo cáo đã bị hủy duyệt trước khi gửi")
        ordered = [reports[i] for i in ids]
        if _format() == "dhis2":
            body = json.dumps(exports.data_value_sets(ordered), ensure_ascii=False).encode("utf-8")
            return engine.Payload(body=body, content_type="application/json")
        return engine.Payload(body=exports.adx_document(ordered), content_type="application/adx+xml")

    def receipts(self, entries: Sequence[OutboxEntry], answer: transport.Response) -> dict[int, Any]:
        """The import summary (status, imported / updated / ignored / deleted, conflicts), per report."""
        try:
            data = json.loads(answer.body)
            counts = data["importCount"]
            summary = {
                "status": str(data["status"]),
                **{k: int(counts[k]) for k in SUMMARY_KEYS},
                "conflicts": [
                    {"object": str(c.get("object", "")), "value": str(c.get("value", ""))}
                    for c in data.get("conflicts") or []
                ][:50],
            }
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise engine.MalformedReceipt("tóm tắt nhập liệu (import summary) không hợp lệ") from exc
        return {e.pk: summary for e in entries}
