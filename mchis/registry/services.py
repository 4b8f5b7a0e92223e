"""Every write to the child registry (R-CH-01..08). Views, API, commands and tasks call these.

Maker-checker (R-CH-05): collectors *propose* (`child_propose_*`, `merge_request_create`); a leader of
the same unit *decides* (`change_request_approve / reject / return_for_correction`). Only
`change_request_approve` (and the leader-approved initial import) writes a live `Child`, and it writes a
`ChildVersion` history row in the same transaction (R-CH-04).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from mchis.accounts.permissions import can, require, require_person
from mchis.accounts.principals import as_person, person_of
from mchis.accounts.stepup import require_step_up
from mchis.catalogs.models import CatalogItem
from mchis.core.audit import log_event
from mchis.core.errors import Conflict, DomainError, PermissionDeniedError, ValidationFailed
from mchis.core.inputs import clean_idempotency_key
from mchis.core.principal import Principal
from mchis.core.scoping import common_path, in_subtree, within
from mchis.core.text import fold
from mchis.outbox.services import OutboxItem, outbox_enqueue
from mchis.places import services as places_services
from mchis.places.models import Village
from mchis.units.models import ReportingUnit

from . import evidence as evidence_store
from . import notices, validation
from .hooks import children_changed
from .models import (
    ChangeRequest,
    Child,
    ChildStatus,
    ChildVersion,
    CircumstanceMembership,
    CorrectionRequest,
    CorrectionStatus,
    Evidence,
    RequestKind,
    RequestStatus,
    SupportReceived,
    Verification,
    VerificationStatus,
)
from .search import parents_key
from .workdays import add_working_days

CLIENT_KEY_MAX = 64  # ChangeRequest.client_key


class WarningsNotAcknowledged(ValidationFailed):
    """Warnings (e.g. ID inconsistent with DOB, R-CH-08) must be acknowledged before sending."""

    code = "warnings"


class PossibleDuplicate(ValidationFailed):
    """R-DQ-02: existing children of the commune look like this one; going on needs "đây là trẻ khác" + a reason.
    `candidates` = the plain data shown to the person deciding (probability, differing fields)."""

    code = "possible_duplicate"

    def __init__(self, candidates: list[dict[str, Any]], *, field: str = "not_duplicate_reason") -> None:
        self.candidates = candidates
        super().__init__(
            [{"level": "warning", "field": field, "code": "possible_duplicate",
              "message": "Trẻ này có thể đã có trong hệ thống."}],
            message="Trẻ này có thể đã có trong hệ thống: xác nhận \"đây là trẻ khác\" và ghi lý do để tiếp tục.",
        )  # fmt: skip
        self.field = field

    def as_dict(self) -> dict[str, Any]:
        return {**super().as_dict(), "candidates": self.candidates}


# --- helpers -------------------------------------------------------------------------------------------


def possible_duplicates(actor: Principal, data: dict[str, Any]) -> list[dict[str, Any]]:
    """Likely existing children within the actor's own area (matches elsewhere stay a bare notice on screen)."""
    from mchis.quality.selectors import duplicate_warnings

    return duplicate_warnings(actor, data)[0]


def _duplicate_check(
    actor: Principal,
    data: dict[str, Any],
    reason: str,
    *,
    required: bool,
    field: str = "not_duplicate_reason",
) -> tuple[list[dict[str, Any]], str]:
    """(candidates, the person's reason). With candidates and `required`, no reason → PossibleDuplicate."""
    candidates = possible_duplicates(actor, data)
    text = (reason or "").strip()
    if candidates and required and not text:
        raise PossibleDuplicate(candidates, field=field)
    return candidates, text if candidates else ""


def _issues_to_errors(issues: Iterable[validation.Issue]) -> list[dict[str, Any]]:
    return [i.as_dict() for i in issues]


def validation_context(unit: Any, *, today: date | None = None) -> validation.Context:
    """What the pure rules need, read from catalogs and the commune's villages."""

    def codes(*catalogs: str) -> frozenset[str] | None:
        values = frozenset(
            CatalogItem.objects.current().filter(catalog__code__in=catalogs).values_list("code", flat=True)
        )
        return values or None  # catalog not loaded yet: not checked

    return validation.Context(
        today=today or timezone.localdate(),
        ethnicities=codes("ethnic_group"),
        relationships=codes("child_relationship"),
        circumstance_groups=codes("child_circumstance"),
        villages=frozenset(Village.objects.filter(commune_id=unit.admin_unit_id).values_list("id", flat=True))
        if unit is not None
        else None,
    )


def child_snapshot(child: Child) -> dict[str, Any]:
    """The record as canonical JSON (the same shape as request data), for diffs and history."""
    data: dict[str, Any] = {}
    for name, (kind, _) in validation.FIELDS.items():
        if name == "village":
            data[name] = child.village_id
        elif name == "circumstances":
            data[name] = [
                {
                    "group_code": m.group_code,
                    "subgroup_code": m.subgroup_code,
                    "start_date": m.start_date.isoformat(),
                    "end_date": m.end_date.isoformat() if m.end_date else None,
                }
                for m in child.circumstances.order_by("start_date", "group_code", "id")
            ]
        elif name == "supports":
            data[name] = [
                {"support_type_code": s.support_type_code, "date": s.date.isoformat(), "provider": s.provider}
                for s in child.supports.order_by("date", "id")
            ]
        else:
            value = getattr(child, name)
            data[name] = (
                value.isoformat() if isinstance(value, date) else (value if value is not None else "")
            )
            if kind == "date" and value is None:
                data[name] = None
    data["status"] = child.status
    data["merged_into"] = str(child.merged_into.public_id) if child.merged_into_id else None  # type: ignore[union-attr]
    return data


def _apply(child: Child, data: dict[str, Any]) -> None:
    """Write canonical values onto the record (caller saves and versions it)."""
    for name, value in data.items():
        kind = validation.FIELDS[name][0] if name in validation.FIELDS else None
        if kind is None or kind == "list":
            continue
        if name == "village":
            child.village_id = value
        elif kind == "date":
            setattr(child, name, date.fromisoformat(value) if value else None)
        else:
            setattr(child, name, value or "")
    child.name_folded = fold(child.full_name)
    child.guardian_name_folded = fold(child.guardian_name)
    child.parents_folded = parents_key(child.father_name, child.mother_name)


def _apply_lists(child: Child, data: dict[str, Any]) -> None:
    if "circumstances" in data:
        child.circumstances.all().delete()
        CircumstanceMembership.objects.bulk_create(
            CircumstanceMembership(
                child=child,
                group_code=item["group_code"],
                subgroup_code=item.get("subgroup_code") or "",
                start_date=date.fromisoformat(item["start_date"]),
                end_date=date.fromisoformat(item["end_date"]) if item.get("end_date") else None,
            )
            for item in data["circumstances"]
        )
    if "supports" in data:
        child.supports.all().delete()
        SupportReceived.objects.bulk_create(
            SupportReceived(
                child=child,
                support_type_code=item["support_type_code"],
                date=date.fromisoformat(item["date"]),
                provider=item.get("provider") or "",
            )
            for item in data["supports"]
        )


def _check_proposer(actor: Principal, unit: Any) -> None:
    require(actor, "child.propose")
    if not within(actor, unit.path):
        raise PermissionDeniedError("Bạn chỉ được đề xuất cho hồ sơ thuộc đơn vị của mình.")


def _check_issues(issues: list[validation.Issue], acknowledge_warnings: bool) -> list[dict[str, Any]]:
    errors = [i for i in issues if i.level == "error"]
    warnings = [i for i in issues if i.level == "warning"]
    if errors:
        raise ValidationFailed(_issues_to_errors(errors + warnings))
    if warnings and not acknowledge_warnings:
        raise WarningsNotAcknowledged(
            _issues_to_errors(warnings),
            message="Có cảnh báo cần xác nhận đã kiểm tra trước khi gửi đề xuất.",
        )
    return _issues_to_errors(warnings)


def _existing_for_key(client_key: str | None, actor: Principal) -> ChangeRequest | None:
    """The actor's own earlier request sent with this key. Keys are scoped to the proposer (a person):
    call only after the permission and scope checks, so a key never reveals anyone else's request."""
    client_key = clean_idempotency_key(client_key, max_length=CLIENT_KEY_MAX)
    person = person_of(actor)
    if not client_key or person is None:
        return None
    return ChangeRequest.objects.filter(client_key=client_key, proposer=person).first()


def _attach(
    request: ChangeRequest, actor: Principal, files: Sequence[evidence_store.EvidenceFile]
) -> list[Evidence]:
    stored = []
    for file in files:
        content_type = evidence_store.check(file)
        digest = evidence_store.write(file.content)
        stored.append(
            Evidence.objects.create(
                unit=request.unit,
                change_request=request,
                sha256=digest,
                filename=file.name[:200],
                content_type=content_type,
                size=len(file.content),
                uploaded_by=as_person(actor),
            )
        )
    return stored


def _save_request(
    request: ChangeRequest, actor: Principal, files: Sequence[evidence_store.EvidenceFile]
) -> ChangeRequest:
    """Insert (deduplicated by client_key), attach evidence, audit."""
    try:
        with transaction.atomic():
            request.save(force_insert=True)
    except IntegrityError:
        existing = _existing_for_key(request.client_key, actor)
        if existing is not None:
            return existing
        raise
    _attach(request, actor, files)
    log_event(
        actor=actor,
        action=f"child.propose_{request.kind}",
        object_type="change_request",
        object_id=str(request.public_id),
        scope_path=request.unit.path,
        changes=request.diff | _duplicate_audit(request.duplicate_candidates, request.not_duplicate_reason),
        reason=request.reason,
        evidence_ref=_evidence_ref(request.evidence.all()),
    )
    return request


def _duplicate_audit(candidates: list[dict[str, Any]], reason: str) -> dict[str, Any]:
    """The audit row's record of a "đây là trẻ khác" decision: which records were shown, and why."""
    if not candidates:
        return {}
    shown = ", ".join(f"{c['public_id']} ({c['probability']:.2f})" for c in candidates)
    return {"possible_duplicates": [None, shown], "not_duplicate_reason": [None, reason or None]}


def _evidence_ref(evidence: Any) -> str:
    """The audit row's evidence reference: the checksums of the attached files."""
    return ",".join(e.sha256 for e in evidence)


def _reason(reason: str, *, required: bool, default: str = "") -> str:
    text = (reason or "").strip() or default
    if required and not text:
        raise DomainError("Lý do: bắt buộc nhập.", field="reason")
    return text


def _event_date(value: date | str | None) -> date | None:
    if value in (None, ""):
        return None
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    if day > timezone.localdate():
        raise DomainError("Ngày xảy ra thay đổi: không được sau ngày hôm nay.", field="event_date")
    return day


# --- proposals (collector) ----------------------------------------------------------------------------


@transaction.atomic
def child_propose_create(
    *,
    actor: Principal,
    unit: Any,
    data: dict[str, Any],
    reason: str = "",
    event_date: date | str | None = None,
    evidence: Sequence[evidence_store.EvidenceFile] = (),
    client_key: str | None = None,
    acknowledge_warnings: bool = False,
    source: str = "manual",
    not_duplicate_reason: str = "",
) -> ChangeRequest:
    """Đề xuất thêm mới trẻ em. Same client_key → the existing request, nothing created twice.

    R-DQ-02: a person entering a child (source "manual": web form, API) who is shown likely existing records
    must state "đây là trẻ khác" with a reason; other sources (imports, registers) only store the candidates,
    and the leader decides on the approval page."""
    _check_proposer(actor, unit)  # permission and scope before any idempotency lookup
    existing = _existing_for_key(client_key, actor)
    if existing is not None:
        return existing
    normalised, parse_issues = validation.normalise(data)
    issues = parse_issues or validation.validate(normalised, validation_context(unit))
    warnings = _check_issues(issues, acknowledge_warnings)
    candidates, not_duplicate = _duplicate_check(
        actor, normalised, not_duplicate_reason, required=source == "manual"
    )
    request = ChangeRequest(
        kind=RequestKind.CREATE,
        unit=unit,
        data=normalised,
        diff=validation.diff({}, normalised),
        warnings=warnings,
        warnings_acknowledged=bool(warnings),
        reason=_reason(reason, required=False, default="Khai báo trẻ mới từ sổ theo dõi"),
        event_date=_event_date(event_date),
        source=source,
        client_key=client_key or None,
        proposer=as_person(actor),
        duplicate_candidates=candidates,
        not_duplicate_reason=not_duplicate,
    )
    return _save_request(request, actor, evidence)


def _change_payload(
    child: Child, changes: dict[str, Any], acknowledge_warnings: bool
) -> tuple[dict[str, Any], dict[str, list[Any]], list[dict[str, Any]]]:
    before = child_snapshot(child)
    normalised, parse_issues = validation.normalise(changes, only_present=True)
    merged = {**before, **normalised}
    issues = parse_issues or validation.validate(merged, validation_context(child.unit))
    warnings = _check_issues(issues, acknowledge_warnings)
    delta = validation.diff(before, normalised)
    if not delta:
        raise DomainError("Không có thay đổi nào so với hồ sơ hiện tại.", field="changes")
    return {k: normalised[k] for k in delta}, delta, warnings


def _require_active(child: Child) -> None:
    if child.status != ChildStatus.ACTIVE:
        raise DomainError("Hồ sơ đã bị xóa hoặc đã gộp; không thể đề xuất thay đổi.", field="child")


def _who(user: Any) -> str:
    return (user.get_full_name() or user.username) if user is not None else ""


def _base_snapshot(child: Child, base_version: int) -> dict[str, Any] | None:
    row = ChildVersion.objects.filter(child=child, version=base_version).only("snapshot").first()
    return row.snapshot if row is not None else None


def _rebase(
    child: Child, changes: dict[str, Any], base_version: int
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """An offline edit made on version `base_version` of a record now at a later version (ADR 0042).

    Only the fields the person changed from the base are proposed (an untouched field never reverts the
    server's newer value: no lost update). A field changed both on the server since the base and in the
    proposal, to different values, is a conflict {field: {base, theirs, ours, by, at}} for the leader."""
    base = _base_snapshot(child, base_version)
    normalised, issues = validation.normalise(changes, only_present=True)
    if issues:  # a value that cannot be read is refused, never dropped
        raise ValidationFailed(_issues_to_errors(issues))
    if base is None:  # no history row for that version: every changed field is compared with the live one
        return changes, {}
    current = child_snapshot(child)
    later = list(
        ChildVersion.objects.filter(child=child, version__gt=base_version)
        .select_related("approved_by")
        .order_by("-version")
    )
    kept: dict[str, Any] = {}
    conflicts: dict[str, dict[str, Any]] = {}
    for name, ours in normalised.items():
        if name not in changes:
            continue
        if validation._blank(ours) == validation._blank(base.get(name)):
            continue  # not changed by this person: the server's value stays
        kept[name] = changes[name]
        theirs = current.get(name)
        if validation._blank(theirs) == validation._blank(base.get(name)):
            continue  # changed only here: a clean change
        if validation._blank(theirs) == validation._blank(ours):
            continue  # the same change made twice
        source = next((v for v in later if name in (v.diff or {})), None)
        conflicts[name] = {
            "base": base.get(name),
            "theirs": theirs,
            "ours": ours,
            "by": _who(source.approved_by) if source else "",
            "at": source.approved_at.isoformat() if source else None,
            "version": source.version if source else child.version,
        }
    return kept, conflicts


@transaction.atomic
def child_propose_change(
    *,
    actor: Principal,
    child: Child,
    changes: dict[str, Any],
    reason: str,
    event_date: date | str | None = None,
    evidence: Sequence[evidence_store.EvidenceFile] = (),
    client_key: str | None = None,
    acknowledge_warnings: bool = False,
    source: str = "manual",
    base_version: int | None = None,
) -> ChangeRequest:
    """Đề xuất thay đổi: field-level diff against the live record; the record itself is untouched.

    `base_version` (offline entry): the version the person saw. When the record moved on since, only the
    fields they changed are proposed, and fields changed on both sides become a conflict (ADR 0042)."""
    _check_proposer(actor, child.unit)
    existing = _existing_for_key(client_key, actor)
    if existing is not None:
        return existing
    _require_active(child)
    conflict: dict[str, dict[str, Any]] = {}
    if base_version is not None and base_version > child.version:
        raise DomainError("Phiên bản hồ sơ gửi lên không tồn tại.", field="base_version")
    if base_version is not None and base_version < child.version:
        changes, conflict = _rebase(child, changes, base_version)
        if not changes:
            raise DomainError(
                "Không có thay đổi nào so với hồ sơ tại thời điểm nhập (hồ sơ đã được cập nhật trên máy chủ).",
                field="changes",
            )
    data, delta, warnings = _change_payload(child, changes, acknowledge_warnings)
    request = ChangeRequest(
        kind=RequestKind.CHANGE,
        unit=child.unit,
        child=child,
        data=data,
        diff=delta,
        base_version=child.version,
        warnings=warnings,
        warnings_acknowledged=bool(warnings),
        reason=_reason(reason, required=True),
        event_date=_event_date(event_date),
        source=source,
        client_key=client_key or None,
        proposer=as_person(actor),
        conflict=conflict,
    )
    return _save_request(request, actor, evidence)


@transaction.atomic
def child_propose_delete(
    *,
    actor: Principal,
    child: Child,
    reason: str,
    event_date: date | str | None = None,
    evidence: Sequence[evidence_store.EvidenceFile] = (),
    client_key: str | None = None,
) -> ChangeRequest:
    """Đề xuất xóa (soft delete with reason; approval needs step-up, R-SEC-04)."""
    _check_proposer(actor, child.unit)
    existing = _existing_for_key(client_key, actor)
    if existing is not None:
        return existing
    _require_active(child)
    request = ChangeRequest(
        kind=RequestKind.DELETE,
        unit=child.unit,
        child=child,
        diff={"status": [ChildStatus.ACTIVE, ChildStatus.DELETED]},
        base_version=child.version,
        reason=_reason(reason, required=True),
        event_date=_event_date(event_date),
        client_key=client_key or None,
        proposer=as_person(actor),
    )
    return _save_request(request, actor, evidence)


def _merge_owner(survivor: Child, retired: Child) -> Any:
    """The unit that owns (sees and decides) a merge: the records' unit, or for two communes their lowest
    common parent (TTYT, Sở…), so neither commune sees the other's record before approval."""
    if survivor.unit_id == retired.unit_id:
        return survivor.unit

    return ReportingUnit.objects.get(path=common_path([survivor.unit.path, retired.unit.path]))


def _notify_merge(request: ChangeRequest, survivor: Child, retired: Child) -> None:
    """Tell the leaders of both communes (e-mail, after commit; an audit row in each commune's log) that a
    merge touching their record awaits the common parent. No personal data of the other commune's record."""

    mails: list[tuple[str, list[str]]] = []
    for own, other in ((survivor, retired), (retired, survivor)):
        body = (
            f"Hồ sơ {own.public_id} của {own.unit.name} có đề xuất gộp với một hồ sơ của {other.unit.name}; "
            f"đề xuất {request.public_id} chờ {request.unit.name} duyệt."
        )
        log_event(
            actor=request.proposer, action="child.merge_notice", object_type="child", object_id=str(own.public_id),
            scope_path=own.unit.path, changes={"merge_request": [None, str(request.public_id)]},
        )  # fmt: skip
        to = list(
            get_user_model()
            .objects.filter(unit=own.unit, role="leader", is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
        if to:
            mails.append((body, to))

    def send() -> None:
        for body, to in mails:
            send_mail("[mchis] Đề xuất gộp hồ sơ giữa hai xã", body, None, to, fail_silently=True)

    transaction.on_commit(send)


@transaction.atomic
def merge_request_create(
    *,
    actor: Principal,
    survivor: Child,
    retired: Child,
    reason: str,
    override_reason: str = "",
    client_key: str | None = None,
) -> ChangeRequest:
    """Đề xuất gộp hai hồ sơ của cùng một trẻ (from the duplicate review queue or a collector).

    Two communes' records: the request belongs to their common parent unit, whose leader decides, and both
    communes' leaders are notified. Two records the duplicate model scores as clearly different need an
    explicit `override_reason`, kept with the request's reason."""
    require_person(actor)
    if not (can(actor, "child.propose") or can(actor, "quality.review")):
        raise PermissionDeniedError("Bạn không có quyền đề xuất gộp hồ sơ.")
    if not (within(actor, survivor.unit.path) and within(actor, retired.unit.path)):
        raise PermissionDeniedError("Hai hồ sơ phải thuộc phạm vi quản lý của bạn.")
    existing = _existing_for_key(client_key, actor)
    if existing is not None:
        return existing
    if survivor.pk == retired.pk:
        raise DomainError("Không thể gộp một hồ sơ với chính nó.", field="retired")
    _require_active(survivor)
    _require_active(retired)
    if ChangeRequest.objects.open().filter(kind=RequestKind.MERGE, child=retired, survivor=survivor).exists():
        raise Conflict("Đã có đề xuất gộp hai hồ sơ này đang chờ duyệt.", field="retired")
    from mchis.quality.selectors import CLEARLY_DIFFERENT, pair_match_probability

    likeness = pair_match_probability(survivor, retired)
    override = (override_reason or "").strip()
    reason_text = _reason(reason, required=True)
    if likeness < CLEARLY_DIFFERENT:
        if not override:
            raise DomainError(
                f"Mô hình phát hiện trùng đánh giá hai hồ sơ này khác nhau (xác suất trùng {likeness:.0%}): "
                "hãy ghi lý do vẫn gộp (giấy tờ đã đối chiếu).",
                field="override_reason",
                code="clearly_different",
            )
        reason_text = f"{reason_text}\nLý do vẫn gộp dù mô hình đánh giá khác nhau: {override}"
    owner = _merge_owner(survivor, retired)
    before, other = child_snapshot(survivor), child_snapshot(retired)
    fill = {
        k: v for k, v in other.items() if k in validation.FIELDS and validation._blank(before.get(k)) is None
    }
    request = ChangeRequest(
        kind=RequestKind.MERGE,
        unit=owner,
        child=retired,
        survivor=survivor,
        data={k: v for k, v in fill.items() if validation._blank(v) is not None},
        diff={
            "merged_into": [None, str(survivor.public_id)],
            "match_probability": [None, round(likeness, 4)],
            **validation.diff(before, fill),
        },
        base_version=retired.version,
        reason=reason_text,
        client_key=client_key or None,
        proposer=as_person(actor),
    )
    saved = _save_request(request, actor, ())
    if owner.pk != survivor.unit_id and saved.pk == request.pk:
        _notify_merge(saved, survivor, retired)
    return saved


@transaction.atomic
def change_request_resubmit(
    *,
    actor: Principal,
    request: ChangeRequest,
    data: dict[str, Any] | None = None,
    reason: str | None = None,
    evidence: Sequence[evidence_store.EvidenceFile] = (),
    acknowledge_warnings: bool = False,
    not_duplicate_reason: str | None = None,
) -> ChangeRequest:
    """The proposer corrects a returned request and sends it again (returned → pending)."""
    require(actor, "child.propose")
    req = ChangeRequest.objects.select_for_update().get(pk=request.pk)
    if not within(actor, req.unit.path):
        raise PermissionDeniedError("Bạn chỉ được gửi lại đề xuất thuộc đơn vị của mình.")
    if not req.is_proposer(actor):
        raise PermissionDeniedError("Chỉ người đề xuất mới gửi lại được đề xuất này.")
    if not req.can_resubmit(actor):
        raise Conflict("Chỉ người đề xuất mới gửi lại được, và chỉ khi đề xuất đang bị trả lại.")
    before_diff = req.diff
    if data is not None:
        if req.kind == RequestKind.CREATE:
            normalised, parse_issues = validation.normalise(data)
            issues = parse_issues or validation.validate(normalised, validation_context(req.unit))
            req.warnings = _check_issues(issues, acknowledge_warnings)
            req.data, req.diff = normalised, validation.diff({}, normalised)
            reason_given = req.not_duplicate_reason if not_duplicate_reason is None else not_duplicate_reason
            req.duplicate_candidates, req.not_duplicate_reason = _duplicate_check(
                actor, normalised, reason_given, required=req.source in ("manual", "")
            )
        elif req.kind == RequestKind.CHANGE:
            assert req.child is not None
            req.data, req.diff, req.warnings = _change_payload(req.child, data, acknowledge_warnings)
            req.base_version = req.child.version
        req.warnings_acknowledged = bool(req.warnings)
    if reason is not None:
        req.reason = _reason(reason, required=req.kind != RequestKind.CREATE, default=req.reason)
    req.status = RequestStatus.PENDING
    req.proposed_at = timezone.now()
    req.save()
    _attach(req, actor, evidence)
    log_event(
        actor=actor,
        action="child.request_resubmit",
        object_type="change_request",
        object_id=str(req.public_id),
        scope_path=req.unit.path,
        changes={"status": [RequestStatus.RETURNED, RequestStatus.PENDING], "diff": [before_diff, req.diff]}
        | _duplicate_audit(req.duplicate_candidates, req.not_duplicate_reason),
        reason=req.reason,
    )
    return req


# --- decisions (leader) -------------------------------------------------------------------------------


def _check_decider(actor: Principal, request: ChangeRequest) -> None:
    require(actor, "child.approve")
    if getattr(actor, "unit_id", None) != request.unit_id:
        raise PermissionDeniedError("Chỉ lãnh đạo của đơn vị quản lý hồ sơ mới được duyệt đề xuất này.")
    if request.is_proposer(actor):
        raise PermissionDeniedError("Người đề xuất không được tự duyệt đề xuất của mình.")


def _lock_pending(request: ChangeRequest) -> ChangeRequest:
    """Row lock: of two leaders acting at once, the second waits here and then sees the decision."""
    req = (
        ChangeRequest.objects.select_for_update(of=("self",)).select_related("decided_by").get(pk=request.pk)
    )
    if req.status != RequestStatus.PENDING:
        who = req.decided_by.get_full_name() or req.decided_by.username if req.decided_by else ""
        when = timezone.localtime(req.decided_at).strftime("%H:%M %d/%m/%Y") if req.decided_at else ""
        detail = f" bởi {who} lúc {when}" if who else ""
        raise Conflict(
            f"Đề xuất này đã được xử lý ({req.get_status_display()}){detail}; thao tác của bạn không được thực hiện.",
            code="already_decided",
        )
    return req


def _version(
    child: Child, req: ChangeRequest, actor: Principal, delta: dict[str, Any], now: datetime
) -> ChildVersion:
    return ChildVersion.objects.create(
        child=child,
        version=child.version,
        kind=req.kind,
        snapshot=child_snapshot(child),
        diff=delta,
        change_request=req,
        proposed_by=req.proposer,
        proposed_at=req.proposed_at,
        approved_by=as_person(actor),
        approved_at=now,
        event_date=req.event_date,
        reason=req.reason,
    )


def _outbox_item(child: Child) -> OutboxItem:
    """The outbound-exchange entry of an approved child change, ordered per person."""
    key = f"pid:{child.personal_id}" if child.personal_id else f"child:{child.public_id}"
    return OutboxItem("Child", child.pk, person_key=key, scope_path=child.unit.path)


def _lock_child(child_id: int, req: ChangeRequest) -> Child:
    child = Child.objects.select_for_update(of=("self",)).select_related("unit").get(pk=child_id)
    if child.status != ChildStatus.ACTIVE:
        raise Conflict("Hồ sơ đã bị xóa hoặc gộp sau khi đề xuất; hãy từ chối đề xuất này.", code="stale")
    if child.version != req.base_version:
        current = child_snapshot(child)
        for name, (before, _after) in req.diff.items():
            if name in validation.FIELDS and validation._blank(current.get(name)) != validation._blank(
                before
            ):
                label = validation.LABELS[name]
                raise Conflict(
                    f"{label}: hồ sơ đã được thay đổi sau khi đề xuất; hãy trả lại để người đề xuất cập nhật.",
                    field=name,
                    code="stale",
                )
    return child


def _step_up_for(kind: str) -> None:
    if kind in (RequestKind.DELETE, RequestKind.MERGE):
        require_step_up()
    elif kind == RequestKind.CHANGE and getattr(settings, "REGISTRY_STEP_UP_FOR_CHANGES", True):
        # R-SEC-04: changing approved (original) data is a critical operation.
        require_step_up()


@transaction.atomic
def change_request_approve(
    *, actor: Principal, request: ChangeRequest, comment: str = "", not_duplicate_reason: str = ""
) -> ChangeRequest:
    """Duyệt: apply the request atomically and write the history entry (R-CH-04, R-CH-05).

    R-DQ-02: approving a new child that looks like existing children of the commune (checked again now)
    needs the leader's own "đây là trẻ khác" with a reason."""
    _check_decider(actor, request)
    _step_up_for(request.kind)
    req = _lock_pending(request)
    if req.has_open_conflict:
        raise Conflict(
            "Đề xuất có trường bị xung đột với thay đổi khác: hãy giải quyết xung đột trước khi duyệt.",
            code="conflict",
        )
    now = timezone.now()
    duplicate_audit: dict[str, Any] = {}
    if req.kind == RequestKind.CREATE:
        candidates, req.leader_not_duplicate_reason = _duplicate_check(
            actor, req.data, not_duplicate_reason, required=True
        )
        req.duplicate_candidates = candidates or req.duplicate_candidates
        duplicate_audit = _duplicate_audit(candidates, req.leader_not_duplicate_reason)
        # source_ref = the request: traceable, and never collides with (source, ref) of imports
        child = Child(
            unit=req.unit,
            commune_id=req.unit.admin_unit_id,
            source=req.source or "",
            source_ref=str(req.public_id),
        )
        _apply(child, req.data)
        child.version = 1
        child.save()
        _apply_lists(child, req.data)
        req.child = child
        _version(child, req, actor, req.diff, now)
        touched = [child]
    elif req.kind == RequestKind.CHANGE:
        assert req.child_id is not None
        child = _lock_child(req.child_id, req)
        _apply(child, req.data)
        child.version += 1
        child.save()
        _apply_lists(child, req.data)
        _version(child, req, actor, req.diff, now)
        touched = [child]
    elif req.kind == RequestKind.DELETE:
        assert req.child_id is not None
        child = _lock_child(req.child_id, req)
        child.status = ChildStatus.DELETED
        child.deleted_reason = req.reason
        child.version += 1
        child.save()
        _version(child, req, actor, req.diff, now)
        touched = [child]
    else:  # merge: both histories are kept; the retired record points to the survivor
        assert req.child_id is not None and req.survivor_id is not None
        ids = sorted([req.child_id, req.survivor_id])  # lock in a fixed order: no deadlock
        locked = {c.pk: c for c in Child.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
        retired, survivor = locked[req.child_id], locked[req.survivor_id]
        if retired.status != ChildStatus.ACTIVE or survivor.status != ChildStatus.ACTIVE:
            raise Conflict("Một trong hai hồ sơ đã bị xóa hoặc gộp; hãy từ chối đề xuất này.", code="stale")
        fill = {
            k: v for k, v in req.data.items() if validation._blank(child_snapshot(survivor).get(k)) is None
        }
        survivor_diff = validation.diff(child_snapshot(survivor), fill)
        _apply(survivor, fill)
        survivor.version += 1
        survivor.save()
        _apply_lists(survivor, fill)
        _version(survivor, req, actor, {"merged_from": [None, str(retired.public_id)], **survivor_diff}, now)
        retired.status = ChildStatus.MERGED
        retired.merged_into = survivor
        retired.version += 1
        retired.save()
        _version(retired, req, actor, {"merged_into": [None, str(survivor.public_id)]}, now)
        touched = [survivor, retired]
    req.status = RequestStatus.APPROVED
    req.decided_by = as_person(actor)
    req.decided_at = now
    req.comment = (comment or "").strip()
    req.save()
    log_event(
        actor=actor,
        action="child.request_approve",
        object_type="change_request",
        object_id=str(req.public_id),
        scope_path=req.unit.path,
        changes={"status": [RequestStatus.PENDING, RequestStatus.APPROVED]} | duplicate_audit,
        reason=req.reason,
    )
    notices.request_decided(req)
    children_changed(c.pk for c in touched)
    outbox_enqueue(topic="registry.child", items=[_outbox_item(c) for c in touched])
    evidence = _evidence_ref(req.evidence.all())
    for child in touched:
        log_event(
            actor=actor,
            action=f"child.{req.kind}",
            object_type="child",
            object_id=str(child.public_id),
            scope_path=child.unit.path,
            changes=req.diff,
            reason=req.reason,
            evidence_ref=evidence,
        )
    return req


CONFLICT_CHOICES = ("ours", "theirs")


@transaction.atomic
def change_request_resolve_conflict(
    *, actor: Principal, request: ChangeRequest, choices: dict[str, str], comment: str = ""
) -> ChangeRequest:
    """The leader resolves an offline change's conflict field by field (ADR 0042): "ours" keeps the proposed
    value, "theirs" keeps the record's current value. The request stays a pending proposal (maker-checker:
    approval is still its own act, with its step-up) holding only the kept fields, rebased on the current
    version; when nothing is kept it is closed as rejected, with the reason, so the proposer sees its fate."""
    _check_decider(actor, request)
    req = _lock_pending(request)
    if not req.has_open_conflict:
        raise Conflict("Đề xuất này không có xung đột cần giải quyết.", code="no_conflict")
    assert req.child_id is not None
    child = Child.objects.select_for_update(of=("self",)).select_related("unit").get(pk=req.child_id)
    _require_active(child)
    missing = [name for name in req.conflict if choices.get(name) not in CONFLICT_CHOICES]
    if missing:
        labels = ", ".join(validation.LABELS.get(name, name) for name in missing)
        raise DomainError(f"Chọn giá trị giữ lại cho: {labels}.", field=missing[0])
    current = child_snapshot(child)
    kept = {k: v for k, v in req.data.items() if choices.get(k, "ours") == "ours"}
    delta = validation.diff(current, kept)
    resolved = {
        name: {**entry, "choice": choices[name], "theirs": current.get(name)}
        for name, entry in req.conflict.items()
    }
    now = timezone.now()
    before = {"conflict": None, "data": req.diff}
    req.conflict = resolved
    req.conflict_resolved_by = as_person(actor)
    req.conflict_resolved_at = now
    req.data = {k: kept[k] for k in delta}
    req.diff = delta
    req.base_version = child.version
    text = (comment or "").strip()
    if not delta:
        req.status = RequestStatus.REJECTED
        req.decided_by = as_person(actor)
        req.decided_at = now
        req.comment = text or "Giữ giá trị hiện tại của hồ sơ khi giải quyết xung đột."
    req.save()
    log_event(
        actor=actor,
        action="child.conflict_resolve",
        object_type="change_request",
        object_id=str(req.public_id),
        scope_path=req.unit.path,
        changes={
            "conflict": [before["conflict"], {k: v["choice"] for k, v in resolved.items()}],
            "diff": [before["data"], delta],
        },
        reason=text or req.reason,
    )
    if req.status == RequestStatus.REJECTED:
        notices.request_decided(req)
    return req


def _decide_negative(
    actor: Principal, request: ChangeRequest, comment: str, status: str, action: str
) -> ChangeRequest:
    _check_decider(actor, request)
    text = (comment or "").strip()
    if not text:
        raise DomainError("Ý kiến: bắt buộc nhập khi từ chối hoặc trả lại.", field="comment")
    req = _lock_pending(request)
    req.status = status
    req.comment = text
    # Rejected or returned, who decided this round is recorded (a returned request is decided again later).
    req.decided_by, req.decided_at = as_person(actor), timezone.now()
    req.save()
    log_event(
        actor=actor,
        action=action,
        object_type="change_request",
        object_id=str(req.public_id),
        scope_path=req.unit.path,
        changes={"status": [RequestStatus.PENDING, status]},
        reason=text,
    )
    notices.request_decided(req)
    return req


@transaction.atomic
def change_request_reject(*, actor: Principal, request: ChangeRequest, comment: str) -> ChangeRequest:
    return _decide_negative(actor, request, comment, RequestStatus.REJECTED, "child.request_reject")


@transaction.atomic
def change_request_return_for_correction(
    *, actor: Principal, request: ChangeRequest, comment: str
) -> ChangeRequest:
    return _decide_negative(actor, request, comment, RequestStatus.RETURNED, "child.request_return")


# --- initial migration (QĐ 3978 Điều 20): records approved by a named leader ----------------------------


@transaction.atomic
def children_import(
    *,
    approver: Any,
    rows: Iterable[dict[str, Any]],
    source: str,
    unit: Any | None = None,
    file_name: str = "",
    strict: bool = False,
    on_issue: Callable[[Any], None] | None = None,
    chunk_size: int | None = None,
) -> Any:
    """Initial migration (QĐ 3978 Điều 20): template rows → live records, each with one history entry.

    The leader named by the caller approves the whole file: an active leader of `unit`, or, without a unit,
    of a unit above every `ma_don_vi` of the file (refused as a whole otherwise). Good rows load; a bad row is
    reported (row, column, Vietnamese message, via `on_issue`) and left out — or, with `strict`, nothing is
    written. A record number (`ma_ho_so`) already imported from `source` is skipped, so re-running the same
    file changes nothing. One audit entry per commune unit, not per row. Returns a `bulk_import.ImportSummary`.
    """

    from . import bulk_import as bulk

    if not source or len(source) > 64:
        raise DomainError("Tên nguồn dữ liệu: bắt buộc, tối đa 64 ký tự.", field="source")
    bulk.check_approver(approver, unit=unit)
    now = timezone.now()
    reason = f"Chuyển dữ liệu ban đầu từ nguồn '{source}' (QĐ 3978 Điều 20)"
    summary = bulk.ImportSummary(source=source)

    # On PostgreSQL one writer thread inserts chunk N while this thread checks chunk N+1 (the database and
    # the Python checks overlap on two cores, issue 14). It uses the same psycopg connection (same
    # transaction); this thread touches the database only after `drain()` has waited for it, so the two
    # never interleave statements (a savepoint of a new village never wraps half a chunk).
    executor = ThreadPoolExecutor(max_workers=1) if connection.vendor == "postgresql" else None
    in_flight: list[Future[Any]] = []

    def drain() -> None:
        while in_flight:
            collect(in_flight.pop(0).result())

    def add_pending(commune: Any, name: str, kind: str) -> Any:
        drain()
        village = places_services.village_add_pending(
            actor=approver, commune=commune, name=name, kind=kind, reason=f"{reason}, tệp {file_name}"
        )
        summary.villages_created.append(f"{commune.name}: {village}")
        return village

    def report(issue: Any) -> None:
        summary.count(issue)
        if on_issue is not None:
            on_issue(issue)

    checker = bulk.RowChecker(
        approver=approver,
        unit=unit,
        # Villages are resolved per row's commune by the checker (never a reason to refuse the file).
        context=dataclasses.replace(validation_context(None), villages=None),
        add_pending=add_pending,
        before_db=drain,
    )
    writer = bulk.ChunkWriter(source=source, approver=approver, reason=reason, now=now)
    units: dict[str, Any] = {}

    def flush(chunk: list[Any]) -> None:
        drain()  # one chunk in flight: memory stays bounded, issues are reported in file order
        if executor is None:
            collect(writer.write(chunk))
        else:
            in_flight.append(executor.submit(writer.write, chunk))

    def collect(result: tuple[list[Any], list[Any], list[Any]]) -> None:
        created, skipped, issues = result
        for issue in issues:
            summary.rejected += 1
            report(issue)
        for items, counter in ((created, summary.created_by_unit), (skipped, summary.skipped_by_unit)):
            for g in items:
                units[g.unit.code] = g.unit
                counter[g.unit.code] = counter.get(g.unit.code, 0) + 1
        summary.created += len(created)
        summary.skipped += len(skipped)
        # A skipped row's warnings were reported when it was loaded: a re-run prints only what is new.
        for g in created:
            for warning in g.warnings:
                report(warning)

    size = chunk_size or bulk.CHUNK
    chunk: list[Any] = []
    try:
        for row in rows:
            summary.rows += 1
            checked = checker.check(row)
            if isinstance(checked, list):
                summary.rejected += 1
                for issue in checked:
                    report(issue)
                continue
            chunk.append(checked)
            if len(chunk) >= size:
                flush(chunk)
                chunk = []
        flush(chunk)
        drain()
    finally:
        if executor is not None:
            executor.shutdown(wait=True)  # never leave the transaction with a chunk still being written
    writer.close()
    if strict and summary.rejected:
        raise ValidationFailed(
            [],
            message=f"{summary.rejected}/{summary.rows} dòng có lỗi; chế độ --strict: không ghi dữ liệu nào.",
        )
    for code in sorted(set(summary.created_by_unit) | set(summary.skipped_by_unit)):
        target = units[code]
        log_event(
            actor=approver,
            action="child.import",
            object_type="import",
            object_id=f"{source}:{code}"[:64],
            scope_path=target.path,
            changes={
                "source": [None, source],
                "file": [None, file_name],
                "unit": [None, code],
                "created": [None, summary.created_by_unit.get(code, 0)],
                "skipped": [None, summary.skipped_by_unit.get(code, 0)],
            },
            reason=reason,
        )
    return summary


# --- identity verification (R-CH-02 step 4, R-INT-04) -------------------------------------------------


@transaction.atomic
def verification_create(*, actor: Principal, child: Child) -> Verification:
    """A pending identity check; the integrations layer runs it (and retries it) after commit."""
    require(actor, "child.verify")
    if not within(actor, child.unit.path):
        raise PermissionDeniedError("Hồ sơ không thuộc phạm vi của bạn.")
    if not child.personal_id:
        raise DomainError("Hồ sơ chưa có số định danh để xác minh.", field="personal_id")
    verification = Verification.objects.filter(child=child, status=VerificationStatus.PENDING).first()
    if verification is None:
        verification = Verification.objects.create(child=child, requested_by=as_person(actor))
    log_event(
        actor=actor,
        action="child.verify_request",
        object_type="child",
        object_id=str(child.public_id),
        scope_path=child.unit.path,
    )
    return verification


@transaction.atomic
def verification_record_failure(*, verification_id: int, error: str, max_attempts: int) -> Verification:
    """A gateway error or timeout, counted on the row (the one attempt counter). The check stays pending (to be
    retried) until `max_attempts`, then it is FAILED for good: no sweep turns it back."""
    v = (
        Verification.objects.select_for_update(of=("self",))
        .select_related("child__unit")
        .get(pk=verification_id)
    )
    if v.status != VerificationStatus.PENDING:
        return v  # answered or failed meanwhile
    v.attempts += 1
    v.last_error = error[:255]
    if v.attempts >= max_attempts:
        v.status = VerificationStatus.FAILED
        v.completed_at = timezone.now()
        log_event(
            actor=None,
            action="child.verify_failed",
            object_type="child",
            object_id=str(v.child.public_id),
            scope_path=v.child.unit.path,
            changes={"attempts": [None, v.attempts], "error": [None, v.last_error]},
        )
    v.save()
    return v


@transaction.atomic
def verification_record_result(*, verification_id: int, result: str, detail: dict[str, Any]) -> Verification:
    """Land the gateway's answer on the record: verified flag, date and mismatch kind."""
    v = (
        Verification.objects.select_for_update(of=("self",))
        .select_related("child__unit")
        .get(pk=verification_id)
    )
    if v.status == VerificationStatus.DONE:
        return v  # idempotent: a retried task that already landed
    now = timezone.now()
    v.status, v.result, v.detail, v.completed_at = VerificationStatus.DONE, result, detail, now
    v.attempts += 1
    v.save()
    child = Child.objects.select_for_update().get(pk=v.child_id)
    before = [child.id_verified, child.id_verification_result]
    child.id_verified = result == "match"
    child.id_verified_at = now
    child.id_verification_result = result
    child.save(update_fields=["id_verified", "id_verified_at", "id_verification_result", "updated_at"])
    log_event(
        actor=None,
        action="child.verify_result",
        object_type="child",
        object_id=str(child.public_id),
        scope_path=v.child.unit.path,
        changes={
            "id_verified": [before[0], child.id_verified],
            "id_verification_result": [before[1], result],
        },
    )
    return v


# --- correction requests from a managing body (R-CH-06) ------------------------------------------------


@transaction.atomic
def correction_request_file(
    *,
    actor: Principal,
    child: Child,
    description: str,
    field: str = "",
    evidence: Sequence[evidence_store.EvidenceFile] = (),
) -> CorrectionRequest:
    """Yêu cầu chỉnh sửa from a higher unit's leader; due in 1 working day (VN weekends/holidays)."""
    require(actor, "child.request_correction")
    person = as_person(actor)
    unit = person.unit
    if unit is None or not in_subtree(child.unit.path, unit.path) or child.unit_id == unit.pk:
        raise PermissionDeniedError("Chỉ đơn vị quản lý cấp trên mới gửi yêu cầu chỉnh sửa.")
    text = (description or "").strip()
    if not text:
        raise DomainError("Nội dung sai sót: bắt buộc nhập.", field="description")
    if field and field not in validation.FIELDS:
        raise DomainError("Trường cần sửa không hợp lệ.", field="field")
    now = timezone.now()
    correction = CorrectionRequest.objects.create(
        child=child,
        unit=child.unit,
        from_unit=unit,
        field=field,
        description=text,
        filed_by=person,
        filed_at=now,
        due_at=add_working_days(timezone.localtime(now), 1),
    )
    for file in evidence:
        content_type = evidence_store.check(file)
        Evidence.objects.create(
            unit=child.unit,
            correction=correction,
            sha256=evidence_store.write(file.content),
            filename=file.name[:200],
            content_type=content_type,
            size=len(file.content),
            uploaded_by=person,
        )
    log_event(
        actor=actor,
        action="child.correction_file",
        object_type="correction_request",
        object_id=str(correction.public_id),
        scope_path=child.unit.path,
        changes={"field": [None, field]},
        reason=text,
    )
    notices.correction_filed(correction, child)
    return correction


@transaction.atomic
def correction_request_respond(
    *, actor: Principal, correction: CorrectionRequest, response: str, fixed_by: ChangeRequest | None = None
) -> CorrectionRequest:
    """The commune answers: fixed (pointing to the change request) or a written reason why not."""
    c = CorrectionRequest.objects.select_for_update().get(pk=correction.pk)
    if not c.can_respond(actor):
        raise Conflict("Yêu cầu chỉnh sửa đã được trả lời hoặc bạn không thuộc đơn vị phải trả lời.")
    text = (response or "").strip()
    if not text:
        raise DomainError("Nội dung trả lời: bắt buộc nhập (sửa gì hoặc lý do không sửa).", field="response")
    c.status = CorrectionStatus.FIXED if fixed_by is not None else CorrectionStatus.ANSWERED
    c.response, c.responded_by, c.responded_at, c.fix_request = (
        text,
        as_person(actor),
        timezone.now(),
        fixed_by,
    )
    c.save()
    log_event(
        actor=actor,
        action="child.correction_respond",
        object_type="correction_request",
        object_id=str(c.public_id),
        scope_path=c.unit.path,
        changes={"status": [CorrectionStatus.OPEN, c.status]},
        reason=text,
    )
    return c


@transaction.atomic
def change_request_attach_evidence(
    *, actor: Principal, request: ChangeRequest, files: Sequence[evidence_store.EvidenceFile]
) -> list[Evidence]:
    """The proposer adds evidence to an open (pending or returned) request."""
    require(actor, "child.propose")
    req = ChangeRequest.objects.select_for_update().get(pk=request.pk)
    if not req.is_proposer(actor):
        raise PermissionDeniedError("Chỉ người đề xuất mới thêm được minh chứng cho đề xuất này.")
    if req.status not in (
        RequestStatus.PENDING,
        RequestStatus.RETURNED,
    ):
        raise Conflict("Chỉ người đề xuất thêm được minh chứng, khi đề xuất chưa được quyết định.")
    stored = _attach(req, actor, files)
    log_event(
        actor=actor,
        action="child.request_evidence",
        object_type="change_request",
        object_id=str(req.public_id),
        scope_path=req.unit.path,
        evidence_ref=_evidence_ref(stored),
    )
    return stored


EVIDENCE_ORPHAN_TTL_HOURS = 24


def evidence_sweep(*, ttl_hours: int = EVIDENCE_ORPHAN_TTL_HOURS) -> int:
    """Cleanup job (issue 10 item 10): evidence files no Evidence row refers to - a request that failed after
    its files were written - are removed once older than the TTL (a request in flight is never that old).
    Files are content-addressed and shared: a file is kept while any record refers to its checksum."""

    referenced = set(Evidence.objects.values_list("sha256", flat=True))
    orphans = evidence_store.unreferenced_older_than(referenced, time.time() - ttl_hours * 3600)
    for path in orphans:
        path.unlink(missing_ok=True)
    if orphans:
        with transaction.atomic():
            log_event(
                actor=None, action="evidence.sweep", object_type="evidence", object_id="*",
                changes={"removed": [0, len(orphans)]},
            )  # fmt: skip
    return len(orphans)
