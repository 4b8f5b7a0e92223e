"""Every write to the published-data store: publish, revise, withdraw, and following report approvals.

Only the analytics store's approved values are read (``sources``: the indicators of issue 15, brought up to
date first), at publish or revision time only; the disclosure rules are applied before anything is stored
(``figures``); each act is audited in its transaction (``core.audit.log_event``). A report's approval or
un-approval reaches the published figures through ``core.changes.report_figures_changed`` (after commit,
``figures_follow_approval``, ADR 0076).
A Ministry unit publishes for the nation (national, provincial and lower levels of every province); a Sở Y tế
or provincial CDC for its own province (the province and its districts).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.utils import timezone

from mchis.accounts.permissions import require, require_person
from mchis.analytics.store import recompute_now, recompute_pending
from mchis.core.audit import log_event
from mchis.core.changes import ReportFiguresChange
from mchis.core.errors import Conflict, DomainError, PermissionDeniedError
from mchis.core.principal import Principal, person_or_none
from mchis.reports.periods import parse_period
from mchis.units.models import ReportingUnit, UnitKind

from . import figures
from .disclosure import LEVELS, Rules, rules_from
from .models import Publication, PublicationStatus, PublishedFigure, PublishedStatistic
from .sources import area_values, first_day
from .statistics import BY_KEY, Statistic

log = logging.getLogger(__name__)

NATIONAL_KINDS = frozenset({UnitKind.MINISTRY, UnitKind.MINISTRY_DEPT})
PROVINCE_KINDS = frozenset({UnitKind.DOH, UnitKind.CDC})
MAX_MONTHS = 60


def rules() -> Rules:
    return rules_from(getattr(settings, "PORTAL_DISCLOSURE", None))


@dataclass(frozen=True)
class Territory:
    root_path: str  # '' = the nation
    levels: tuple[str, ...]  # the levels this publisher may publish


def _unit(actor: Principal) -> ReportingUnit:
    unit = getattr(actor, "unit", None)
    if unit is None:
        raise PermissionDeniedError("Tài khoản không thuộc đơn vị nào.", code="forbidden")
    return unit


def territory_of(actor: Principal) -> Territory:
    """The Ministry publishes for the nation; a Sở Y tế / provincial CDC for its province; nobody else."""
    unit = getattr(actor, "unit", None)
    allowed = tuple(lvl for lvl in LEVELS if rules().publishes(lvl))
    if unit is not None and unit.kind in NATIONAL_KINDS:
        return Territory("", allowed)
    if unit is not None and unit.kind in PROVINCE_KINDS:
        doh = unit if unit.kind == UnitKind.DOH else unit.parent
        if doh is not None and doh.kind == UnitKind.DOH:
            return Territory(doh.path, tuple(lvl for lvl in allowed if lvl != "national"))
    raise PermissionDeniedError(
        "Chỉ Bộ Y tế (Vụ/Cục) hoặc Sở Y tế, CDC tỉnh được công bố số liệu thống kê.", code="forbidden"
    )


def _validate(
    territory: Territory, statistics: list[str], levels: list[str], periods: list[str]
) -> tuple[list[Statistic], list[str], list[str]]:
    unknown = [s for s in statistics if s not in BY_KEY or not BY_KEY[s].resolves()]
    if not statistics or unknown:
        msg = (
            f"Chỉ tiêu không có trong danh mục: {', '.join(unknown)}."
            if unknown
            else "Chọn ít nhất một chỉ tiêu."
        )
        raise DomainError(msg, field="statistics")
    bad = [lvl for lvl in levels if lvl not in territory.levels]
    if not levels or bad:
        msg = (
            f"Không được công bố ở cấp: {', '.join(bad)} (cho phép: {', '.join(territory.levels)})."
            if bad
            else "Chọn ít nhất một cấp."
        )
        raise DomainError(msg, field="levels")
    months: list[str] = []
    this_month = timezone.localdate().replace(day=1)
    for text in periods:
        try:
            period = parse_period(text.strip())
        except ValueError as exc:
            raise DomainError(str(exc), field="periods") from exc
        if period.type != "monthly":
            raise DomainError(
                f"Kỳ '{text}': chọn từng tháng (YYYY-MM); số liệu năm là tổng các tháng.", field="periods"
            )
        if period.start >= this_month:
            raise DomainError(f"Tháng {period.start:%m/%Y} chưa kết thúc: chưa thể công bố.", field="periods")
        months.append(period.code)
    months = sorted(set(months))
    if not months:
        raise DomainError("Chọn ít nhất một tháng.", field="periods")
    if len(months) > MAX_MONTHS:
        raise DomainError(f"Mỗi lần công bố tối đa {MAX_MONTHS} tháng.", field="periods")
    stats = [BY_KEY[s] for s in dict.fromkeys(statistics)]
    return stats, [lvl for lvl in LEVELS if lvl in levels], months


def _compute(
    stats: list[Statistic],
    levels: list[str],
    months: list[str],
    root_path: str,
    *,
    bring_current: bool = True,
) -> list[figures.FigureRow]:
    """The figures from the analytics store's approved values; `bring_current` first recomputes the dirty
    unit-months of those months (publish what is approved now, not what a lagging worker has reached)."""
    if bring_current:
        recompute_pending([first_day(m) for m in months], root_path)
    return figures.build(stats, levels, area_values(stats, levels, months, root_path), rules())


def _store_definitions(stats: list[Statistic]) -> None:
    from .statistics import CATALOGUE

    order = {s.key: i for i, s in enumerate(CATALOGUE)}
    for s in stats:
        PublishedStatistic.objects.update_or_create(
            key=s.key,
            defaults={
                "name": s.name, "name_en": s.name_en, "definition": s.definition,
                "definition_en": s.definition_en, "source": s.source(), "source_en": s.source_en(),
                "kind": s.kind, "factor": s.factor, "unit": s.unit, "unit_en": s.unit_en, "order": order[s.key],
            },
        )  # fmt: skip


def _figure(publication: Publication, row: figures.FigureRow, today: date) -> PublishedFigure:
    return PublishedFigure(
        publication=publication, statistic=row.statistic, period=row.period, months=row.months, level=row.level,
        area_code=row.area_code, area_name=row.area_name, province_code=row.province_code,
        area_path=row.area_path, value=row.value, numerator=row.numerator, denominator=row.denominator,
        suppressed=row.suppressed, suppression=row.suppression, flag=row.flag,
        reports_approved=row.reports_approved, reports_expected=row.reports_expected, published_on=today,
    )  # fmt: skip


def _conflicts(rows: list[figures.FigureRow], exclude: int) -> list[str]:
    keys = {r.key for r in rows}
    taken = PublishedFigure.objects.filter(
        publication__status=PublicationStatus.PUBLISHED,
        statistic__in={k[0] for k in keys},
        period__in={k[1] for k in keys},
        area_code__in={k[2] for k in keys},
    ).exclude(publication_id=exclude)
    return sorted(
        {
            f"{t.statistic} {t.period} {t.area_name}"
            for t in taken
            if (t.statistic, t.period, t.area_code) in keys
        }
    )


@transaction.atomic
def publication_publish(
    *, actor: Principal, title: str, statistics: list[str], levels: list[str], periods: list[str]
) -> Publication:
    """Công bố: freezes the approved values (analytics) of the chosen statistics, levels and months."""
    require(actor, "portal.publish")
    require_person(actor)
    territory = territory_of(actor)
    title = (title or "").strip()
    if not title:
        raise DomainError("Nhập tên đợt công bố.", field="title")
    stats, levels, months = _validate(territory, statistics, levels, periods)
    rows = _compute(stats, levels, months, territory.root_path)
    if not rows:
        raise DomainError(
            "Chưa có báo cáo nào được duyệt cho các tháng đã chọn: không có số liệu để công bố.",
            field="periods",
        )
    clash = _conflicts(rows, exclude=0)
    if clash:
        raise Conflict(
            "Một số số liệu đã được công bố trong đợt khác (hãy cập nhật đợt đó): " + "; ".join(clash[:5]),
            code="already_published",
        )
    now = timezone.now()
    publication = Publication.objects.create(
        title=title[:200], owner_unit=_unit(actor), root_path=territory.root_path, statistics=[s.key for s in stats],
        levels=levels, periods=months, published_at=now, published_by=person_or_none(actor),
    )  # fmt: skip
    _store_definitions(stats)
    PublishedFigure.objects.bulk_create([_figure(publication, r, now.date()) for r in rows])
    log_event(
        actor=actor, action="portal.publish", object_type="publication", object_id=publication.pk,
        scope_path=_unit(actor).path,
        changes={
            "statistics": [None, publication.statistics], "levels": [None, levels], "periods": [None, months],
            "figures": [None, len(rows)], "suppressed": [None, sum(r.suppressed for r in rows)],
        },
    )  # fmt: skip
    return publication


def _publication_for(actor: Principal, publication_id: int) -> Publication:
    from mchis.core.scoping import visible_to

    publication = visible_to(Publication.objects.select_for_update(), actor).filter(pk=publication_id).first()
    if publication is None:
        raise Http404("Không tìm thấy đợt công bố.")
    return publication


def _refresh(publication: Publication, today: date, *, bring_current: bool = True) -> dict[str, int]:
    """Recompute a publication's figures from the approved values now; changed values become revisions."""
    stats = [BY_KEY[k] for k in publication.statistics if k in BY_KEY and BY_KEY[k].resolves()]
    computed = _compute(
        stats, publication.levels, publication.periods, publication.root_path, bring_current=bring_current
    )
    rows = {r.key: r for r in computed}
    old = {(f.statistic, f.period, f.area_code): f for f in publication.figures.all()}
    revised = added = removed = 0
    for key, f in old.items():
        row = rows.get(key)
        if row is None:
            f.delete()
            removed += 1
            continue
        changed = row.value != f.value or row.suppressed != f.suppressed
        new = _figure(publication, row, f.published_on)
        new.pk = f.pk
        new.under_review_since = None
        if changed:
            revised += 1
            new.revised_on = today
            new.previous_value = None if row.suppressed or f.suppressed else f.value
        else:
            new.revised_on, new.previous_value = f.revised_on, f.previous_value
            if row.suppressed:
                new.previous_value = None
        new.save()
    fresh = [_figure(publication, r, today) for k, r in rows.items() if k not in old]
    PublishedFigure.objects.bulk_create(fresh)
    added = len(fresh)
    return {"revised": revised, "added": added, "removed": removed}


@transaction.atomic
def publication_revise(
    *,
    actor: Principal,
    publication_id: int,
    periods: list[str] | None = None,
    statistics: list[str] | None = None,
    levels: list[str] | None = None,
) -> Publication:
    """Cập nhật: recompute from the approved values (optionally with other months, statistics or levels);
    every figure whose value changed is shown as revised with today's date and its previous value."""
    require(actor, "portal.publish")
    require_person(actor)
    territory = territory_of(actor)
    publication = _publication_for(actor, publication_id)
    if publication.status != PublicationStatus.PUBLISHED:
        raise Conflict("Đợt công bố đã ngừng: không thể cập nhật.", code="invalid_state")
    stats, levels_, months = _validate(
        territory,
        statistics if statistics is not None else publication.statistics,
        levels if levels is not None else publication.levels,
        periods if periods is not None else publication.periods,
    )
    before = {
        "statistics": publication.statistics,
        "levels": publication.levels,
        "periods": publication.periods,
    }
    publication.statistics, publication.levels, publication.periods = [s.key for s in stats], levels_, months
    rows = _compute(stats, levels_, months, publication.root_path)
    clash = _conflicts(rows, exclude=publication.pk)
    if clash:
        raise Conflict(
            "Một số số liệu đã được công bố trong đợt khác: " + "; ".join(clash[:5]), code="already_published"
        )
    now = timezone.now()
    _store_definitions(stats)
    counts = _refresh(publication, now.date())
    publication.version += 1
    publication.revised_at = now
    publication.save()
    log_event(
        actor=actor, action="portal.revise", object_type="publication", object_id=publication.pk,
        scope_path=_unit(actor).path,
        changes={
            **{k: [v, getattr(publication, k)] for k, v in before.items() if v != getattr(publication, k)},
            "version": [publication.version - 1, publication.version],
            **{k: [None, v] for k, v in counts.items()},
        },
    )  # fmt: skip
    return publication


@transaction.atomic
def publication_unpublish(*, actor: Principal, publication_id: int, reason: str) -> Publication:
    """Ngừng công bố: the figures leave the public pages and downloads at once (kept for the record)."""
    require(actor, "portal.publish")
    require_person(actor)
    territory_of(actor)
    reason = (reason or "").strip()
    if not reason:
        raise DomainError("Vui lòng nhập lý do.", field="reason", code="reason_required")
    publication = _publication_for(actor, publication_id)
    if publication.status != PublicationStatus.PUBLISHED:
        raise Conflict("Đợt công bố đã ngừng trước đó.", code="invalid_state")
    publication.status = PublicationStatus.WITHDRAWN
    publication.withdrawn_at = timezone.now()
    publication.save()
    log_event(
        actor=actor, action="portal.unpublish", object_type="publication", object_id=publication.pk,
        scope_path=_unit(actor).path, changes={"status": ["published", "withdrawn"]}, reason=reason,
    )  # fmt: skip
    return publication


def _affected_ids(change: ReportFiguresChange) -> set[int]:
    """Publications in force with a figure that the unit's month feeds (its month or year, an area above it)."""
    periods = {change.period, change.period[:4]}
    return {
        pid
        for pid, path in PublishedFigure.objects.filter(
            publication__status=PublicationStatus.PUBLISHED, period__in=periods
        )
        .values_list("publication_id", "area_path")
        .distinct()
        if change.unit_path.startswith(path)
    }


def _affected(change: ReportFiguresChange) -> list[Publication]:
    return list(Publication.objects.select_for_update().filter(pk__in=_affected_ids(change)))


def figures_follow_approval(change: ReportFiguresChange) -> None:
    """After a monthly report's approval changes (``core.changes.report_figures_changed``, after commit): an
    un-approval puts the published figures it fed under review (the value stays, marked with the date); an
    approval brings the analytics store up to date for that unit-month (the worker may not have run yet), then
    recomputes the figures, and a changed value is published as a revision with its date and previous value."""
    if change.approved is None or "-" not in change.period:  # only monthly reports feed the store's months
        return
    if not _affected_ids(change):  # nothing published from it: the worker keeps the store, as usual
        return
    if change.approved:
        recompute_now([(change.unit_id, change.month)])
    _follow(change)


@transaction.atomic
def _follow(change: ReportFiguresChange) -> None:
    publications = _affected(change)
    today = timezone.localdate()
    for publication in publications:
        if not change.approved:
            n = 0
            for f in publication.figures.filter(period__in=[change.period, change.period[:4]]):
                if change.unit_path.startswith(f.area_path) and f.under_review_since is None:
                    f.under_review_since = today
                    f.save(update_fields=["under_review_since"])
                    n += 1
            counts: dict[str, Any] = {"under_review": n}
        else:
            counts = _refresh(publication, today, bring_current=False)  # its unit-month: recompute_now
            if counts["revised"]:
                publication.revised_at = timezone.now()
        publication.save()  # a new stamp: the public cache is recomputed
        log_event(
            actor=None, object_type="publication", object_id=publication.pk,
            action="portal.follow_approve" if change.approved else "portal.follow_unapprove",
            scope_path=publication.owner_unit.path,
            changes={"report": [None, f"{change.form_code} {change.period}"], **{k: [None, v] for k, v in counts.items()}},
        )  # fmt: skip
