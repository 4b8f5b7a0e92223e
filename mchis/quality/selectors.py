"""Every read of the quality app, scoped through mchis.core.scoping (R-SEC-01)."""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from django.db.models import Count, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext

from mchis.core.principal import Principal
from mchis.core.scoping import access, scope_path_of, subtree_q, visible_to, visible_under
from mchis.places.models import Village
from mchis.registry.models import Child
from mchis.units.models import ReportingUnit

from .models import (
    AuditCampaign,
    CandidateStatus,
    CorrectiveTask,
    DuplicateCandidate,
    Finding,
    FindingStatus,
    QualitySnapshot,
)
from .rules import RULE_CRITERION, RULE_LABEL, Criterion
from .scores import month_start

COMMUNE_KINDS = ("tyt", "ubnd_xa", "child_protection")

# Scan report categories (Điều 16.1): duplicates, missing fields, illogical data, dead records.
REPORT_CATEGORIES = {
    "missing": ("Thiếu trường bắt buộc", ("DQ_MISSING", "DQ_NO_ID")),
    "illogical": (
        "Dữ liệu không logic",
        (
            "DQ_ID_FORMAT",
            "DQ_ID_MISMATCH",
            "DQ_DOB",
            "DQ_OVER_16",
            "DQ_PARENT_AGE",
            "DQ_CIRCUMSTANCE",
            "DQ_RESIDENCE",
            "DQ_CODE",
        ),
    ),  # fmt: skip
    "dead": ("Hồ sơ chết (không cập nhật)", ("DQ_DEAD",)),
}


def units_visible(principal: Principal) -> QuerySet[Any]:

    return visible_to(ReportingUnit.objects.all(), principal)


def unit_scores(principal: Principal, *, month: date | None = None) -> list[dict[str, Any]]:
    """Each commune-level unit's six scores for the month (latest snapshot)."""
    month = month or month_start()
    snaps = visible_to(QualitySnapshot.objects.filter(month=month, unit__kind__in=COMMUNE_KINDS), principal)
    rows: dict[int, dict[str, Any]] = {}
    for unit_id, name, code, crit, score, records in snaps.values_list(
        "unit_id", "unit__name", "unit__code", "criterion", "score", "records"
    ).order_by("unit__name"):
        row = rows.setdefault(
            unit_id, {"unit_id": unit_id, "name": name, "code": code, "records": records, "scores": {}}
        )
        row["scores"][crit] = score
    out = list(rows.values())
    for row in out:
        row["cells"] = [row["scores"].get(c) for c in Criterion.ALL]
    return out


def score_trend(principal: Principal, *, unit_id: int, months: int = 12) -> dict[str, Any]:
    """Monthly score series of one unit for the chart (JSON for ECharts)."""
    snaps = visible_to(QualitySnapshot.objects.filter(unit_id=unit_id), principal).order_by("month")
    by_month: dict[str, dict[str, float]] = defaultdict(dict)
    for m, crit, score in snaps.values_list("month", "criterion", "score"):
        by_month[m.strftime("%Y-%m")][crit] = score
    labels = sorted(by_month)[-months:]
    return {
        "months": labels,
        "series": [
            {
                "criterion": c,
                "name": gettext(Criterion.LABELS[c]),
                "data": [by_month[m].get(c) for m in labels],
            }
            for c in Criterion.ALL
        ],
    }


def findings(principal: Principal, **filters: Any) -> QuerySet[Finding]:
    qs = visible_to(Finding.objects.select_related("child", "unit"), principal)
    if filters.get("unit_id"):
        unit = ReportingUnit.objects.filter(pk=filters["unit_id"]).first()
        qs = visible_under(qs, unit, lookup="unit__path") if unit else qs.none()
    if filters.get("rule"):
        qs = qs.filter(rule_code=filters["rule"])
    if filters.get("criterion"):
        qs = qs.filter(criterion=filters["criterion"])
    qs = qs.filter(status=filters.get("status") or FindingStatus.OPEN)
    return qs.order_by("rule_code", "child_id")


def worst_rules(principal: Principal, *, unit_id: int | None = None, limit: int = 10) -> list[dict[str, Any]]:
    rows = (
        findings(principal, unit_id=unit_id)
        .values("rule_code")
        .annotate(n=Count("id"))
        .order_by("-n", "rule_code")[:limit]
    )
    return [
        {"rule": r["rule_code"], "label": gettext(RULE_LABEL.get(r["rule_code"], r["rule_code"])),
         "criterion": gettext(Criterion.LABELS.get(RULE_CRITERION.get(r["rule_code"], ""), "")), "count": r["n"]}
        for r in rows
    ]  # fmt: skip


def duplicate_queue(
    principal: Principal, *, status: str = CandidateStatus.OPEN
) -> QuerySet[DuplicateCandidate]:
    return (
        visible_to(DuplicateCandidate.objects.select_related("child_a", "child_b", "unit"), principal)
        .filter(status=status)
        .order_by("-probability", "id")
    )


def campaigns(principal: Principal) -> QuerySet[AuditCampaign]:
    path = scope_path_of(principal)
    qs = AuditCampaign.objects.select_related("audited_unit", "auditor_unit")
    if path is not None:
        qs = qs.filter(subtree_q("auditor_unit__path", path) | subtree_q("audited_unit__path", path))
    return qs.order_by("-created_at")


def campaign(principal: Principal, pk: int) -> AuditCampaign:

    try:
        return campaigns(principal).get(pk=pk)
    except (AuditCampaign.DoesNotExist, ValueError) as exc:
        raise Http404("Không tìm thấy.") from exc


def tasks(principal: Principal, *, only_open: bool = True) -> QuerySet[CorrectiveTask]:
    qs = visible_to(CorrectiveTask.objects.select_related("child", "unit", "campaign"), principal)
    if only_open:
        qs = qs.filter(status=CorrectiveTask.Status.OPEN)
    return qs.order_by("due_at")


def overdue_tasks(principal: Principal) -> QuerySet[CorrectiveTask]:
    return tasks(principal).filter(due_at__lt=timezone.now())


def scan_report(principal: Principal, *, unit_id: int | None = None) -> dict[str, Any]:
    """Báo cáo quét tự động (Điều 16.1): counts and records per category for a unit."""
    base = findings(principal, unit_id=unit_id)
    sections = []
    for key, (label, codes) in REPORT_CATEGORIES.items():
        qs = base.filter(rule_code__in=codes)
        sections.append({"key": key, "label": label, "count": qs.count(), "rows": qs[:200]})
    dups = duplicate_queue(principal)
    if unit_id:
        unit = ReportingUnit.objects.filter(pk=unit_id).first()
        dups = visible_under(dups, unit, lookup="unit__path") if unit else dups.none()
    return {"sections": sections, "duplicates": dups[:200], "duplicate_count": dups.count()}


# --- entry-time duplicate check (R-DQ-02), answered within the collector's own area (R-SEC-01) ------------

ELSEWHERE_NOTICE = "Có thể có hồ sơ trùng ở xã khác — hãy liên hệ tuyến huyện."


def entry_duplicates(
    principal: Principal, data: dict[str, Any], *, limit: int = 10
) -> tuple[list[Any], bool]:
    """(candidates the principal may see in full, whether a match exists outside its jurisdiction).

    The duplicate model searches the province (children move between communes); only candidates inside the
    principal's own unit subtree - for a station's collector, its commune - come back with names and
    links. A match elsewhere is reported as a bare yes, never with any personal detail: the district, which
    sees both communes, resolves it.
    """

    from .dedupe import find_possible_duplicates

    unit = principal.unit
    if unit is None or not data.get("full_name"):
        return [], False
    found = find_possible_duplicates(data, unit, limit=limit * 5)
    visible = visible_to(Child.objects.filter(public_id__in=[str(c.public_id) for c in found]), principal)
    mine = {str(public_id) for public_id in visible.values_list("public_id", flat=True)}
    local = [c for c in found if str(c.public_id) in mine]
    return local[:limit], len(local) < len(found)


# --- possible duplicates where the decision is made (R-DQ-02) ---------------------------------------------


def duplicate_warnings(
    principal: Principal, data: dict[str, Any], *, limit: int = 5
) -> tuple[list[dict[str, Any]], bool]:
    """What the person deciding sees: the existing children of their own area that may be the one in `data`
    (a draft or a pending create request) as plain data - match probability, the keys of the fields that
    differ - stored on the change request as evidence; and whether a match exists outside their area (a bare
    notice, `entry_duplicates`)."""

    from . import pairs

    if not (data.get("full_name") or "").strip():
        return [], False
    probe = dict(data)
    village = probe.get("village_id", probe.get("village"))
    village_id = getattr(village, "pk", village)
    if isinstance(village_id, str):
        village_id = int(village_id) if village_id.isdigit() else None
    probe["village_id"] = village_id
    found, elsewhere = entry_duplicates(principal, probe, limit=limit)
    if not found:
        return [], elsewhere
    shown = dict(probe)
    shown["village"] = str(Village.objects.filter(pk=village_id).first() or "") if village_id else ""
    children = {
        c.pk: c for c in Child.objects.select_related("village").filter(pk__in=[f.child_id for f in found])
    }
    out = []
    for cand in found:
        child = children.get(cand.child_id)
        if child is None:
            continue
        other = pairs.child_values(child)
        out.append(
            {
                "public_id": str(child.public_id),
                "full_name": child.full_name,
                "date_of_birth": child.date_of_birth.isoformat() if child.date_of_birth else "",
                "unit_name": cand.unit_name,
                "probability": round(float(cand.probability), 4),
                "differs": pairs.differing_keys(shown, other),
            }
        )
    return out, elsewhere


def duplicate_pair(principal: Principal, pk: int) -> dict[str, Any]:
    """One queued pair side by side, with the fields compared and the model's evidence (404 outside scope)."""

    from . import pairs

    cand = access(DuplicateCandidate.objects.select_related("child_a__village", "child_b__village", "unit",
                                                            "decided_by"), principal, pk=pk)  # fmt: skip
    a, b = pairs.child_values(cand.child_a), pairs.child_values(cand.child_b)
    return {
        "pair": cand,
        "rows": pairs.field_rows(a, b),
        "evidence": pairs.model_evidence(cand.child_a, cand.child_b),
    }


# --- how alike two records are, for a merge request (issue 10 item 4) -------------------------------------

CLEARLY_DIFFERENT = 0.5  # below this match probability a merge needs an explicit override reason


def pair_match_probability(first: Any, second: Any) -> float:
    """The duplicate model's probability that two children (model instances) are the same child."""
    from .dedupe import EXPORT_COLUMNS
    from .linkage import default_model, features, match_weight, probability

    def row(child: Any) -> dict[str, Any]:
        return {name: getattr(child, name, None) for name in EXPORT_COLUMNS}

    return probability(match_weight(features(row(first)), features(row(second)), default_model()))
