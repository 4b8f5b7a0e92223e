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
    from .services import _leader_of

    leader = _leader_of(c.audited_unit)
    return {
        "c": c,
        "auditors": [_person(a) for a in c.auditors.order_by("last_name", "first_name", "username")],
        "head": _person(c.signed_by or c.created_by),
        "unit_leader": _person(leader) if leader else "",
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


def _person(user: Any) -> str:
    """A person as the minutes name them: full name (and the account in brackets), never a bare login."""
    full = " ".join(f"{user.last_name} {user.first_name}".split())  # Vietnamese order: family name first
    return f"{full} ({user.username})" if full else user.username


def render_minutes_html(c: AuditCampaign) -> str:
    return render_to_string("quality/minutes.html", minutes_context(c))


def render_minutes_pdf(c: AuditCampaign) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=render_minutes_html(c)).write_pdf()
    return pdf
