"""The child registry (hệ thống quản lý thông tin trẻ em tại cơ sở, QĐ 3978; R-CH-01).

A live `Child` row is only ever written by an approved request (R-CH-05); see services.py.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mchis.accounts.permissions import can
from mchis.core.principal import Principal, PrincipalRef, same_principal
from mchis.core.scoping import ScopedQuerySet, subtree_q


class Sex(models.TextChoices):
    MALE = "M", _("Nam")
    FEMALE = "F", _("Nữ")


class ChildStatus(models.TextChoices):
    ACTIVE = "active", _("Đang theo dõi")
    DELETED = "deleted", _("Đã xóa")
    MERGED = "merged", _("Đã gộp")


class ChildQuerySet(ScopedQuerySet["Child"]):
    def active(self) -> ChildQuerySet:
        return self.filter(status=ChildStatus.ACTIVE)

    def without_id(self) -> ChildQuerySet:
        return self.filter(personal_id="")

    def search(self, q: str) -> ChildQuerySet:
        """Name (diacritic/case-insensitive), guardian or parent name, DOB (dd/mm/yyyy or ISO), ID number."""
        from .search import search_filter

        return self.filter(search_filter(q))


class Child(models.Model):
    SCOPE_PATH = "unit__path"
    PROVINCE_UNIT_FIELD = "unit"  # province_code follows the unit (units.services.restamp_province_codes)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # no index of its own: (unit, status) below starts with it (one index less to keep on every write, issue 14)
    unit = models.ForeignKey(
        "units.ReportingUnit", on_delete=models.PROTECT, related_name="children_registered", db_index=False
    )
    # no index of its own: (commune, village) and (commune, date_of_birth) below both start with it
    commune = models.ForeignKey(
        "places.AdminUnit", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    village = models.ForeignKey(
        "places.Village", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address_detail = models.CharField(max_length=255, blank=True)
    # 2025 province code of `unit` (shard key, ADR 0074/0075): set by save() and by the bulk writers.
    province_code = models.CharField(max_length=2, blank=True, default="")

    full_name = models.CharField(max_length=150)
    name_folded = models.CharField(max_length=150, db_index=True, help_text="Lower case, no diacritics")
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    ethnicity_code = models.CharField(max_length=8, blank=True, help_text="QĐ 121-TCTK/PPCĐ code")
    personal_id = models.CharField(max_length=12, blank=True, db_index=True, help_text="Số định danh cá nhân")

    father_name = models.CharField(max_length=150, blank=True)
    father_dob = models.DateField(null=True, blank=True)
    father_personal_id = models.CharField(max_length=12, blank=True)
    mother_name = models.CharField(max_length=150, blank=True)
    mother_dob = models.DateField(null=True, blank=True)
    mother_personal_id = models.CharField(max_length=12, blank=True)
    guardian_name = models.CharField(max_length=150, blank=True)
    guardian_dob = models.DateField(null=True, blank=True)
    guardian_personal_id = models.CharField(max_length=12, blank=True)
    guardian_relationship = models.CharField(
        max_length=32, blank=True, help_text="Catalog 'child_relationship'"
    )
    guardian_name_folded = models.CharField(max_length=150, blank=True, db_index=True)
    parents_folded = models.CharField(
        max_length=310, blank=True, default="", help_text="fold(father) | fold(mother), for search by parent"
    )

    status = models.CharField(max_length=10, choices=ChildStatus.choices, default=ChildStatus.ACTIVE)
    # indexed only where set (below): almost every record is unmerged, and an index of NULLs costs every insert
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    source = models.CharField(
        max_length=64, blank=True, help_text="Where the record came from (import source)"
    )
    source_ref = models.CharField(max_length=64, blank=True)
    version = models.PositiveIntegerField(default=0, help_text="Bumped by every approved change (history)")
    deleted_reason = models.TextField(blank=True)
    # Identity check against the national population database (R-INT-04) / commune police (R-CH-02).
    id_verified = models.BooleanField(default=False)
    id_verified_at = models.DateTimeField(null=True, blank=True)
    id_verification_result = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChildQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["unit", "status"]),
            models.Index(fields=["date_of_birth"]),
            models.Index(fields=["commune", "village"]),
            # the entry-time duplicate check's commune rule (same commune, DOB or its swap): at 10 M children the
            # DOB index alone read the nation's births of that day (docs/national-scale.md)
            models.Index(fields=["commune", "date_of_birth"]),
            models.Index(
                fields=["merged_into"], condition=Q(merged_into__isnull=False), name="child_merged_into_set"
            ),
        ]  # pg_trgm GIN indexes on name_folded / guardian_name_folded: migration 0003 (PostgreSQL only)
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_ref"], condition=~Q(source=""), name="child_unique_source_ref"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.unit_id is not None:
            from mchis.units.provinces import province_code_of

            self.province_code = province_code_of(self.unit_id)
            fields = kwargs.get("update_fields")
            if fields is not None and ("unit" in fields or "unit_id" in fields):
                kwargs["update_fields"] = {*fields, "province_code"}
        super().save(*args, **kwargs)


class CircumstanceMembership(models.Model):
    """Membership of a circumstance group (hoàn cảnh đặc biệt, nguy cơ, khác, được trợ giúp) with dates."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="circumstances")
    group_code = models.CharField(max_length=32, help_text="Catalog 'child_circumstance'")
    subgroup_code = models.CharField(max_length=32, blank=True)
    start_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True) | Q(end_date__gte=models.F("start_date")),
                name="circumstance_dates_ordered",
            )
        ]


class SupportReceived(models.Model):
    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="supports")
    support_type_code = models.CharField(max_length=32, help_text="Catalog 'support_type'")
    date = models.DateField()
    provider = models.CharField(max_length=200, blank=True)


# --- Maker-checker (R-CH-05) -------------------------------------------------------------------------


class RequestKind(models.TextChoices):
    CREATE = "create", _("Thêm mới")
    CHANGE = "change", _("Thay đổi")
    DELETE = "delete", _("Xóa")
    MERGE = "merge", _("Gộp hồ sơ trùng")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Chờ duyệt")
    APPROVED = "approved", _("Đã duyệt")
    REJECTED = "rejected", _("Từ chối")
    RETURNED = "returned", _("Trả lại để sửa")


class ChangeRequestQuerySet(ScopedQuerySet["ChangeRequest"]):
    def pending(self) -> ChangeRequestQuerySet:
        return self.filter(status=RequestStatus.PENDING)

    def open(self) -> ChangeRequestQuerySet:
        return self.filter(status__in=[RequestStatus.PENDING, RequestStatus.RETURNED])


class ChangeRequest(models.Model):
    """Đề xuất thay đổi: a collector's proposal that a leader approves, rejects or returns (R-CH-05).

    `data` holds the full proposed values (create) or the proposed new values (change);
    `diff` is the field-level difference {field: [before, after]} shown to the leader.
    """

    SCOPE_PATH = "unit__path"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=8, choices=RequestKind.choices)
    status = models.CharField(max_length=10, choices=RequestStatus.choices, default=RequestStatus.PENDING)
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    child = models.ForeignKey(
        Child,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="change_requests",
        help_text="Target record (change/delete); the retired record for a merge; set on approval for create",
    )
    survivor = models.ForeignKey(
        Child, null=True, blank=True, on_delete=models.PROTECT, related_name="+", help_text="Merge only"
    )
    data = models.JSONField(default=dict, blank=True)
    diff = models.JSONField(default=dict, blank=True)
    base_version = models.PositiveIntegerField(default=0)
    warnings = models.JSONField(default=list, blank=True)
    warnings_acknowledged = models.BooleanField(default=False)
    reason = models.TextField()
    event_date = models.DateField(
        null=True, blank=True, help_text="When the change happened in reality (R-CH-07)"
    )
    source = models.CharField(max_length=64, blank=True, help_text="manual, import, survey, police …")
    # Idempotency key of the proposal, unique per proposer (another person's key is simply another key).
    client_key = models.CharField(max_length=64, null=True, blank=True)
    proposer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(blank=True, help_text="Leader's comment (required to reject or return)")
    # R-DQ-02 at the point of decision: existing children that looked like this one (plain data: public_id,
    # name, probability, differing field keys) and each person's reason for going on ("đây là trẻ khác").
    duplicate_candidates = models.JSONField(default=list, blank=True)
    not_duplicate_reason = models.TextField(blank=True, help_text="Proposer: why this is a different child")
    leader_not_duplicate_reason = models.TextField(
        blank=True, help_text="Approving leader: why this is a different child"
    )
    # Offline edits (docs/offline.md, ADR 0042): a change proposal made on an older version of the record, whose
    # fields were changed on the server meanwhile, carries those fields here, {field: {base, theirs, ours, by,
    # at}}; the leader resolves them field by field (`change_request_resolve_conflict`) before deciding.
    conflict = models.JSONField(default=dict, blank=True)
    conflict_resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    conflict_resolved_at = models.DateTimeField(null=True, blank=True)

    objects = ChangeRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-proposed_at"]
        indexes = [models.Index(fields=["unit", "status"]), models.Index(fields=["proposer", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["proposer", "client_key"],
                condition=Q(client_key__isnull=False),
                name="changerequest_client_key_per_proposer",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "returned"])
                | Q(decided_by__isnull=False, decided_at__isnull=False),
                name="changerequest_decided_has_decider",
            ),
            models.CheckConstraint(
                condition=~Q(kind="merge") | Q(survivor__isnull=False, child__isnull=False),
                name="changerequest_merge_has_both",
            ),
            models.CheckConstraint(
                condition=Q(kind="create") | Q(child__isnull=False), name="changerequest_target_set"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.get_status_display()})"

    # Predicates shared by the UI and the service guards (STYLE.md practice 6).
    def can_decide(self, user: Principal) -> bool:
        return (
            self.status == RequestStatus.PENDING
            and user.role == "leader"
            and user.unit is not None
            and user.unit.pk == self.unit_id
        )

    @property
    def has_open_conflict(self) -> bool:
        return bool(self.conflict) and self.conflict_resolved_at is None

    @property
    def proposer_ref(self) -> PrincipalRef:
        return PrincipalRef.user(self.proposer_id)

    def is_proposer(self, principal: Principal) -> bool:
        """Same identity as the proposer (kind and id: token N is not user N)."""
        return same_principal(principal, self.proposer_ref)

    def can_resubmit(self, user: Any) -> bool:
        return self.status == RequestStatus.RETURNED and self.is_proposer(user) and can(user, "child.propose")

    @property
    def entry_delay_days(self) -> int | None:
        """R-CH-07: days between the real-world event and its entry."""
        if self.event_date is None:
            return None
        return (timezone.localtime(self.proposed_at).date() - self.event_date).days


class Evidence(models.Model):
    """Tài liệu minh chứng: a scanned page/PDF stored outside the database by its sha256 (R-CH-05)."""

    SCOPE_PATH = "unit__path"

    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    change_request = models.ForeignKey(
        ChangeRequest, null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    correction = models.ForeignKey(
        "CorrectionRequest", null=True, blank=True, on_delete=models.PROTECT, related_name="evidence"
    )
    sha256 = models.CharField(max_length=64, db_index=True)
    filename = models.CharField(max_length=200)
    content_type = models.CharField(max_length=40)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.filename} ({self.sha256[:12]})"


class ChildVersion(models.Model):
    """One approved change of a record (R-CH-04): the full record after it, and what changed.

    Written only by the approve service (and the approved import); never edited.
    """

    SCOPE_PATH = "child__unit__path"

    # no index of its own: the unique (child, version) and (child, approved_at) both start with it
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="versions", db_index=False)
    version = models.PositiveIntegerField()
    kind = models.CharField(max_length=8, choices=RequestKind.choices)
    snapshot = models.JSONField(help_text="The whole record after this change")
    diff = models.JSONField(default=dict)
    # indexed only where set (Meta): imported records' history has no request
    change_request = models.ForeignKey(
        ChangeRequest,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="versions",
        db_index=False,
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposed_at = models.DateTimeField()
    approved_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    approved_at = models.DateTimeField()
    event_date = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["child", "version"]
        constraints = [
            models.UniqueConstraint(fields=["child", "version"], name="childversion_unique_version"),
        ]
        indexes = [
            models.Index(fields=["child", "approved_at"]),
            models.Index(
                fields=["change_request"],
                condition=Q(change_request__isnull=False),
                name="childversion_request_set",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.child_id} v{self.version}"

    @property
    def entry_delay_days(self) -> int | None:
        if self.event_date is None:
            return None
        return (timezone.localtime(self.proposed_at).date() - self.event_date).days


# --- Identity verification (R-CH-02 step 4, R-INT-04) ------------------------------------------------


class VerificationStatus(models.TextChoices):
    PENDING = "pending", _("Đang chờ")
    DONE = "done", _("Đã có kết quả")
    FAILED = "failed", _("Lỗi (đã thử hết số lần)")


class Verification(models.Model):
    """One identity check of a child against the national population database; never lost on errors."""

    SCOPE_PATH = "child__unit__path"

    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="verifications")
    status = models.CharField(
        max_length=8, choices=VerificationStatus.choices, default=VerificationStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=255, blank=True)
    result = models.CharField(max_length=16, blank=True, help_text="match, wrong_dob, wrong_name, …")
    detail = models.JSONField(default=dict, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["status", "requested_at"])]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="done") | (Q(completed_at__isnull=False) & ~Q(result="")),
                name="verification_done_has_result",
            )
        ]


# --- Correction requests from a managing body (R-CH-06) ----------------------------------------------


class CorrectionStatus(models.TextChoices):
    OPEN = "open", _("Chờ xử lý")
    FIXED = "fixed", _("Đã sửa")
    ANSWERED = "answered", _("Đã trả lời bằng văn bản")


class CorrectionRequestQuerySet(ScopedQuerySet["CorrectionRequest"]):
    def overdue(self, *, now: Any = None) -> CorrectionRequestQuerySet:
        return self.filter(status=CorrectionStatus.OPEN, due_at__lt=now or timezone.now())

    def involving(self, principal: Principal) -> CorrectionRequestQuerySet:
        """Filed by or against the principal's subtree: both sides see it (R-CH-06)."""
        unit = principal.unit
        if unit is None:
            return self if principal.is_superuser else self.none()
        return self.filter(subtree_q("unit__path", unit.path) | subtree_q("from_unit__path", unit.path))


class CorrectionRequest(models.Model):
    """Yêu cầu chỉnh sửa from a higher unit; the commune fixes or answers within 1 working day."""

    SCOPE_PATH = "unit__path"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    child = models.ForeignKey(Child, on_delete=models.PROTECT, related_name="corrections")
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    from_unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    field = models.CharField(max_length=40, blank=True)
    description = models.TextField()
    status = models.CharField(max_length=10, choices=CorrectionStatus.choices, default=CorrectionStatus.OPEN)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    filed_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    fix_request = models.ForeignKey(
        ChangeRequest, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = CorrectionRequestQuerySet.as_manager()

    class Meta:
        ordering = ["due_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | (Q(responded_at__isnull=False) & ~Q(response="")),
                name="correction_closed_has_answer",
            )
        ]

    def can_respond(self, user: Principal) -> bool:
        return (
            self.status == CorrectionStatus.OPEN
            and user.role in {"collector", "leader"}
            and user.unit is not None
            and user.unit.pk == self.unit_id
        )

    @property
    def is_overdue(self) -> bool:
        return self.status == CorrectionStatus.OPEN and self.due_at < timezone.now()
