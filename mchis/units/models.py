"""Reporting units (đơn vị báo cáo): health facilities and offices in a tree with dated history (R-ORG-02).

Tree storage: materialized path (see docs/decisions/0002-unit-tree-materialized-path.md).
`ReportingUnit.path` is the current path; `UnitPlacement` keeps every past placement with its dates,
so "units under X on date D" uses the tree as it was then.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mchis.core.scoping import visible_under


class UnitKind(models.TextChoices):
    MINISTRY = "ministry", _("Bộ Y tế")
    MINISTRY_DEPT = "ministry_dept", _("Vụ/Cục thuộc Bộ")
    DOH = "doh", _("Sở Y tế")
    CDC = "cdc", _("Trung tâm Kiểm soát bệnh tật tỉnh (CDC)")
    PROVINCIAL_HOSPITAL = "prov_hospital", _("Bệnh viện tuyến tỉnh")
    TTYT = "ttyt", _("Trung tâm Y tế khu vực/huyện (TTYT)")
    DISTRICT_HOSPITAL = "district_hospital", _("Bệnh viện tuyến huyện/khu vực")
    TYT = "tyt", _("Trạm Y tế xã (TYT)")
    CHILD_PROTECTION = "child_protection", _("Cơ sở bảo trợ trẻ em")
    COMMUNE_COMMITTEE = "ubnd_xa", _("UBND xã")
    PRIVATE_CLINIC = "private_clinic", _("Cơ sở y tế tư nhân")


class ReportingUnitQuerySet(models.QuerySet["ReportingUnit"]):
    def subtree_of(self, unit: ReportingUnit) -> ReportingUnitQuerySet:
        """All units under `unit` now (itself included): one indexed prefix query."""
        return visible_under(self, unit, lookup="path")

    def active(self) -> ReportingUnitQuerySet:
        return self.filter(active=True)


class ReportingUnit(models.Model):
    SCOPE_PATH = "path"

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=24, choices=UnitKind.choices)
    admin_unit = models.ForeignKey(
        "places.AdminUnit",
        on_delete=models.PROTECT,
        related_name="reporting_units",
        help_text="Where the unit is located (2025 commune or province)",
    )
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=512, unique=True, help_text="/id/id/…/ from the root")
    depth = models.PositiveSmallIntegerField(default=0)
    active = models.BooleanField(default=True)

    objects = ReportingUnitQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        indexes = [
            models.Index(fields=["path"], name="unit_path_prefix_idx", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class UnitPlacementQuerySet(models.QuerySet["UnitPlacement"]):
    def on(self, day: date) -> UnitPlacementQuerySet:
        return self.filter(Q(valid_from__lte=day), Q(valid_to__isnull=True) | Q(valid_to__gt=day))


class UnitPlacement(models.Model):
    """Where a unit sat in the tree during [valid_from, valid_to). valid_to NULL = now."""

    unit = models.ForeignKey(ReportingUnit, on_delete=models.CASCADE, related_name="placements")
    parent = models.ForeignKey(
        ReportingUnit, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    path = models.CharField(max_length=512)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    objects = UnitPlacementQuerySet.as_manager()

    class Meta:
        ordering = ["unit", "valid_from"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit"], condition=Q(valid_to__isnull=True), name="placement_one_current_per_unit"
            ),
            models.CheckConstraint(
                condition=Q(valid_to__isnull=True) | Q(valid_to__gt=models.F("valid_from")),
                name="placement_dates_ordered",
            ),
        ]
        indexes = [
            models.Index(
                fields=["path"], name="placement_path_prefix_idx", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["unit", "valid_from"]),
        ]
