"""Quality scores per unit and criterion (điểm chất lượng theo 6 tiêu chí, R-DQ-01).

score = 100 × (1 − children with an open finding of that criterion / active children of the unit).
"Sạch" also counts children in an open duplicate pair. Recomputed per unit (incremental: only the units
whose findings changed) into this month's `QualitySnapshot`; past months stay as the trend.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from django.db.models import Count
from django.utils import timezone

from mchis.core.changes import unit_months_changed
from mchis.registry.models import Child

from .models import CandidateStatus, DuplicateCandidate, Finding, FindingStatus, QualitySnapshot
from .rules import Criterion


def month_start(day: date | None = None) -> date:
    day = day or timezone.localdate()
    return day.replace(day=1)


def score(records: int, bad: int) -> float:
    if records <= 0:
        return 100.0
    return round(100.0 * (1 - min(bad, records) / records), 2)


def refresh_unit_scores(*, unit_ids: Iterable[int], month: date | None = None) -> int:

    ids = sorted(set(unit_ids))
    if not ids:
        return 0
    month = month or month_start()
    totals = dict(
        Child.objects.filter(unit_id__in=ids, status="active")
        .values_list("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )
    bad: dict[tuple[int, str], int] = {}
    for uid, crit, n in (
        Finding.objects.filter(unit_id__in=ids, status=FindingStatus.OPEN)
        .values("unit_id", "criterion")
        .annotate(n=Count("child_id", distinct=True))
        .values_list("unit_id", "criterion", "n")
    ):
        bad[(uid, crit)] = n
    for uid, n in (
        DuplicateCandidate.objects.filter(unit_id__in=ids, status=CandidateStatus.OPEN)
        .values("unit_id")
        .annotate(n=Count("child_b", distinct=True))
        .values_list("unit_id", "n")
    ):
        bad[(uid, Criterion.SACH)] = bad.get((uid, Criterion.SACH), 0) + n
    rows = [
        QualitySnapshot(
            unit_id=uid,
            month=month,
            criterion=crit,
            records=totals.get(uid, 0),
            records_with_findings=bad.get((uid, crit), 0),
            score=score(totals.get(uid, 0), bad.get((uid, crit), 0)),
        )
        for uid in ids
        for crit in Criterion.ALL
    ]
    QualitySnapshot.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["unit", "month", "criterion"],
        update_fields=["records", "records_with_findings", "score", "computed_at"],
    )
    unit_months_changed((uid, month) for uid in ids)  # analytics: the six criteria scores
    return len(rows)
