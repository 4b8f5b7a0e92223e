"""`generate_demo --registers N --publish`: the public portal is not empty in the demo.

The commune reports (Biểu 3/BCX) of the stations under the province's first ``districts`` TTYT are submitted by
a demo reporter of each station and approved by a demo leader of each TTYT, through the reports services (the
same rules, snapshots, locks and audit rows as by hand), for the last ``months`` months; then a demo leader
of the Ministry's MCH department publishes them (national, province and district levels) through the portal
services. The generator acts for those synthetic approvers as if they had just confirmed their second factor
(the demo has no authenticator).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from mchis.accounts.roles import Role
from mchis.accounts.services import account_create
from mchis.core.context import current_meta, reset_meta, set_meta
from mchis.core.errors import DomainError
from mchis.portal.models import Publication, PublicationStatus
from mchis.portal.services import publication_publish, publication_revise
from mchis.portal.statistics import CATALOGUE
from mchis.reports import services as reports
from mchis.reports.selectors import APPROVED, report_view
from mchis.units.models import ReportingUnit, UnitKind

from .registers import month_starts
from .tree import MINISTRY_DEPT_CODE


@dataclass
class PublishReport:
    approved: int
    skipped: list[str]
    figures: int


def _demo_account(role: str, unit: ReportingUnit) -> Any:
    User = get_user_model()
    username = f"demo_{role}_{unit.code.lower()}"
    existing = User.objects.filter(username=username).first()
    if existing is not None:
        return existing
    user, _ = account_create(actor=None, username=username, unit=unit, role=role)
    return user


def demo_publish(*, province_code: str, months: int, as_of: date, districts: int = 2) -> PublishReport:
    doh = ReportingUnit.objects.get(code=f"SYT{province_code}")
    ttyts = list(
        ReportingUnit.objects.subtree_of(doh).filter(kind=UnitKind.TTYT).order_by("code")[:districts]
    )
    if not ttyts:
        raise DomainError("Chưa có cây đơn vị của tỉnh: chạy generate_demo trước.", field="province")
    periods = [f"{m:%Y-%m}" for m in month_starts(as_of, months)]
    token = set_meta(replace(current_meta(), step_up_at=timezone.now()))
    approved, skipped = 0, []
    try:
        for ttyt in ttyts:
            leader = _demo_account(Role.LEADER, ttyt)
            for tyt in ReportingUnit.objects.filter(parent=ttyt, kind=UnitKind.TYT).order_by("code"):
                reporter = _demo_account(Role.REPORTER, tyt)
                for period in periods:
                    try:
                        approved += _approve(reporter, leader, tyt.code, period)
                    except DomainError as exc:
                        skipped.append(f"{tyt.code} {period}: {exc.message}")
        dept = ReportingUnit.objects.get(code=MINISTRY_DEPT_CODE)
        publisher = _demo_account(Role.LEADER, dept)
        existing = Publication.objects.filter(owner_unit=dept, status=PublicationStatus.PUBLISHED).first()
        if existing is not None:
            publication = publication_revise(actor=publisher, publication_id=existing.pk, periods=periods)
        else:
            publication = publication_publish(
                actor=publisher,
                title=f"Số liệu SKBMTE {periods[0]}–{periods[-1]} (mô phỏng)",
                statistics=[s.key for s in CATALOGUE],
                levels=["national", "province", "district"],
                periods=periods,
            )
    finally:
        reset_meta(token)
    return PublishReport(approved, skipped, publication.figures.count())


@transaction.atomic
def _approve(reporter: Any, leader: Any, unit_code: str, period: str) -> int:
    """Submit (required manual cells typed as 0) and approve one commune report; 0 if already approved."""
    args = {"form_code": "BCX3", "unit_code": unit_code, "period": period}
    view = report_view(reporter, "BCX3", unit_code, period)
    if view.status in APPROVED:
        return 0
    if view.status in ("draft", "returned"):
        empty = reports.empty_required_cells(view.spec, view.report.manual_values or {})
        if empty:
            reports.report_set_manual_values(actor=reporter, values=dict.fromkeys(empty, 0), **args)
        reports.report_submit(actor=reporter, warning_comment="Số liệu mô phỏng (demo).", **args)
    reports.report_approve(actor=leader, **args)
    return 1
