"""Every write of the quality app (findings, duplicate review, audits/phúc tra). Each writes its audit row."""

from __future__ import annotations

import hashlib
import math
import random
import secrets
from collections import defaultdict
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from mchis.accounts.permissions import require
from mchis.accounts.principals import as_person
from mchis.accounts.stepup import require_step_up
from mchis.core.audit import log_event
from mchis.core.errors import Conflict, DomainError, PermissionDeniedError, ValidationFailed
from mchis.core.principal import Principal
from mchis.core.scoping import in_subtree, visible_under
from mchis.core.text import nfc
from mchis.registry.models import Child
from mchis.registry.services import merge_request_create
from mchis.registry.validation import ParseError, parse_date
from mchis.units.models import UnitKind

from . import notices
from .models import (
    AuditCampaign,
    AuditFieldResult,
    AuditKind,
    AuditSample,
    CampaignStatus,
    CandidateStatus,
    CorrectiveTask,
    DuplicateCandidate,
    ErrorClass,
    Finding,
    FindingStatus,
    MismatchCause,
    TaskKind,
)
from .scores import refresh_unit_scores

# --- findings ------------------------------------------------------------------------------------------


@transaction.atomic
def finding_accept(*, actor: Principal, finding: Finding, reason: str) -> Finding:
    """Chấp nhận một phát hiện (e.g. a real 17-year-old still supported): only with a written reason."""
    require(actor, "quality.review")
    reason = nfc(reason)
    if not reason:
        raise DomainError("Phải ghi lý do chấp nhận.", field="reason")
    finding = Finding.objects.select_for_update().get(pk=finding.pk)
    if finding.status != FindingStatus.OPEN:
        raise Conflict("Phát hiện này không còn ở trạng thái mở.")
    before = finding.status
    finding.status = FindingStatus.ACCEPTED
    finding.accepted_reason = reason
    finding.accepted_by = as_person(actor)
    finding.save(update_fields=["status", "accepted_reason", "accepted_by"])
    log_event(
        actor=actor, action="finding.accept", object_type="quality_finding", object_id=finding.pk,
        scope_path=finding.unit.path, changes={"status": [before, finding.status]}, reason=reason,
    )  # fmt: skip
    refresh_unit_scores(unit_ids=[finding.unit_id])
    return finding


# --- duplicates ------------------------------------------------------------------------------------------


@transaction.atomic
def duplicate_candidates_store(
    *, actor: Principal | None, pairs: Iterable[tuple[int, int, float, int]]
) -> dict[str, int]:
    """Queue (id_a, id_b, probability, unit_id) pairs; known pairs (incl. "not a duplicate") are skipped."""
    rows = [
        DuplicateCandidate(child_a_id=min(a, b), child_b_id=max(a, b), probability=round(p, 6), unit_id=u)
        for a, b, p, u in pairs
        if a != b
    ]
    before = DuplicateCandidate.objects.count()
    for i in range(0, len(rows), 5000):
        DuplicateCandidate.objects.bulk_create(rows[i : i + 5000], ignore_conflicts=True)
    created = DuplicateCandidate.objects.count() - before
    log_event(
        actor=actor, action="duplicate.scan", object_type="quality_duplicate", object_id="",
        changes={"pairs": [None, len(rows)], "created": [None, created]},
    )  # fmt: skip
    refresh_unit_scores(unit_ids={r.unit_id for r in rows})
    return {"pairs": len(rows), "created": created}


def _decide_guard(actor: Principal, candidate: DuplicateCandidate) -> DuplicateCandidate:
    require(actor, "quality.review")
    locked = DuplicateCandidate.objects.select_for_update().select_related("unit").get(pk=candidate.pk)
    if not locked.can_decide():
        raise Conflict("Cặp hồ sơ này đã được xử lý.")
    return locked


@transaction.atomic
def duplicate_confirm(*, actor: Principal, candidate: DuplicateCandidate, survivor_id: int | None = None, reason: str = "") -> DuplicateCandidate:  # fmt: skip
    """Lãnh đạo xác nhận trùng → đề nghị gộp (merge request) in the registry; merged only when approved."""
    cand = _decide_guard(actor, candidate)

    survivor_id = survivor_id or cand.child_a_id
    if survivor_id not in (cand.child_a_id, cand.child_b_id):
        raise DomainError("Hồ sơ giữ lại phải là một trong hai hồ sơ.", field="survivor")
    retired_id = cand.child_b_id if survivor_id == cand.child_a_id else cand.child_a_id
    survivor = Child.objects.get(pk=survivor_id)
    retired = Child.objects.get(pk=retired_id)
    text = nfc(reason) or f"Nghi trùng (xác suất {cand.probability:.2f}), lãnh đạo xác nhận."
    request = merge_request_create(actor=actor, survivor=survivor, retired=retired, reason=text)
    cand.status = CandidateStatus.CONFIRMED
    cand.decided_by = as_person(actor)
    cand.decided_at = timezone.now()
    cand.reason = text
    cand.merge_request_id = getattr(request, "pk", None)
    cand.save(update_fields=["status", "decided_by", "decided_at", "reason", "merge_request_id"])
    log_event(
        actor=actor, action="duplicate.confirm", object_type="quality_duplicate", object_id=cand.pk,
        scope_path=cand.unit.path, changes={"status": ["open", cand.status]}, reason=text,
    )  # fmt: skip
    refresh_unit_scores(unit_ids=[cand.unit_id])
    return cand


@transaction.atomic
def duplicate_reject(
    *, actor: Principal, candidate: DuplicateCandidate, reason: str = ""
) -> DuplicateCandidate:
    """ "Không trùng": remembered forever (unique pair), so the pair is never proposed again."""
    text = nfc(reason).strip()
    if not text:
        raise DomainError("Lý do: bắt buộc nhập khi kết luận không phải hồ sơ trùng.", field="reason")
    cand = _decide_guard(actor, candidate)
    cand.status = CandidateStatus.NOT_DUPLICATE
    cand.decided_by = as_person(actor)
    cand.decided_at = timezone.now()
    cand.reason = text
    cand.save(update_fields=["status", "decided_by", "decided_at", "reason"])
    log_event(
        actor=actor, action="duplicate.reject", object_type="quality_duplicate", object_id=cand.pk,
        scope_path=cand.unit.path, changes={"status": ["open", cand.status]}, reason=cand.reason,
    )  # fmt: skip
    refresh_unit_scores(unit_ids=[cand.unit_id])
    return cand


# --- audits (phúc tra) ------------------------------------------------------------------------------------

AUDIT_FIELDS = {
    "full_name": "Họ và tên",
    "date_of_birth": "Ngày sinh",
    "sex": "Giới tính",
    "ethnicity_code": "Dân tộc",
    "personal_id": "Số định danh",
    "mother_name": "Họ tên mẹ",
    "father_name": "Họ tên cha",
    "guardian_name": "Người chăm sóc",
    "village": "Thôn/tổ dân phố",
    "circumstances": "Hoàn cảnh",
}


def can_audit(auditor_unit: Any, audited_unit: Any) -> bool:
    """R-DQ-06 (Điều 15.2): Ministry → provinces; province (Sở) → its communes and child-protection
    facilities; UBND xã → its own office (itself and the units placed in its commune)."""

    a: str = auditor_unit.kind
    t: str = audited_unit.kind
    if a in (UnitKind.MINISTRY, UnitKind.MINISTRY_DEPT):
        return t == UnitKind.DOH
    if a == UnitKind.DOH:
        return in_subtree(audited_unit.path, auditor_unit.path) and t in (
            UnitKind.TYT, UnitKind.COMMUNE_COMMITTEE, UnitKind.CHILD_PROTECTION,
        )  # fmt: skip
    if a == UnitKind.COMMUNE_COMMITTEE:
        return audited_unit.pk == auditor_unit.pk or (
            t in (UnitKind.TYT, UnitKind.COMMUNE_COMMITTEE)
            and audited_unit.admin_unit_id == auditor_unit.admin_unit_id
        )
    return False


def _audited_staff(person: Principal, audited_unit: Any, auditor_unit: Any) -> bool:
    """Does the person work in the audited unit (or below it)? The commune committee auditing its own office
    (R-DQ-06, Điều 15.2: audited unit = auditing unit) is the one case the law gives to the unit itself."""
    unit = person.unit
    if unit is None or audited_unit.pk == auditor_unit.pk:
        return False
    return in_subtree(unit.path, audited_unit.path)


def _require_team(actor: Principal, c: AuditCampaign, what: str) -> None:
    """Drawing, recording, closing and signing are for the campaign's team only, never for the audited
    unit's own staff (R-DQ-06, R-DQ-08: auditors may not whitewash their own unit)."""
    if _audited_staff(actor, c.audited_unit, c.auditor_unit):
        raise PermissionDeniedError(f"Cán bộ của đơn vị được phúc tra không được {what} (Điều 15.2).")
    if not c.auditors.filter(pk=as_person(actor).pk).exists():
        raise PermissionDeniedError(f"Chỉ thành viên đoàn phúc tra được {what}.")


def _campaign_scope(c: AuditCampaign) -> str:
    return c.audited_unit.path


def _locked(campaign: AuditCampaign) -> AuditCampaign:
    locked = (
        AuditCampaign.objects.select_for_update()
        .select_related("audited_unit", "auditor_unit")
        .get(pk=campaign.pk)
    )
    if locked.status == CampaignStatus.SIGNED:
        raise Conflict("Biên bản đã ký: kết quả phúc tra không thể thay đổi.")
    return locked


@transaction.atomic
def campaign_create(
    *,
    actor: Principal,
    audited_unit: Any,
    kind: str = AuditKind.DESK,
    sample_rate: float = 0.05,
    minimum_sample: int = 30,
    seed: int | None = None,
    auditors: Iterable[Any] = (),
) -> AuditCampaign:
    require(actor, "audit_campaign.manage")
    person = as_person(actor)
    if person.unit is None or not can_audit(person.unit, audited_unit):
        raise PermissionDeniedError(
            "Đơn vị của bạn không có thẩm quyền phúc tra đơn vị này (Điều 15.2).", field="audited_unit"
        )
    team = [person, *[a for a in auditors if a.pk != person.pk]]
    if any(_audited_staff(member, audited_unit, person.unit) for member in team):
        raise PermissionDeniedError(
            "Đoàn phúc tra không được có cán bộ của đơn vị được phúc tra (Điều 15.2).", field="auditors"
        )
    if sample_rate < 0.05 or sample_rate > 1:
        raise DomainError("Tỷ lệ chọn mẫu phải từ 5% đến 100%.", field="sample_rate")
    if minimum_sample < 1:
        raise DomainError("Số mẫu tối thiểu phải lớn hơn 0.", field="minimum_sample")
    if kind not in AuditKind.values:
        raise DomainError("Hình thức phúc tra không hợp lệ.", field="kind")
    today = timezone.localdate()
    campaign = AuditCampaign.objects.create(
        code=f"PT-{today:%Y%m%d}-{secrets.token_hex(3).upper()}",
        audited_unit=audited_unit, auditor_unit=person.unit, kind=kind, sample_rate=sample_rate,
        minimum_sample=minimum_sample, seed=seed if seed is not None else secrets.randbits(48),
        created_by=person, started_on=today,
    )  # fmt: skip
    campaign.auditors.add(*team)
    log_event(
        actor=actor, action="audit_campaign.create", object_type="audit_campaign", object_id=campaign.pk,
        scope_path=audited_unit.path,
        changes={"audited_unit": [None, audited_unit.code], "seed": [None, campaign.seed], "kind": [None, kind]},
    )  # fmt: skip
    return campaign


def sample_size(population: int, rate: float, minimum: int) -> int:
    """At least `rate` (≥ 5%) of the records, never fewer than `minimum` (or all if fewer)."""
    return min(population, max(math.ceil(population * rate), minimum))


def draw_stratified(items: list[tuple[int, str]], n: int, seed: int) -> list[tuple[int, str]]:
    """Reproducible stratified sample: (id, stratum) pairs; proportional allocation (largest remainder)."""
    strata: dict[str, list[int]] = defaultdict(list)
    for cid, stratum in sorted(items):
        strata[stratum].append(cid)
    total = len(items)
    if n >= total:
        return sorted(items)
    quotas = {s: n * len(ids) / total for s, ids in strata.items()}
    alloc = {s: int(q) for s, q in quotas.items()}
    rest = n - sum(alloc.values())
    for s in sorted(quotas, key=lambda s: (-(quotas[s] - alloc[s]), s))[:rest]:
        alloc[s] += 1
    rng = random.Random(seed)  # reproducibility is the point, not secrecy
    out: list[tuple[int, str]] = []
    for s in sorted(strata):
        out.extend((cid, s) for cid in sorted(rng.sample(strata[s], alloc[s])))
    return out


@transaction.atomic
def campaign_draw_sample(*, actor: Principal, campaign: AuditCampaign) -> AuditCampaign:

    require(actor, "audit_campaign.manage")
    c = _locked(campaign)
    _require_team(actor, c, "chọn mẫu")
    if not c.can_sample():
        raise Conflict("Đợt phúc tra đã chọn mẫu.")
    items = [
        (cid, str(v or "-"))
        for cid, v in visible_under(
            Child.objects.filter(status="active"), c.audited_unit, lookup="unit__path"
        ).values_list("id", "village_id")
    ]
    if not items:
        raise DomainError("Đơn vị được phúc tra chưa có hồ sơ trẻ em nào.", field="audited_unit")
    n = sample_size(len(items), c.sample_rate, c.minimum_sample)
    chosen = draw_stratified(items, n, c.seed)
    AuditSample.objects.bulk_create([AuditSample(campaign=c, child_id=cid, stratum=s) for cid, s in chosen])
    c.population = len(items)
    c.status = CampaignStatus.SAMPLED
    c.save(update_fields=["population", "status"])
    log_event(
        actor=actor, action="audit_campaign.sample", object_type="audit_campaign", object_id=c.pk,
        scope_path=_campaign_scope(c), changes={"sample": [0, n], "population": [0, len(items)]},
    )  # fmt: skip
    return c


def system_value(child: Any, fld: str) -> str:
    if fld == "village":
        return str(child.village) if child.village_id else ""
    if fld == "circumstances":
        return ", ".join(sorted(m.group_code for m in child.circumstances.all()))
    if fld == "sex":
        return child.get_sex_display() if child.sex else ""
    value = getattr(child, fld, "")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return "" if value is None else str(value)


@transaction.atomic
def sample_record_result(
    *,
    actor: Principal,
    sample: AuditSample,
    results: list[dict[str, Any]],
    is_junk: bool = False,
    note: str = "",
) -> AuditSample:
    """Record system vs paper/on-site per field: {"field", "matches", "observed_value", "cause", "error_class"}."""
    require(actor, "audit_campaign.manage")
    c = _locked(sample.campaign)
    _require_team(actor, c, "ghi kết quả")
    if not c.can_record():
        raise Conflict("Đợt phúc tra không ở giai đoạn ghi kết quả.")
    sample = AuditSample.objects.select_for_update().select_related("child").get(pk=sample.pk, campaign=c)
    errors: list[dict[str, str | int | None]] = []
    rows = []
    for i, r in enumerate(results):
        fld = r.get("field", "")
        if fld not in AUDIT_FIELDS:
            errors.append(
                {"row": i, "field": "field", "message": f"Trường '{fld}' không thuộc danh sách phúc tra."}
            )
            continue
        matches = bool(r.get("matches"))
        cause = "" if matches else (r.get("cause") or "")
        klass = "" if matches else (r.get("error_class") or "")
        if not matches and cause not in MismatchCause.values:
            errors.append(
                {
                    "row": i,
                    "field": f"{fld}.cause",
                    "message": f"{AUDIT_FIELDS[fld]}: chọn nguyên nhân sai lệch.",
                }
            )
        if not matches and klass not in ErrorClass.values:
            errors.append(
                {"row": i, "field": f"{fld}.error_class", "message": f"{AUDIT_FIELDS[fld]}: chọn loại lỗi."}
            )
        rows.append(
            AuditFieldResult(
                sample=sample, field=fld, matches=matches, system_value=system_value(sample.child, fld)[:255],
                observed_value=_observed(fld, r.get("observed_value"))[:255], cause=cause, error_class=klass,
            )
        )  # fmt: skip
    if errors:
        raise ValidationFailed(errors)
    AuditFieldResult.objects.filter(sample=sample).delete()
    AuditFieldResult.objects.bulk_create(rows)
    sample.checked = True
    sample.is_junk = is_junk
    sample.note = nfc(note)
    sample.save(update_fields=["checked", "is_junk", "note"])
    log_event(
        actor=actor, action="audit_sample.record", object_type="audit_sample", object_id=sample.pk,
        scope_path=_campaign_scope(c),
        changes=_result_changes(rows) | {"is_junk": [None, is_junk]},
    )  # fmt: skip
    return sample


def _observed(fld: str, value: Any) -> str:
    """What the auditor read on paper, normalised like the system value (a date as dd/mm/yyyy)."""
    text = nfc(value or "").strip()
    if fld == "date_of_birth" and text:
        try:
            iso = parse_date(text, fld)
        except (ParseError, ValueError):
            return text
        return date.fromisoformat(iso).strftime("%d/%m/%Y") if iso else text
    return text


def _deadline(value: date | str | None) -> date | None:
    """The corrective-action deadline the auditor typed (dd/mm/yyyy or ISO); not before today."""
    if value in (None, ""):
        return None
    if isinstance(value, date):
        day = value
    else:
        try:
            iso = parse_date(str(value), "fix_deadline")
            day = date.fromisoformat(iso or "")
        except (ParseError, ValueError) as exc:
            raise DomainError("Hạn khắc phục: ngày không hợp lệ (dd/mm/yyyy).", field="fix_deadline") from exc
    if day < timezone.localdate():
        raise DomainError("Hạn khắc phục: không được trước ngày hôm nay.", field="fix_deadline")
    return day


def _result_changes(rows: list[AuditFieldResult]) -> dict[str, Any]:
    """The audit row of one record's check: the fields that match, listed as matching (not as values removed),
    and each mismatch as [system value, value found on paper/on site]."""
    matched = [AUDIT_FIELDS[r.field] for r in rows if r.matches]
    changes: dict[str, Any] = {"khớp": [None, ", ".join(matched) if matched else None]}
    for r in rows:
        if not r.matches:
            changes[r.field] = [r.system_value, r.observed_value or "(không khớp)"]
    return changes


def _leader_of(unit: Any) -> Any:

    return get_user_model().objects.filter(unit=unit, role="leader", is_active=True).order_by("id").first()


@transaction.atomic
def campaign_close(
    *,
    actor: Principal,
    campaign: AuditCampaign,
    corrective_actions: str = "",
    fix_deadline: date | str | None = None,
) -> AuditCampaign:
    """Kết thúc phúc tra: every error becomes a corrective task (Điều 17; R-DQ-07)."""
    require(actor, "audit_campaign.manage")
    c = _locked(campaign)
    _require_team(actor, c, "kết thúc phúc tra")
    if not c.can_close():
        raise Conflict("Đợt phúc tra chưa thể kết thúc.")
    unchecked = c.samples.filter(checked=False).count()
    if unchecked:
        raise DomainError(f"Còn {unchecked} hồ sơ mẫu chưa được đối chiếu.", field="samples")
    now = timezone.now()
    tasks: list[CorrectiveTask] = []
    for s in c.samples.select_related("child__unit").prefetch_related("results"):
        bad = [r for r in s.results.all() if not r.matches]
        unit = s.child.unit
        if s.is_junk:
            tasks.append(CorrectiveTask(campaign=c, sample=s, child=s.child, unit=unit, kind=TaskKind.CANCEL,
                                        description="Hồ sơ rác: hủy hoặc chuẩn hóa ngay.", due_at=now))  # fmt: skip
        fix = [r for r in bad if r.error_class in (ErrorClass.TECHNICAL, ErrorClass.PROCESS)]
        if fix:
            names = ", ".join(AUDIT_FIELDS[r.field] for r in fix)
            tasks.append(CorrectiveTask(campaign=c, sample=s, child=s.child, unit=unit, kind=TaskKind.FIX,
                                        description=f"Sửa trong 24 giờ: {names}.", due_at=now + timedelta(hours=24)))  # fmt: skip
        intentional = [r for r in bad if r.error_class == ErrorClass.INTENTIONAL]
        if intentional:
            names = ", ".join(AUDIT_FIELDS[r.field] for r in intentional)
            tasks.append(CorrectiveTask(campaign=c, sample=s, child=s.child, unit=unit, kind=TaskKind.ESCALATE,
                                        description=f"Cố ý làm sai lệch ({names}): báo cáo lãnh đạo đơn vị.",
                                        due_at=now + timedelta(hours=24)))  # fmt: skip
    CorrectiveTask.objects.bulk_create(tasks)
    notices.corrections_due(tasks, c)
    for t in tasks:
        if t.kind == TaskKind.ESCALATE:
            leader = _leader_of(t.unit)
            log_event(
                actor=actor, action="audit.escalate", object_type="corrective_task", object_id=t.pk,
                scope_path=t.unit.path, changes={"leader": [None, getattr(leader, "username", "")]},
                reason=t.description,
            )  # fmt: skip
    c.status = CampaignStatus.CLOSED
    c.closed_at = now
    c.corrective_actions = nfc(corrective_actions)
    c.fix_deadline = _deadline(fix_deadline)
    c.save(update_fields=["status", "closed_at", "corrective_actions", "fix_deadline"])
    log_event(
        actor=actor, action="audit_campaign.close", object_type="audit_campaign", object_id=c.pk,
        scope_path=_campaign_scope(c), changes={"status": ["sampled", "closed"], "tasks": [0, len(tasks)], "fix_deadline": [None, c.fix_deadline.strftime("%d/%m/%Y") if c.fix_deadline else None]},
    )  # fmt: skip
    return c


@transaction.atomic
def campaign_sign(*, actor: Principal, campaign: AuditCampaign) -> AuditCampaign:
    """Ký biên bản (step-up OTP): the PDF and its sha256 are stored; nothing can change afterwards (R-DQ-08)."""
    from .minutes import render_minutes_pdf

    require(actor, "audit_campaign.manage")
    require_step_up()
    c = _locked(campaign)
    _require_team(actor, c, "ký biên bản")
    if not c.can_sign():
        raise Conflict("Chỉ ký được biên bản của đợt phúc tra đã kết thúc.")
    c.signed_at = timezone.now()
    c.signed_by = as_person(actor)
    pdf = render_minutes_pdf(c)
    c.minutes_pdf = pdf
    c.minutes_sha256 = hashlib.sha256(pdf).hexdigest()
    c.status = CampaignStatus.SIGNED
    c.save(update_fields=["signed_at", "signed_by", "minutes_pdf", "minutes_sha256", "status"])
    log_event(
        actor=actor, action="audit_campaign.sign", object_type="audit_campaign", object_id=c.pk,
        scope_path=_campaign_scope(c), changes={"status": ["closed", "signed"], "sha256": [None, c.minutes_sha256]},
    )  # fmt: skip
    return c


@transaction.atomic
def corrective_task_complete(*, actor: Principal, task: CorrectiveTask, note: str = "") -> CorrectiveTask:
    require(actor, "quality.review")
    t = CorrectiveTask.objects.select_for_update().select_related("unit").get(pk=task.pk)
    if t.status != CorrectiveTask.Status.OPEN:
        raise Conflict("Nhiệm vụ đã được xử lý.")
    t.status = CorrectiveTask.Status.DONE
    t.done_at = timezone.now()
    t.done_by = as_person(actor)
    t.save(update_fields=["status", "done_at", "done_by"])
    log_event(
        actor=actor, action="corrective_task.complete", object_type="corrective_task", object_id=t.pk,
        scope_path=t.unit.path, changes={"status": ["open", "done"]}, reason=nfc(note),
    )  # fmt: skip
    return t
