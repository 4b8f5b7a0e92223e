"""Every write to reports: form loading and the workflow transitions (R-MCH-03..06).

Each transition service locks the report row (``select_for_update``), re-checks the guard
(``workflow.check``) on the locked state, writes the new state, a ``ReportTransition`` (timeline) and the audit
entry, all in one transaction: of two leaders approving the same report at once, exactly one wins and the
other gets a 409. Approval locks the unit's register month (registers.services.period_lock); un-approval
unlocks it once no other approved report of that unit and month remains.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils import timezone

from mchis.accounts.permissions import can, is_machine_client, require_person
from mchis.accounts.stepup import require_step_up
from mchis.core.audit import log_event
from mchis.core.changes import ReportFiguresChange, report_figures_changed
from mchis.core.errors import Conflict, DomainError, PermissionDeniedError, ValidationFailed
from mchis.core.principal import Principal, person_or_none
from mchis.outbox.services import OutboxItem, outbox_enqueue
from mchis.units.models import ReportingUnit

from . import notices, workflow
from .checks import run_rules
from .compute import check_against_models
from .definitions import FormDefinitionError, FormSpec, Problem, parse_form
from .models import FROZEN_STATES, FormDefinition, ReportInstance, ReportTransition
from .periods import Period, parse_period
from .selectors import (
    APPROVED,
    ReportView,
    approver_for,
    build_view,
    checksum,
    disagreements,
    expected_outstanding,
    form_in_force,
    resolve_unit,
    snapshot_of,
)

FORMS_DIR = Path(__file__).resolve().parent / "forms"


# --- form definitions -------------------------------------------------------------------------------------


@dataclass
class LoadResult:
    created: list[str]
    updated: list[str]
    unchanged: list[str]


def read_definition(path: Path) -> tuple[FormSpec, str, dict[str, Any]]:
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise FormDefinitionError([Problem(name, "$", f"không đọc được tệp: {exc}")]) from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise FormDefinitionError(
            [Problem(name, f"dòng {exc.lineno}, cột {exc.colno}", f"JSON sai: {exc.msg}")]
        ) from exc
    if isinstance(data, dict):
        # "$schema" only points an editor at forms/form.schema.json: it is not part of the form, so the stored
        # spec and its checksum stay those of the form (a version with submitted reports reloads unchanged)
        data.pop("$schema", None)
    spec = parse_form(data, name)
    problems = check_against_models(spec, name)
    if problems:
        raise FormDefinitionError(problems)
    digest = hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return spec, digest, data


def shipped_form_files() -> list[Path]:
    return sorted(p for p in FORMS_DIR.glob("*.json") if p.name not in {"registers.json", "form.schema.json"})


@transaction.atomic
def forms_load(*, actor: Principal | None, paths: list[Path]) -> LoadResult:
    """Validate every file first; write nothing unless all are valid (atomic, all-or-nothing)."""
    parsed: list[tuple[Path, FormSpec, str, dict[str, Any]]] = []
    problems: list[Problem] = []
    seen: dict[tuple[str, str], str] = {}
    for path in paths:
        try:
            spec, digest, data = read_definition(path)
        except FormDefinitionError as exc:
            problems.extend(exc.problems)
            continue
        key = (spec.code, spec.version)
        if key in seen:
            problems.append(
                Problem(str(path), "$.version", f"{spec.code} {spec.version} đã có trong tệp {seen[key]}")
            )
        seen[key] = str(path)
        parsed.append((path, spec, digest, data))
    for path, spec, digest, _ in parsed:
        existing = FormDefinition.objects.filter(code=spec.code, version=spec.version).first()
        if (
            existing
            and existing.checksum != digest
            and existing.reports.filter(status__in=FROZEN_STATES).exists()
        ):
            problems.append(
                Problem(
                    str(path),
                    "$.version",
                    f"phiên bản {spec.version} đã có báo cáo gửi/duyệt: hãy tạo phiên bản mới thay vì sửa",
                )
            )
    if problems:
        raise FormDefinitionError(problems)
    result = LoadResult([], [], [])
    for path, spec, digest, data in parsed:
        fields = {
            "title": spec.title,
            "legal_basis": spec.legal_basis,
            "valid_from": spec.valid_from,
            "valid_to": spec.valid_to,
            "level": spec.level,
            "period_type": spec.period_type,
            "unit_kinds": list(spec.unit_kinds),
            "deadline_days": spec.deadline_days,
            "spec": data,
            "checksum": digest,
            "source_file": path.name,
        }
        existing = (
            FormDefinition.objects.select_for_update().filter(code=spec.code, version=spec.version).first()
        )
        label = f"{spec.code} {spec.version}"
        if existing and existing.checksum == digest:
            result.unchanged.append(label)
            continue
        if existing:
            before = existing.checksum
            for k, v in fields.items():
                setattr(existing, k, v)
            existing.save()
            result.updated.append(label)
            obj = existing
        else:
            before = None
            obj = FormDefinition.objects.create(code=spec.code, version=spec.version, **fields)
            result.created.append(label)
        log_event(
            actor=actor,
            action="form.load",
            object_type="form",
            object_id=label,
            changes={"checksum": [before, digest], "valid_from": [None, spec.valid_from]},
            reason=f"tệp {path.name}",
        )
        obj.parsed()
    return result


# --- report instances and transitions ---------------------------------------------------------------------


def _period(text: str) -> Period:
    try:
        return parse_period(text)
    except ValueError as exc:
        raise DomainError(str(exc), field="period") from exc


def _locked_view(actor: Principal, form_code: str, unit_code: str, period_text: str) -> ReportView:
    """The report for update: created on first action (unique constraint), then row-locked."""
    period = _period(period_text)
    unit = resolve_unit(actor, unit_code)
    form = form_in_force(form_code, period.start)
    if unit.kind not in form.unit_kinds:
        raise DomainError(
            f"Đơn vị loại '{unit.get_kind_display()}' không lập biểu {form.code}.", field="unit"
        )
    if form.period_type != period.type:
        raise DomainError("Kỳ báo cáo không khớp loại kỳ của biểu.", field="period")
    ReportInstance.objects.get_or_create(
        form=form, unit=unit, period_start=period.start, defaults={"period_type": period.type}
    )
    return build_view(form, unit, period, lock=True)


def _guard(verb: str, actor: Principal, view: ReportView) -> None:
    """Role and unit first (403, `person_required` for a machine client), then the state (409)."""
    denied = workflow.check_permission(verb, actor, unit=view.unit, approver=view.approver)
    if denied is not None:
        raise PermissionDeniedError(denied, code="person_required" if is_machine_client(actor) else None)
    wrong_state = workflow.check_state(verb, view.status)
    if wrong_state is not None:
        raise Conflict(wrong_state, code="invalid_state")


def _transition(
    verb: str, actor: Principal, view: ReportView, reason: str = "", **fields: Any
) -> ReportInstance:
    """The one way a report changes state: guard (role, unit, state), the target state from
    ``workflow.TRANSITIONS``, the given fields, a timeline row, the audit event and the notice."""
    _guard(verb, actor, view)
    report = view.report
    before = report.status
    if verb in UNFREEZES:
        _unfreeze(report)
    for name, value in fields.items():
        setattr(report, name, value)
    report.status = workflow.target(verb)
    report.save()
    ReportTransition.objects.create(
        report=report,
        action=verb,
        from_status=before,
        to_status=report.status,
        actor=person_or_none(actor),
        actor_unit=actor.unit,
        at=timezone.now(),
        reason=reason,
    )
    log_event(
        actor=actor,
        action=f"report.{verb}",
        object_type="report",
        object_id=report.pk,
        scope_path=report.unit.path,
        changes={"status": [before, report.status]},
        reason=reason,
    )
    notices.transition(verb, actor, report, reason)
    _figures_changed(report, view, verb, {"approve": True, "unapprove": False}.get(verb))
    return report


def _figures_changed(report: ReportInstance, view: ReportView, action: str, approved: bool | None) -> None:
    """The one plug-in point for "this report's figures changed" (core.changes, ADR 0076): analytics keeps
    its store current in this transaction, the portal follows approvals after the commit."""
    report_figures_changed(
        ReportFiguresChange(
            unit_id=report.unit_id, unit_path=report.unit.path, month=report.period_start.replace(day=1),
            period=view.period.code, form_code=view.form.code, approved=approved, action=action,
        )
    )  # fmt: skip


# verbs that throw the frozen snapshot away (the report becomes editable again)
UNFREEZES = frozenset({"recall", "return", "unapprove"})


def _unfreeze(report: ReportInstance) -> None:
    report.snapshot = None
    report.snapshot_checksum = ""
    report.approved_at = None
    report.approved_by = None


def _need_reason(verb: str, reason: str) -> str:
    reason = (reason or "").strip()
    if verb in workflow.REASON_REQUIRED and not reason:
        raise DomainError("Vui lòng nhập lý do.", field="reason", code="reason_required")
    return reason


@transaction.atomic
def report_submit(
    *, actor: Principal, form_code: str, unit_code: str, period: str, warning_comment: str = ""
) -> ReportInstance:
    """Gửi báo cáo: run the form's rules; errors block, warnings need a comment; freeze values with checksum."""
    view = _locked_view(actor, form_code, unit_code, period)
    _guard("submit", actor, view)
    empty = empty_required_cells(view.spec, view.report.manual_values or {})
    findings = run_rules(view.spec, view.values) + [d.finding() for d in disagreements(view)]
    errors = [f for f in findings if f.severity == "error"]
    warnings = [f for f in findings if f.severity == "warning"]
    if empty or errors:
        problems: list[dict[str, str | int | None]] = [
            {
                "field": key,
                "rule": "required",
                "severity": "error",
                "message": f"Chưa nhập ô bắt buộc «{view.spec.cell_label(key)}» ({key}).",
            }
            for key in empty
        ]
        problems += [{"rule": f.rule, "severity": "error", "message": f.message} for f in errors]
        raise ValidationFailed(problems, message="Báo cáo chưa hợp lệ: sửa các lỗi trước khi gửi.")
    comment = (warning_comment or "").strip()
    if warnings and not comment:
        raise ValidationFailed(
            [
                {"rule": f.rule, "severity": "warning", "message": f.message, "field": "warning_comment"}
                for f in warnings
            ],
            message="Báo cáo có cảnh báo: nhập giải thích (warning_comment) để gửi.",
        )
    snap = snapshot_of(view)
    snap["warnings"] = [f.as_dict() for f in warnings]
    now = timezone.now()
    return _transition(
        "submit",
        actor,
        view,
        comment,
        snapshot=snap,
        snapshot_checksum=checksum(snap["values"]),
        warning_comment=comment,
        submitted_at=now,
        submitted_by=actor,
        first_submitted_at=view.report.first_submitted_at or now,
    )


@transaction.atomic
def report_recall(
    *, actor: Principal, form_code: str, unit_code: str, period: str, reason: str = ""
) -> ReportInstance:
    """Thu hồi báo cáo đã gửi, trước khi cấp trên duyệt."""
    view = _locked_view(actor, form_code, unit_code, period)
    return _transition("recall", actor, view, (reason or "").strip())


@transaction.atomic
def report_approve(
    *, actor: Principal, form_code: str, unit_code: str, period: str, reason: str = ""
) -> ReportInstance:
    """Duyệt báo cáo (cấp trên phụ trách); khóa số liệu sổ của đơn vị trong tháng.

    Approval makes the figures official and locks the month, so it needs a recent second factor (R-SEC-04).
    """
    view = _locked_view(actor, form_code, unit_code, period)
    _guard("approve", actor, view)
    require_step_up()
    report = _transition(
        "approve", actor, view, (reason or "").strip(), approved_at=timezone.now(), approved_by=actor
    )
    # The approved figures go to the Health Statistics software in this transaction's outbox (R-INT-02).
    outbox_enqueue(
        topic="report.approved", items=[OutboxItem("ReportInstance", report.pk, scope_path=view.unit.path)]
    )
    if view.period.type == "monthly":
        from mchis.registers.services import period_lock

        period_lock(
            actor=actor,
            unit=view.unit,
            month=view.period.start,
            reason=f"Duyệt báo cáo {view.form.code} kỳ {view.period.code}",
        )
    _sign_approved(actor, view)
    return report


def _sign_approved(actor: Principal, view: ReportView) -> None:
    """The approved report as a PAdES-signed PDF with the approving unit's key (issue 21, docs/signatures.md),
    in the approval's transaction: no key, no signature - unless DOCUMENT_SIGNING["REQUIRED"]."""
    from mchis.documents import services as documents

    from .exports import pdf_report

    approver = view.approver
    if approver is None or not documents.signing_available(approver.code):
        if documents.signing_required():
            raise Conflict(f"{approver.name if approver else 'Đơn vị duyệt'} chưa có chứng thư số để ký báo cáo.",
                           code="no_signing_key")  # fmt: skip
        return
    documents.document_sign(
        actor=actor,
        kind="report",
        object_type="report",
        object_id=view.report.pk,
        title=f"{view.form.code} — {view.unit.name} — {view.period.label()}",
        unit=approver,
        pdf=pdf_report(view),
        reason=f"Duyệt báo cáo {view.form.code} kỳ {view.period.code}",
    )


@transaction.atomic
def report_return(
    *, actor: Principal, form_code: str, unit_code: str, period: str, reason: str
) -> ReportInstance:
    """Trả lại báo cáo (bắt buộc ghi lý do) — cấp phụ trách hoặc cấp trên bất kỳ."""
    reason = _need_reason("return", reason)
    view = _locked_view(actor, form_code, unit_code, period)
    return _transition("return", actor, view, reason)


@transaction.atomic
def report_request_unapproval(
    *, actor: Principal, form_code: str, unit_code: str, period: str, reason: str
) -> ReportInstance:
    """Đề nghị cấp trên hủy duyệt (bắt buộc lý do)."""
    reason = _need_reason("request_unapproval", reason)
    view = _locked_view(actor, form_code, unit_code, period)
    return _transition("request_unapproval", actor, view, reason)


@transaction.atomic
def report_unapprove(
    *, actor: Principal, form_code: str, unit_code: str, period: str, reason: str
) -> ReportInstance:
    """Hủy duyệt: changes approved data, so it needs a recent second factor (R-SEC-04); unlocks the month."""
    reason = _need_reason("unapprove", reason)
    view = _locked_view(actor, form_code, unit_code, period)
    _guard("unapprove", actor, view)
    require_step_up()
    report = _transition("unapprove", actor, view, reason)
    from mchis.documents.services import document_withdraw

    document_withdraw(actor=actor, object_type="report", object_id=report.pk, reason=f"Hủy duyệt: {reason}")
    if view.period.type == "monthly":
        still_approved = ReportInstance.objects.filter(
            unit=view.unit, period_start=view.period.start, status__in=APPROVED, form__period_type="monthly"
        ).exists()
        if not still_approved:
            from mchis.registers.services import period_unlock

            period_unlock(actor=actor, unit=view.unit, month=view.period.start, reason=reason)
    return report


@transaction.atomic
def report_set_manual_values(
    *, actor: Principal, form_code: str, unit_code: str, period: str, values: dict[str, Any]
) -> ReportInstance:
    """Nhập các ô nhập tay. A returned report goes back to draft (reopen) on its first edit."""
    require_person(actor)
    view = _locked_view(actor, form_code, unit_code, period)
    report = view.report
    if actor.unit is None or actor.unit.pk != view.unit.pk or not can(actor, "report.edit"):
        raise PermissionDeniedError("Chỉ cán bộ của đơn vị lập báo cáo mới được nhập số liệu.")
    if report.status not in workflow.EDITABLE:
        raise Conflict(
            "Báo cáo đã gửi hoặc đã duyệt: không sửa được số liệu (thu hồi hoặc đề nghị hủy duyệt trước)."
        )
    clean, errors = parse_manual_values(view.spec, values)
    if errors:
        raise ValidationFailed(errors, message="Số liệu nhập tay chưa hợp lệ: không có ô nào được lưu.")
    old = dict(report.manual_values or {})
    new = {**old, **{k: v for k, v in clean.items() if v is not None}}
    for key, v in clean.items():
        if v is None:
            new.pop(key, None)
    changes: dict[str, Any] = {
        k: [old.get(k), new.get(k)] for k in set(old) | set(new) if old.get(k) != new.get(k)
    }
    if not changes:  # the values on screen are the stored ones (e.g. sent again with "Gửi báo cáo"): no edit
        return report
    if workflow.check_state("reopen", report.status) is None:  # first edit of a returned report
        report = _transition("reopen", actor, view, "", manual_values=new)
    report.manual_values = new
    report.save()
    log_event(
        actor=actor,
        action="report.edit",
        object_type="report",
        object_id=report.pk,
        scope_path=view.unit.path,
        changes=changes,
    )
    _figures_changed(report, view, "edit", None)
    return report


_INTEGER = re.compile(r"^-?[0-9]{1,9}\Z")
_DECIMAL = re.compile(r"^-?[0-9]+[.,][0-9]+\Z")


def parse_manual_value(raw: Any) -> int | None:
    """One typed manual value → a non-negative integer, None for empty; ValueError (Vietnamese) otherwise."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    if isinstance(raw, bool):
        raise ValueError(f"'{raw}' không phải là số nguyên")
    if isinstance(raw, int):
        num = raw
    elif isinstance(raw, float):
        if raw != raw or not raw.is_integer():
            raise ValueError(f"'{raw:g}' không phải là số nguyên (không nhập số thập phân)")
        num = int(raw)
    elif isinstance(raw, str):
        text = raw.strip()
        if _DECIMAL.match(text):
            raise ValueError(f"'{text}' không phải là số nguyên (không nhập số thập phân)")
        if not _INTEGER.match(text):
            raise ValueError(f"'{text}' không phải là số nguyên không âm")
        num = int(text)
    else:
        raise ValueError(f"'{raw}' không phải là số nguyên")
    if num < 0:
        raise ValueError(f"số liệu không được âm ({num})")
    return num


def parse_manual_values(
    spec: FormSpec, values: dict[str, Any]
) -> tuple[dict[str, int | None], list[dict[str, str | int | None]]]:
    """Typed values of manual cells → ({cell: int or None (cleared)}, errors naming each cell by its row label
    and column name). Manual cells accept non-negative integers only."""
    manual_cells = {c.key for c in spec.cells if c.manual}
    errors: list[dict[str, str | int | None]] = []
    clean: dict[str, int | None] = {}
    for key, raw in values.items():
        if key not in manual_cells:
            errors.append({"field": key, "message": f"Ô '{key}' không phải ô nhập tay của biểu {spec.code}."})
            continue
        try:
            clean[key] = parse_manual_value(raw)
        except ValueError as exc:
            errors.append({"field": key, "message": f"Ô «{spec.cell_label(key)}» ({key}): {exc}."})
    return clean, errors


def empty_required_cells(spec: FormSpec, manual: dict[str, Any]) -> list[str]:
    """Required manual cells with no value yet (they block submission)."""
    return [c.key for c in spec.cells if c.required and manual.get(c.key) is None]


def unit_of(code: str) -> ReportingUnit:
    return ReportingUnit.objects.get(code=code)


# --- reminders and escalation -----------------------------------------------------------------------------

REMIND_BEFORE_DAYS = 2
ESCALATE_AFTER_DAYS = 3


@dataclass
class ReminderResult:
    reminders: int = 0
    overdue: int = 0
    escalations: int = 0


def _recipients(unit: ReportingUnit, roles: tuple[str, ...]) -> list[str]:
    from mchis.accounts.models import User

    return [
        e
        for e in User.objects.filter(unit=unit, role__in=roles, is_active=True).values_list(
            "email", flat=True
        )
        if e
    ]


@transaction.atomic
def reports_send_reminders(*, now: Any = None) -> ReminderResult:
    """Nhắc hạn trước hạn, báo quá hạn sau hạn, báo cấp trên khi quá hạn lâu (in-app + e-mail). Idempotent:
    each (recipient, unit, form, period, kind) notice is created once; e-mail goes out only for new notices,
    after commit."""
    from datetime import timedelta

    from django.core.mail import send_mail

    from .models import NoticeKind, ReportNotice
    from .periods import period_containing

    now = now or timezone.now()
    result = ReminderResult()
    today = timezone.localdate(now)
    periods = [period_containing(today, "monthly").previous(n) for n in (0, 1, 2)]
    periods.append(period_containing(today, "yearly").previous(1))
    mails: list[tuple[str, str, list[str]]] = []
    for period in periods:
        for unit, form, due in expected_outstanding(period):
            notes: list[tuple[ReportingUnit, str, str]] = []
            if due - timedelta(days=REMIND_BEFORE_DAYS) <= now < due:
                notes.append(
                    (
                        unit,
                        NoticeKind.REMINDER,
                        f"Sắp đến hạn gửi báo cáo {form.code} {period.label()} (hạn {due:%d/%m/%Y %H:%M}).",
                    )
                )
            if now >= due:
                notes.append(
                    (
                        unit,
                        NoticeKind.OVERDUE,
                        f"Báo cáo {form.code} {period.label()} đã quá hạn (hạn {due:%d/%m/%Y %H:%M}).",
                    )
                )
            if now >= due + timedelta(days=ESCALATE_AFTER_DAYS):
                above = approver_for(unit)
                if above is not None:
                    notes.append(
                        (
                            above,
                            NoticeKind.ESCALATION,
                            f"{unit.name} chưa gửi báo cáo {form.code} {period.label()}, quá hạn từ {due:%d/%m/%Y}.",
                        )
                    )
            for recipient, kind, message in notes:
                notice, created = ReportNotice.objects.get_or_create(
                    recipient=recipient,
                    about_unit=unit,
                    form_code=form.code,
                    period_start=period.start,
                    kind=kind,
                    defaults={"message": message},
                )
                if not created:
                    continue
                notices.deadline(notice, message, period)
                if kind == NoticeKind.REMINDER:
                    result.reminders += 1
                elif kind == NoticeKind.OVERDUE:
                    result.overdue += 1
                else:
                    result.escalations += 1
                to = _recipients(recipient, ("leader", "reporter"))
                if to:
                    mails.append((f"[mchis] {message[:80]}", message, to))
    if result.reminders or result.overdue or result.escalations:
        log_event(
            actor=None,
            action="report.remind",
            object_type="report_notice",
            changes={
                "reminders": [0, result.reminders],
                "overdue": [0, result.overdue],
                "escalations": [0, result.escalations],
            },
        )

    def send() -> None:
        for subject, body, to in mails:
            send_mail(subject, body, None, to, fail_silently=True)

    transaction.on_commit(send)
    return result
