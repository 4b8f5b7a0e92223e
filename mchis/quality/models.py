"""Data quality (chất lượng dữ liệu): findings, scans, duplicate review, scores, audits (phúc tra).

R-DQ-01..08, QĐ 3978 Điều 4, 14-17.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from mchis.core.scoping import ScopedQuerySet

# --- findings and scans -------------------------------------------------------------------------


class FindingStatus(models.TextChoices):
    OPEN = "open", _("Đang mở")
    FIXED = "fixed", _("Đã khắc phục")
    ACCEPTED = "accepted", _("Chấp nhận (có lý do)")


class ScanRun(models.Model):
    """One full rule scan (quét tự động, Điều 16.1). `checkpoint` = last child id done: resume point."""

    class Status(models.TextChoices):
        RUNNING = "running", _("Đang chạy")
        DONE = "done", _("Hoàn tất")
        FAILED = "failed", _("Lỗi")

    unit = models.ForeignKey("units.ReportingUnit", null=True, blank=True, on_delete=models.PROTECT)
    scope_path = models.CharField(max_length=512, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    checkpoint = models.BigIntegerField(default=0)
    records = models.PositiveIntegerField(default=0)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["scope_path"], condition=Q(status="running"), name="scanrun_one_running_per_scope"
            )
        ]


class FindingQuerySet(ScopedQuerySet["Finding"]):
    def open(self) -> FindingQuerySet:
        return self.filter(status=FindingStatus.OPEN)


class Finding(models.Model):
    """One rule violation on one child. Unique per (rule, child, fingerprint): re-runs never duplicate."""

    SCOPE_PATH = "unit__path"

    rule_code = models.CharField(max_length=32)
    criterion = models.CharField(max_length=16)
    severity = models.CharField(max_length=8, default="error")
    child = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="quality_findings")
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    fingerprint = models.CharField(max_length=64, blank=True)
    field = models.CharField(max_length=64, blank=True)
    message = models.CharField(max_length=300)
    details = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=FindingStatus.choices, default=FindingStatus.OPEN)
    first_seen = models.DateTimeField()
    last_seen = models.DateTimeField()
    last_scan = models.ForeignKey(ScanRun, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    accepted_reason = models.TextField(blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = FindingQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["rule_code", "child", "fingerprint"], name="finding_unique_key"),
            models.CheckConstraint(
                condition=~Q(status="accepted") | ~Q(accepted_reason=""), name="finding_accept_needs_reason"
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "status", "criterion"]),
            models.Index(fields=["rule_code", "status"]),
        ]


class RuleError(models.Model):
    """A rule that crashed on a strange record (lỗi quy tắc): reported with the record id, scan goes on."""

    scan = models.ForeignKey(
        ScanRun, null=True, blank=True, on_delete=models.CASCADE, related_name="rule_errors"
    )
    rule_code = models.CharField(max_length=32)
    child_id_value = models.BigIntegerField(null=True)
    error = models.TextField()
    at = models.DateTimeField(auto_now_add=True)


# --- duplicates (R-DQ-02) ------------------------------------------------------------------------


class CandidateStatus(models.TextChoices):
    OPEN = "open", _("Chờ xem xét")
    CONFIRMED = "confirmed", _("Xác nhận trùng")
    NOT_DUPLICATE = "not_duplicate", _("Không trùng")


class DuplicateCandidate(models.Model):
    """A pair of children that may be one real child (nghi trùng). child_a.id < child_b.id, one row per pair.

    "Not a duplicate" stays stored, so the pair is never proposed again.
    """

    SCOPE_PATH = "unit__path"

    child_a = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    child_b = models.ForeignKey("registry.Child", on_delete=models.CASCADE, related_name="+")
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    probability = models.FloatField()
    status = models.CharField(max_length=16, choices=CandidateStatus.choices, default=CandidateStatus.OPEN)
    found_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True)
    merge_request_id = models.BigIntegerField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["child_a", "child_b"], name="dupcandidate_unique_pair"),
            models.CheckConstraint(condition=Q(child_a__lt=F("child_b")), name="dupcandidate_ordered_pair"),
        ]
        indexes = [models.Index(fields=["unit", "status"])]

    def can_decide(self) -> bool:
        return self.status == CandidateStatus.OPEN


# --- scores (R-DQ-01) -----------------------------------------------------------------------------


class QualitySnapshot(models.Model):
    """Score of one unit on one criterion for one month (điểm chất lượng), refreshed incrementally."""

    SCOPE_PATH = "unit__path"

    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="First day of the month")
    criterion = models.CharField(max_length=16)
    records = models.PositiveIntegerField(default=0)
    records_with_findings = models.PositiveIntegerField(default=0)
    score = models.FloatField(default=100.0)
    computed_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "month", "criterion"], name="snapshot_unique_unit_month")
        ]


# --- audits (phúc tra, R-DQ-04..08) -----------------------------------------------------------------


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", _("Mới tạo")
    SAMPLED = "sampled", _("Đã chọn mẫu")
    CLOSED = "closed", _("Đã kết thúc")
    SIGNED = "signed", _("Đã ký biên bản")


class AuditKind(models.TextChoices):
    DESK = "desk", _("Phúc tra hồ sơ lưu trữ (Điều 16.2)")
    FIELD = "field", _("Phúc tra thực địa (Điều 16.3)")


class AuditCampaign(models.Model):
    """A phúc tra campaign of one audited unit by an auditing unit. Immutable once signed (R-DQ-08)."""

    SCOPE_PATH = "auditor_unit__path"

    code = models.CharField(max_length=32, unique=True)
    audited_unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    auditor_unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=8, choices=AuditKind.choices, default=AuditKind.DESK)
    status = models.CharField(max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT)
    seed = models.BigIntegerField()
    sample_rate = models.FloatField(default=0.05)
    minimum_sample = models.PositiveIntegerField(default=30)
    population = models.PositiveIntegerField(default=0)
    auditors = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="audit_campaigns")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_on = models.DateField()
    closed_at = models.DateTimeField(null=True, blank=True)
    corrective_actions = models.TextField(blank=True)
    fix_deadline = models.DateField(
        null=True,
        blank=True,
        help_text="Deadline for the corrective actions, typed by the auditor at closing",
    )
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    minutes_pdf = models.BinaryField(null=True, blank=True)
    minutes_sha256 = models.CharField(max_length=64, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="signed") | (Q(signed_at__isnull=False) & ~Q(minutes_sha256="")),
                name="campaign_signed_has_minutes",
            ),
            models.CheckConstraint(condition=Q(sample_rate__gte=0.05), name="campaign_rate_at_least_5pct"),
        ]

    def __str__(self) -> str:
        return self.code

    def can_sample(self) -> bool:
        return self.status == CampaignStatus.DRAFT

    def can_record(self) -> bool:
        return self.status == CampaignStatus.SAMPLED

    def can_close(self) -> bool:
        return self.status == CampaignStatus.SAMPLED

    def can_sign(self) -> bool:
        return self.status == CampaignStatus.CLOSED


class AuditSample(models.Model):
    """One sampled child record (hồ sơ được chọn mẫu)."""

    campaign = models.ForeignKey(AuditCampaign, on_delete=models.PROTECT, related_name="samples")
    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="+")
    stratum = models.CharField(max_length=32, help_text="Village id (thôn) or '-' when none")
    checked = models.BooleanField(default=False)
    is_junk = models.BooleanField(default=False, help_text="Hồ sơ rác: cancel at once")
    note = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["campaign", "child"], name="sample_unique_child")]
        ordering = ["campaign", "stratum", "id"]


class MismatchCause(models.TextChoices):
    ENTRY_ERROR = "entry_error", _("Lỗi nhập liệu")
    ALTERED_PAPER = "altered_paper", _("Hồ sơ giấy bị sửa")
    OTHER = "other", _("Khác")


class ErrorClass(models.TextChoices):
    TECHNICAL = "technical", _("Lỗi kỹ thuật")
    PROCESS = "process", _("Lỗi quy trình")
    INTENTIONAL = "intentional", _("Cố ý làm sai lệch")


class AuditFieldResult(models.Model):
    """System vs paper (or on-site) for one field of one sampled record."""

    sample = models.ForeignKey(AuditSample, on_delete=models.PROTECT, related_name="results")
    field = models.CharField(max_length=32)
    matches = models.BooleanField()
    system_value = models.CharField(max_length=255, blank=True)
    observed_value = models.CharField(max_length=255, blank=True)
    cause = models.CharField(max_length=16, choices=MismatchCause.choices, blank=True)
    error_class = models.CharField(max_length=16, choices=ErrorClass.choices, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sample", "field"], name="fieldresult_unique_field"),
            models.CheckConstraint(
                condition=Q(matches=True) | (~Q(cause="") & ~Q(error_class="")),
                name="fieldresult_mismatch_has_cause",
            ),
        ]


class TaskKind(models.TextChoices):
    FIX = "fix", _("Sửa lỗi trong 24 giờ")
    CANCEL = "cancel", _("Hủy/chuẩn hóa hồ sơ rác ngay")
    ESCALATE = "escalate", _("Báo cáo lãnh đạo (cố ý làm sai lệch)")


class CorrectiveTask(models.Model):
    """A corrective action from an audit (Điều 17): fix, cancel, or escalate to the leader."""

    SCOPE_PATH = "unit__path"

    class Status(models.TextChoices):
        OPEN = "open", _("Chưa xử lý")
        DONE = "done", _("Đã xử lý")

    campaign = models.ForeignKey(AuditCampaign, on_delete=models.PROTECT, related_name="tasks")
    sample = models.ForeignKey(AuditSample, on_delete=models.PROTECT, related_name="tasks")
    child = models.ForeignKey("registry.Child", on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=TaskKind.choices)
    description = models.TextField()
    due_at = models.DateTimeField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sample", "kind"], name="task_unique_per_sample_kind")]
        indexes = [models.Index(fields=["unit", "status", "due_at"])]
