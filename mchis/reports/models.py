"""Statistical reports (báo cáo thống kê SKBMTE/SKSS, R-MCH-03..07).

* ``FormDefinition`` — one version of a report form (phiên bản biểu mẫu), loaded from a JSON file; the
  parsed file is kept in ``spec`` and its sha256 in ``checksum`` (docs/decisions/0020).
* ``ReportInstance`` — the report of one unit for one period under one form version; at most one per
  (form version, unit, period). Values are live from the registers until submission, then frozen in
  ``snapshot`` with ``snapshot_checksum``.
* ``ReportTransition`` — the timeline (lịch sử xử lý): who moved the report from which state to which, when,
  and why. Written only by ``services``; the audit log holds the same facts in its chain.
* ``ReportNotice`` — in-app reminders and escalations (nhắc hạn, báo quá hạn).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from mchis.core.scoping import ScopedQuerySet


class FormLevel(models.TextChoices):
    COMMUNE = "commune", _("Tuyến xã")
    DISTRICT = "district", _("Tuyến huyện / cơ sở")
    PROVINCE = "province", _("Tuyến tỉnh")
    NETWORK = "network", _("Báo cáo mạng lưới (năm)")


class PeriodType(models.TextChoices):
    MONTHLY = "monthly", _("Tháng")
    YEARLY = "yearly", _("Năm")


class FormDefinitionQuerySet(models.QuerySet["FormDefinition"]):
    def in_force_on(self, day: date) -> FormDefinitionQuerySet:
        """Versions whose validity covers `day`; the newest valid_from wins (a new circular supersedes)."""
        return self.filter(Q(valid_from__lte=day), Q(valid_to__isnull=True) | Q(valid_to__gte=day)).order_by(
            "code", "-valid_from"
        )


class FormDefinition(models.Model):
    code = models.CharField(max_length=40)
    version = models.CharField(max_length=40)
    title = models.CharField(max_length=255)
    legal_basis = models.CharField(max_length=255)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)
    level = models.CharField(max_length=10, choices=FormLevel.choices)
    period_type = models.CharField(max_length=8, choices=PeriodType.choices)
    unit_kinds = models.JSONField(default=list)
    deadline_days = models.PositiveSmallIntegerField(null=True, blank=True)
    spec = models.JSONField(help_text="The definition file as loaded (validated)")
    checksum = models.CharField(max_length=64)
    source_file = models.CharField(max_length=255, blank=True)
    loaded_at = models.DateTimeField(auto_now=True)

    objects = FormDefinitionQuerySet.as_manager()

    class Meta:
        ordering = ["code", "valid_from"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="form_unique_code_version")]

    def __str__(self) -> str:
        return f"{self.code} {self.version}"

    def parsed(self) -> Any:
        """The parsed definition, shared process-wide per checksum (so compiled SQL can be reused)."""
        from .definitions import parse_form

        spec = _PARSED.get(self.checksum)
        if spec is None:
            spec = _PARSED[self.checksum] = parse_form(self.spec, self.source_file or self.code)
        return spec


_PARSED: dict[str, Any] = {}


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Nháp")
    SUBMITTED = "submitted", _("Đã gửi")
    RETURNED = "returned", _("Bị trả lại")
    APPROVED = "approved", _("Đã duyệt")
    UNAPPROVAL_REQUESTED = "unapproval_requested", _("Đề nghị hủy duyệt")


FROZEN_STATES = (ReportStatus.SUBMITTED, ReportStatus.APPROVED, ReportStatus.UNAPPROVAL_REQUESTED)


class ReportQuerySet(ScopedQuerySet["ReportInstance"]):
    def for_period(self, start: date) -> ReportQuerySet:
        return self.filter(period_start=start)

    def approved(self) -> ReportQuerySet:
        return self.filter(status__in=[ReportStatus.APPROVED, ReportStatus.UNAPPROVAL_REQUESTED])

    def awaiting_approval(self) -> ReportQuerySet:
        return self.filter(status=ReportStatus.SUBMITTED)


class ReportInstance(models.Model):
    SCOPE_PATH = "unit__path"

    form = models.ForeignKey(FormDefinition, on_delete=models.PROTECT, related_name="reports")
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="reports")
    period_start = models.DateField()
    period_type = models.CharField(max_length=8, choices=PeriodType.choices)
    status = models.CharField(max_length=24, choices=ReportStatus.choices, default=ReportStatus.DRAFT)
    manual_values = models.JSONField(default=dict, blank=True, help_text='{"row:col": number}')
    snapshot = models.JSONField(null=True, blank=True, help_text="Frozen values at submission")
    snapshot_checksum = models.CharField(max_length=64, blank=True)
    warning_comment = models.TextField(blank=True, help_text="Explanation of validation warnings")
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_submitted_at = models.DateTimeField(null=True, blank=True, help_text="For timeliness")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ReportQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "unit__path"]
        constraints = [
            models.UniqueConstraint(
                fields=["form", "unit", "period_start"], name="report_one_per_form_unit_period"
            ),
            # A frozen report always carries its snapshot and checksum.
            models.CheckConstraint(
                condition=Q(status__in=["draft", "returned"])
                | (Q(snapshot__isnull=False) & ~Q(snapshot_checksum="")),
                name="report_frozen_has_snapshot",
            ),
            models.CheckConstraint(
                condition=~Q(status__in=["approved", "unapproval_requested"]) | Q(approved_at__isnull=False),
                name="report_approved_has_time",
            ),
        ]
        indexes = [models.Index(fields=["period_start", "status"])]

    def __str__(self) -> str:
        return f"{self.form.code} {self.unit.code} {self.period_start:%Y-%m}"


class ReportTransition(models.Model):
    report = models.ForeignKey(ReportInstance, on_delete=models.CASCADE, related_name="transitions")
    action = models.CharField(max_length=24)
    from_status = models.CharField(max_length=24, choices=ReportStatus.choices)
    to_status = models.CharField(max_length=24, choices=ReportStatus.choices)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    actor_unit = models.ForeignKey(
        "units.ReportingUnit", null=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField()
    reason = models.TextField(blank=True)

    class Meta:
        ordering = ["report", "at", "id"]

    @property
    def action_label(self) -> str:
        """The step in words on the report's timeline (the stored code is for the audit trail)."""
        from .workflow import ACTION_LABELS

        return gettext(ACTION_LABELS.get(self.action, self.action))


class NoticeKind(models.TextChoices):
    REMINDER = "reminder", _("Nhắc hạn")
    OVERDUE = "overdue", _("Quá hạn")
    ESCALATION = "escalation", _("Báo cáo cấp trên: đơn vị quá hạn")


class ReportNotice(models.Model):
    """In-app notice to a unit about one (form, unit, period). Idempotent per (kind, key, recipient unit)."""

    SCOPE_PATH = "recipient__path"

    recipient = models.ForeignKey(
        "units.ReportingUnit", on_delete=models.CASCADE, related_name="report_notices"
    )
    about_unit = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    form_code = models.CharField(max_length=40)
    period_start = models.DateField()
    kind = models.CharField(max_length=12, choices=NoticeKind.choices)
    message = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "about_unit", "form_code", "period_start", "kind"], name="notice_once"
            )
        ]
