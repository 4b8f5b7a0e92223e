"""Audit minutes (biên bản phúc tra, QĐ 3978 Điều 17; R-DQ-07) rendered to PDF with WeasyPrint."""

from __future__ import annotations

from collections import Counter
from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from .models import AuditCampaign, AuditFieldResult, ErrorClass


def minutes_context(c: AuditCampaign) -> dict[str, Any]:
    samples = list(c.samples.select_related("child", "child__village").prefetch_related("results"))
    results = AuditFieldResult.objects.filter(sample__campaign=c, matches=False)
    by_class = Counter(results.values_list("error_class", flat=True))
    from .services import AUDIT_FIELDS

    with_errors = [s for s in samples if s.is_junk or any(not r.matches for r in s.results.all())]
    error_rows = [
        {"child": s.child.full_name, "field": AUDIT_FIELDS.get(r.field, r.field), "r": r}
        for s in with_errors
        for r in s.results.all()
        if not r.matches
    ]
    return {
        "c": c,
        "auditors": list(c.auditors.order_by("username")),
        "checked": sum(1 for s in samples if s.checked),
        "sample_count": len(samples),
        "with_errors": with_errors,
        "error_rows": error_rows,
        "junk": [s for s in with_errors if s.is_junk],
        "errors_by_class": [(label, by_class.get(value, 0)) for value, label in ErrorClass.choices],
        "total_errors": sum(by_class.values()),
        "tasks": list(c.tasks.select_related("child").order_by("kind", "id")),
        "now": timezone.localtime(),
    }


def render_minutes_html(c: AuditCampaign) -> str:
    return render_to_string("quality/minutes.html", minutes_context(c))


def render_minutes_pdf(c: AuditCampaign) -> bytes:
    from weasyprint import HTML

    return HTML(string=render_minutes_html(c)).write_pdf()
