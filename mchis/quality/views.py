"""Thin views: data-quality dashboard, findings, duplicate review, audits (phúc tra), scan report."""

from __future__ import annotations

import io
from datetime import date as _date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mchis.accounts.permissions import can, require
from mchis.core.audit import log_export
from mchis.core.errors import DomainError, ValidationFailed
from mchis.core.http import AuthedRequest
from mchis.core.scoping import access, scope_path_of
from mchis.core.spreadsheets import workbook
from mchis.registry.validation import ParseError, parse_date

from . import selectors, services
from .models import AuditKind, AuditSample, DuplicateCandidate, ErrorClass, Finding, MismatchCause
from .pairs import display_rows
from .rules import RULE_LABEL, RULES, Criterion


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _fail(request: HttpRequest, exc: DomainError) -> None:
    if isinstance(exc, ValidationFailed):
        for err in exc.errors:
            messages.error(request, str(err.get("message")))
    else:
        messages.error(request, exc.message)


@login_required
def dashboard(request: AuthedRequest) -> HttpResponse:
    require(request.user, "quality.view")
    unit_id = _int(request.GET.get("unit"))
    rows = selectors.unit_scores(request.user)
    return render(request, "quality/dashboard.html", {
        "rows": rows, "criteria": [gettext(Criterion.LABELS[c]) for c in Criterion.ALL],
        "worst": selectors.worst_rules(request.user, unit_id=unit_id), "unit_id": unit_id or (rows[0]["unit_id"] if rows else ""),
    })  # fmt: skip


@login_required
def scores_json(request: AuthedRequest) -> JsonResponse:
    """Selector endpoint for the trend chart (ECharts reads it from static/quality/scores.js)."""
    require(request.user, "quality.view")
    unit_id = _int(request.GET.get("unit"))
    if unit_id is None:
        raise Http404
    access(selectors.units_visible(request.user), request.user, pk=unit_id)
    return JsonResponse(selectors.score_trend(request.user, unit_id=unit_id))


@login_required
def finding_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, "quality.view")
    filters: dict[str, Any] = {k: request.GET.get(k) for k in ("rule", "criterion", "status")}
    filters["unit_id"] = _int(request.GET.get("unit"))
    qs = selectors.findings(request.user, **filters)
    shown = list(qs[:500])
    for finding in shown:  # the rule in words (its code is for the filter's URL only)
        finding.rule_label = gettext(RULE_LABEL.get(finding.rule_code, finding.rule_code))  # type: ignore[attr-defined]
    return render(request, "quality/findings.html", {
        "findings": shown, "total": qs.count(), "filters": filters, "rules": RULES,
        "criteria": [(c, gettext(label)) for c, label in Criterion.LABELS.items()], "can_review": can(request.user, "quality.review"),
    })  # fmt: skip


@login_required
@require_POST
def finding_accept(request: AuthedRequest, pk: int) -> HttpResponse:
    finding = access(Finding.objects.select_related("unit"), request.user, pk=pk)
    try:
        services.finding_accept(actor=request.user, finding=finding, reason=request.POST.get("reason", ""))
        messages.success(request, _("Đã chấp nhận phát hiện (có lý do)."))
    except DomainError as exc:
        _fail(request, exc)
    return redirect(request.POST.get("next") or "quality:findings")


@login_required
def duplicate_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, "quality.view")
    qs = selectors.duplicate_queue(request.user)
    return render(request, "quality/duplicates.html", {
        "pairs": qs[:200], "total": qs.count(), "can_review": can(request.user, "quality.review"),
    })  # fmt: skip


@login_required
def duplicate_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    """Both records side by side, the differing fields marked, and the model's evidence for the pair."""
    require(request.user, "quality.view")
    ctx = selectors.duplicate_pair(request.user, pk)
    return render(
        request, "quality/duplicate.html", {**ctx, "can_review": can(request.user, "quality.review")}
    )


@login_required
@require_POST
def duplicate_decide(request: AuthedRequest, pk: int, decision: str) -> HttpResponse:
    cand = access(DuplicateCandidate.objects.all(), request.user, pk=pk)
    try:
        if decision == "confirm":
            services.duplicate_confirm(actor=request.user, candidate=cand, survivor_id=_int(request.POST.get("survivor")),
                                       reason=request.POST.get("reason", ""))  # fmt: skip
            messages.success(request, _("Đã xác nhận trùng và gửi đề nghị gộp hồ sơ."))
        else:
            services.duplicate_reject(
                actor=request.user, candidate=cand, reason=request.POST.get("reason", "")
            )
            messages.success(request, _("Đã ghi nhận: không phải hồ sơ trùng."))
    except DomainError as exc:
        _fail(request, exc)
        return redirect("quality:duplicate", pk=cand.pk)
    return redirect("quality:duplicates")


@login_required
def check_child_fragment(request: HttpRequest) -> HttpResponse:
    """htmx fragment for the registry's entry form, refreshed as name, date of birth and parents are typed:
    inline rule warnings and the likely existing children of the commune (R-DQ-02) with the match
    probability and the fields that differ, plus the "đây là trẻ khác" confirmation (kept as typed)."""

    from .engine import evaluate_child

    user: Any = request.user
    require(user, "child.view")
    data: dict[str, Any] = {k: request.GET.get(k, "").strip() for k in (
        "full_name", "sex", "ethnicity_code", "personal_id", "mother_name", "father_name", "guardian_name",
        "guardian_relationship",
    )}  # fmt: skip
    try:
        iso = parse_date(request.GET.get("date_of_birth", ""), "date_of_birth")
        data["date_of_birth"] = _date.fromisoformat(iso) if iso else None
    except (ValueError, ParseError):
        data["date_of_birth"] = None
    for key in ("commune", "village"):
        data[f"{key}_id"] = _int(request.GET.get(key) or request.GET.get(f"{key}_id"))
    data["unit_id"] = user.unit.pk if user.unit else None
    data["commune_id"] = data["commune_id"] or (user.unit.admin_unit_id if user.unit else None)
    findings = evaluate_child(data) if data["full_name"] else []
    candidates, elsewhere = selectors.duplicate_warnings(user, data)
    return render(request, "quality/_check.html", {
        "findings": findings, "candidates": display_rows(candidates), "elsewhere": elsewhere,
        "not_duplicate": request.GET.get("not_duplicate") == "on",
        "not_duplicate_reason": request.GET.get("not_duplicate_reason", ""),
    })  # fmt: skip


# --- audits -------------------------------------------------------------------------------------------


@login_required
def campaign_list(request: HttpRequest) -> HttpResponse:
    user: Any = request.user
    require(user, "quality.view") if not can(user, "audit_campaign.manage") else None
    auditable = []
    if can(user, "audit_campaign.manage") and user.unit is not None:
        auditable = [u for u in selectors.units_visible(user).exclude(pk=user.unit.pk)
                     if services.can_audit(user.unit, u)]  # fmt: skip
        if services.can_audit(user.unit, user.unit):
            auditable.insert(0, user.unit)
    if request.method == "POST":
        unit = next((u for u in auditable if u.pk == _int(request.POST.get("audited_unit"))), None)
        try:
            if unit is None:
                raise DomainError(_("Chọn đơn vị được phúc tra."), field="audited_unit")
            rate = float(request.POST.get("sample_rate") or 5) / 100
            minimum = _int(request.POST.get("minimum_sample")) or 30
            c = services.campaign_create(actor=user, audited_unit=unit, kind=request.POST.get("kind", "desk"),
                                         sample_rate=rate, minimum_sample=minimum)  # fmt: skip
            return redirect("quality:campaign", pk=c.pk)
        except (DomainError, ValueError) as exc:
            _fail(request, exc if isinstance(exc, DomainError) else DomainError(_("Tỷ lệ mẫu không hợp lệ.")))
    return render(request, "quality/campaigns.html", {
        "campaigns": selectors.campaigns(user)[:100], "auditable": auditable, "kinds": AuditKind.choices,
    })  # fmt: skip


@login_required
def campaign_detail(request: AuthedRequest, pk: int) -> HttpResponse:
    c = selectors.campaign(request.user, pk)
    samples = list(
        c.samples.select_related("child", "child__village")
        .prefetch_related("results")
        .order_by("stratum", "id")
    )
    for s in samples:  # which fields did not match, by name (the list shows them)
        s.mismatched = [services.AUDIT_FIELDS.get(r.field, r.field) for r in s.results.all() if not r.matches]  # type: ignore[attr-defined]
    return render(request, "quality/campaign.html", {
        "c": c, "samples": samples, "checked": sum(1 for s in samples if s.checked),
        "mismatched": sum(1 for s in samples if s.is_junk or s.mismatched),  # type: ignore[attr-defined,misc]
        "first_todo": next((s for s in samples if not s.checked), None),
        "tasks": c.tasks.select_related("child").order_by("kind"), "can_manage": can(request.user, "audit_campaign.manage"),
    })  # fmt: skip


@login_required
@require_POST
def campaign_action(request: AuthedRequest, pk: int, action: str) -> HttpResponse:
    c = selectors.campaign(request.user, pk)
    try:
        if action == "sample":
            services.campaign_draw_sample(actor=request.user, campaign=c)
            messages.success(request, _("Đã chọn mẫu ngẫu nhiên."))
        elif action == "close":
            services.campaign_close(actor=request.user, campaign=c, corrective_actions=request.POST.get("corrective_actions", ""),
                                    fix_deadline=request.POST.get("fix_deadline") or None)  # fmt: skip
            messages.success(request, _("Đã kết thúc phúc tra và lập biên bản."))
        elif action == "sign":
            services.campaign_sign(actor=request.user, campaign=c)
            messages.success(request, _("Đã ký biên bản. Kết quả phúc tra không thể thay đổi."))
        else:
            raise Http404
    except DomainError as exc:
        _fail(request, exc)
        if exc.code == "step_up_required":
            return redirect(f"/accounts/step-up/?next={request.path.rsplit('/', 2)[0]}/")
    return redirect("quality:campaign", pk=c.pk)


@login_required
def sample_record(request: AuthedRequest, pk: int, sample_pk: int) -> HttpResponse:
    c = selectors.campaign(request.user, pk)
    try:
        sample = c.samples.select_related("child", "child__village").get(pk=sample_pk)
    except AuditSample.DoesNotExist as exc:
        raise Http404 from exc
    order = list(c.samples.order_by("stratum", "id").values_list("pk", "checked"))
    ids = [pk for pk, _checked in order]
    at = ids.index(sample.pk)
    prev_id = ids[at - 1] if at > 0 else None
    next_id = ids[at + 1] if at + 1 < len(ids) else None
    if request.method == "POST":
        all_match = request.POST.get("all_match") == "1"
        results = []
        for fld in services.AUDIT_FIELDS:
            matches = all_match or request.POST.get(f"{fld}__matches", "1") == "1"
            results.append({
                "field": fld, "matches": matches, "observed_value": "" if all_match else request.POST.get(f"{fld}__observed", ""),
                "cause": request.POST.get(f"{fld}__cause", ""), "error_class": request.POST.get(f"{fld}__class", ""),
            })  # fmt: skip
        try:
            services.sample_record_result(actor=request.user, sample=sample, results=results,
                                          is_junk=bool(request.POST.get("is_junk")), note=request.POST.get("note", ""))  # fmt: skip
            messages.success(
                request, _("Đã ghi kết quả đối chiếu: %(name)s.") % {"name": sample.child.full_name}
            )
            # on to the next record still to check (after this one, then from the start), else the campaign
            todo = [pk for pk, checked in order[at + 1 :] + order[:at] if not checked]
            if todo:
                return redirect("quality:sample", pk=c.pk, sample_pk=todo[0])
            return redirect("quality:campaign", pk=c.pk)
        except DomainError as exc:
            _fail(request, exc)
    existing = {r.field: r for r in sample.results.all()}
    fields = [
        {"key": k, "label": v, "system": services.system_value(sample.child, k), "result": existing.get(k)}
        for k, v in services.AUDIT_FIELDS.items()
    ]
    return render(request, "quality/sample.html", {
        "c": c, "sample": sample, "fields": fields, "causes": MismatchCause.choices, "classes": ErrorClass.choices,
        "position": at + 1, "total": len(ids), "prev_id": prev_id, "next_id": next_id,
        "done": sum(1 for _pk, checked in order if checked),
    })  # fmt: skip


@login_required
def campaign_minutes(request: AuthedRequest, pk: int) -> HttpResponse:
    from .minutes import render_minutes_pdf

    c = selectors.campaign(request.user, pk)
    pdf = bytes(c.minutes_pdf) if c.minutes_pdf else render_minutes_pdf(c)
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="bien-ban-{c.code}.pdf"'
    return response


@login_required
def task_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, "quality.view")
    return render(request, "quality/tasks.html", {
        "tasks": selectors.tasks(request.user)[:300], "overdue": set(selectors.overdue_tasks(request.user).values_list("id", flat=True)),
        "can_review": can(request.user, "quality.review"),
    })  # fmt: skip


@login_required
@require_POST
def task_done(request: AuthedRequest, pk: int) -> HttpResponse:
    from .models import CorrectiveTask

    task = access(CorrectiveTask.objects.all(), request.user, pk=pk)
    try:
        services.corrective_task_complete(actor=request.user, task=task, note=request.POST.get("note", ""))
    except DomainError as exc:
        _fail(request, exc)
    return redirect("quality:tasks")


# --- automatic scan report (Điều 16.1) ----------------------------------------------------------------


@login_required
def scan_report(request: AuthedRequest) -> HttpResponse:
    require(request.user, "quality.view")
    unit_id = _int(request.GET.get("unit"))
    if unit_id:
        access(selectors.units_visible(request.user), request.user, pk=unit_id)
    report = selectors.scan_report(request.user, unit_id=unit_id)
    units = selectors.units_visible(request.user).filter(kind__in=selectors.COMMUNE_KINDS)[:500]
    return render(request, "quality/report.html", {"report": report, "unit_id": unit_id, "units": units})


@login_required
def scan_report_xlsx(request: AuthedRequest) -> HttpResponse:
    """Excel export of the scan report: personal data, so scoped and logged (R-SEC-06)."""

    require(request.user, "quality.view")
    unit_id = _int(request.GET.get("unit"))
    if unit_id:
        access(selectors.units_visible(request.user), request.user, pk=unit_id)
    report = selectors.scan_report(request.user, unit_id=unit_id)
    wb = workbook()
    summary = wb.active
    summary.title = "Tổng hợp"
    summary.append(["Nhóm", "Số lượng"])
    summary.append(["Nghi trùng hồ sơ", report["duplicate_count"]])
    rows = 0
    for s in report["sections"]:
        summary.append([s["label"], s["count"]])
        ws = wb.create_sheet(s["label"][:31])
        ws.append(
            ["Mã trẻ", "Họ tên", "Ngày sinh", "Đơn vị", "Quy tắc", "Trường", "Nội dung", "Phát hiện lần đầu"]
        )
        for f in s["rows"]:
            rows += 1
            ws.append([str(f.child.public_id), f.child.full_name, f.child.date_of_birth, f.unit.name, f.rule_code,
                       f.field, f.message, f.first_seen.replace(tzinfo=None)])  # fmt: skip
    ws = wb.create_sheet("Nghi trùng")
    ws.append(["Mã trẻ A", "Họ tên A", "Mã trẻ B", "Họ tên B", "Xác suất"])
    for d in report["duplicates"]:
        rows += 1
        ws.append(
            [
                str(d.child_a.public_id),
                d.child_a.full_name,
                str(d.child_b.public_id),
                d.child_b.full_name,
                d.probability,
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    log_export(actor=request.user, what="quality_scan_report.xlsx", filters={"unit": unit_id}, row_count=rows,
               scope_path=scope_path_of(request.user) or "")  # fmt: skip
    response = HttpResponse(
        buf.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = 'attachment; filename="bao-cao-quet-du-lieu.xlsx"'
    return response
