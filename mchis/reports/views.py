"""Report pages (thin): list per level, one report with its cells, timeline and actions, dashboards, forms."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mchis.accounts.permissions import can, require
from mchis.accounts.stepup import step_up_redirect
from mchis.core.cards import Card, register_card
from mchis.core.errors import DomainError, StepUpRequired, ValidationFailed
from mchis.core.http import AuthedRequest, content_disposition
from mchis.core.principal import Principal
from mchis.documents.selectors import current_signed_pdf

from . import exports, selectors, services, workflow
from .checks import run_rules
from .models import FormDefinition, ReportNotice, ReportStatus
from .periods import Period, parse_period, period_containing

VERBS: dict[str, Any] = {
    "submit": services.report_submit,
    "recall": services.report_recall,
    "approve": services.report_approve,
    "return": services.report_return,
    "request_unapproval": services.report_request_unapproval,
    "unapprove": services.report_unapprove,
}


def _default_period(kind: str = "monthly") -> Period:
    today = timezone.localdate()
    return period_containing(today, kind).previous(1)


def _period_arg(request: HttpRequest) -> Period:
    try:
        return parse_period(request.GET.get("period", "")) if request.GET.get("period") else _default_period()
    except ValueError as exc:
        raise Http404(str(exc)) from exc


@login_required
def report_list(request: AuthedRequest) -> HttpResponse:
    """Danh sách báo cáo phải lập trong phạm vi, theo kỳ và trạng thái."""
    require(request.user, "report.view")
    period = _period_arg(request)
    unit = request.user.unit
    if unit is None:
        raise Http404
    status = request.GET.get("status", "")
    rows = selectors.status_board(request.user, unit, period, status=status)
    return render(
        request,
        "reports/list.html",
        {
            "rows": rows,
            "period": period,
            "status": status,
            "statuses": [*ReportStatus.choices, ("late", "Quá hạn")],
            "notices": ReportNotice.objects.visible_to(request.user).filter(read_at__isnull=True)[:20],
        },
    )


@login_required
def report_detail(request: AuthedRequest, form: str, unit: str, period: str) -> HttpResponse:
    require(request.user, "report.view")
    view = selectors.report_view(request.user, form, unit, period)
    actions = selectors.actions_for(request.user, view)
    is_approver = view.approver is not None and _unit_pk(request.user) == view.approver.pk
    findings = run_rules(view.spec, view.values)
    boundary = (
        selectors.reaggregate_to_2025(request.user, view) if request.GET.get("boundary") == "2025" else None
    )
    editable = (
        view.status in (ReportStatus.DRAFT, ReportStatus.RETURNED)
        and _unit_pk(request.user) == view.unit.pk
        and can(request.user, "report.edit")
    )
    grid = exports.grid(view)
    if boundary is not None:
        for section in grid:
            for row in section["rows"]:
                for cell in row["cells"]:
                    if cell:
                        cell["value"] = boundary.values.get(cell["key"], 0)
    return render(
        request,
        "reports/detail.html",
        {
            "view": view,
            "grid": grid,
            "unit_grid": exports.unit_grid(view),
            "actions": [
                (a, gettext(workflow.ACTION_LABELS[a]), a in workflow.REASON_REQUIRED) for a in actions
            ],
            "timeline": selectors.timeline(view.report),
            "findings": findings,
            # events the delivery and death registers disagree on (R-MCH-08): a warning when sending
            "disagreements": selectors.disagreements(view),
            # outliers against the unit's own history: shown to the sender before sending and to the approver
            "outliers": [
                (key, view.spec.cell_label(key), flags)
                for key, flags in selectors.outlier_flags(view).items()
            ],
            "is_approver": is_approver,
            "editable": editable,
            "manual_cells": [
                {
                    "key": c.key,
                    "label": view.spec.cell_label(c.key),
                    "required": c.required,
                    "value": (view.report.manual_values or {}).get(c.key),
                }
                for c in view.spec.cells
                if c.manual
            ],
            "empty_required": services.empty_required_cells(view.spec, view.report.manual_values or {})
            if view.live
            else [],
            "rules_json": checks_json(view),
            "boundary": boundary,
            "pre2025": view.period.start < selectors.BOUNDARY_DATE and view.form.level == "commune",
        },
    )


def _unit_pk(principal: Principal) -> int | None:
    return principal.unit.pk if principal.unit is not None else None


def checks_json(view: selectors.ReportView) -> str:
    """The form's rules, formulas and current values as JSON for the checks island (reports/checks.js): the
    same rules ``report_submit`` runs, evaluated in the browser as manual values change."""

    def terms(ts: Any) -> list[list[Any]]:
        return [[t.sign, t.cell or None, t.constant] for t in ts]

    return json.dumps(
        {
            "rules": [
                {
                    "id": r.id,
                    "left": terms(r.left),
                    "op": r.op,
                    "right": terms(r.right),
                    "severity": r.severity,
                    "message": r.message or f"{r.id}: {r.describe()}",
                }
                for r in view.spec.rules
            ],
            "formulas": {c.key: terms(c.formula) for c in view.spec.cells if c.formula},
            "values": view.values,
            "manual": [c.key for c in view.spec.cells if c.manual],
        },
        ensure_ascii=False,
    )


@login_required
@require_POST
def report_action(request: AuthedRequest, form: str, unit: str, period: str, verb: str) -> HttpResponse:
    service = VERBS.get(verb)
    if service is None:
        raise Http404
    kwargs: dict[str, Any] = {"actor": request.user, "form_code": form, "unit_code": unit, "period": period}
    if verb == "submit":
        kwargs["warning_comment"] = request.POST.get("warning_comment", "")
        typed = {k[5:]: v for k, v in request.POST.items() if k.startswith("cell:")}
        if typed:
            # the submit button belongs to the manual-cells form: what is on screen is saved, then sent
            try:
                services.report_set_manual_values(
                    actor=request.user, form_code=form, unit_code=unit, period=period, values=typed
                )
            except ValidationFailed as exc:
                messages.error(request, "; ".join(str(e.get("message")) for e in exc.errors))
                return redirect("reports:detail", form=form, unit=unit, period=period)
            except DomainError as exc:
                messages.error(request, exc.message)
                return redirect("reports:detail", form=form, unit=unit, period=period)
    else:
        kwargs["reason"] = request.POST.get("reason", "")
    try:
        service(**kwargs)
        messages.success(
            request, _("Đã thực hiện: %(action)s.") % {"action": gettext(workflow.ACTION_LABELS[verb])}
        )
    except StepUpRequired:
        # un-approval changes approved data (R-SEC-04): verify the second factor, come back, submit again
        # (the form is kept and sent again after the check: the action completes without retyping)
        return step_up_redirect(request)
    except ValidationFailed as exc:
        messages.error(request, exc.message + " " + "; ".join(str(e.get("message")) for e in exc.errors))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("reports:detail", form=form, unit=unit, period=period)


@login_required
@require_POST
def report_manual(request: AuthedRequest, form: str, unit: str, period: str) -> HttpResponse:
    values = {k[5:]: v for k, v in request.POST.items() if k.startswith("cell:")}
    try:
        services.report_set_manual_values(
            actor=request.user, form_code=form, unit_code=unit, period=period, values=values
        )
        messages.success(request, "Đã lưu số liệu nhập tay.")
    except ValidationFailed as exc:
        messages.error(request, "; ".join(str(e.get("message")) for e in exc.errors))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("reports:detail", form=form, unit=unit, period=period)


@login_required
def report_excel(request: AuthedRequest, form: str, unit: str, period: str) -> HttpResponse:
    require(request.user, "report.view")
    view = selectors.report_view(request.user, form, unit, period)
    resp = HttpResponse(
        exports.excel_report(view),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    resp["Content-Disposition"] = content_disposition(f"{form}_{unit}_{period}.xlsx")
    return resp


@login_required
def report_pdf(request: AuthedRequest, form: str, unit: str, period: str) -> HttpResponse:
    require(request.user, "report.view")
    view = selectors.report_view(request.user, form, unit, period)
    signed = current_signed_pdf("report", view.report.pk) if view.report.pk else None  # issue 21
    resp = HttpResponse(
        signed or exports.pdf_report(view, request.build_absolute_uri("/")), content_type="application/pdf"
    )
    resp["Content-Disposition"] = content_disposition(f"{form}_{unit}_{period}.pdf", inline=True)
    return resp


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    """Tính đầy đủ, kịp thời: biểu đồ đọc JSON từ /api/v1/reports/dashboard."""
    require(request.user, "report.view")
    period = _period_arg(request)
    unit = request.user.unit
    if unit is None:
        raise Http404
    late = selectors.status_board(request.user, unit, period, status="late")
    return render(request, "reports/dashboard.html", {"period": period, "unit": unit, "late": late})


@login_required
def form_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, "report.view")
    return render(request, "reports/form_list.html", {"forms": FormDefinition.objects.all()})


@login_required
def form_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """Định nghĩa biểu và truy vấn đằng sau từng ô (dạng đọc được)."""
    require(request.user, "report.view")
    form = get_object_or_404(FormDefinition, pk=pk)
    spec = form.parsed()
    cells = spec.cell_map
    rows = [
        {"section": s, "row": r, "cells": [cells[f"{r.id}:{c}"] for c in r.columns]}
        for s in spec.sections
        for r in s.rows
    ]
    return render(
        request,
        "reports/form_detail.html",
        {"form": form, "spec": spec, "rows": rows, "columns": spec.column_map},
    )


@register_card
def _cards(user: Principal) -> list[Card]:
    if not user.is_authenticated:  # checked first: an anonymous visitor has no unit at all
        return []
    unit = user.unit
    if unit is None or not can(user, "report.view"):
        return []
    period = _default_period()
    # Approver = nearest ancestor of the approving kind; inside the leader's subtree that is the leader's unit
    # whenever the kinds match, so no per-report ancestor lookup is needed for the count.
    waiting = sum(
        1
        for r in selectors.report_list(user, period_start=period.start, status=ReportStatus.SUBMITTED)
        if workflow.APPROVER_KIND.get(r.unit.kind) == unit.kind
        and workflow.check("approve", user, status=r.status, unit=r.unit, approver=unit) is None
    )
    return [
        Card(
            f"Báo cáo chờ duyệt ({period.label()})",
            waiting,
            f"/reports/?period={period.code}&status=submitted",
        )
    ]
