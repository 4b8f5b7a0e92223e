"""The child registry (hệ thống quản lý thông tin trẻ em tại cơ sở, QĐ 3978; R-CH-01).

A live `Child` row is only ever written by an approved request (R-CH-05); see services.py.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from mchis.core.scoping import ScopedQuerySet


class Sex(models.TextChoices):
    MALE = "M", "Nam"
    FEMALE = "F", "Nữ"


class ChildStatus(models.TextChoices):
    ACTIVE = "active", "Đang theo dõi"
    DELETED = "deleted", "Đã xóa"
    MERGED = "merged", "Đã gộp"


class ChildQuerySet(ScopedQuerySet["Child"]):
    def active(self) -> ChildQuerySet:
        return self.filter(status=ChildStatus.ACTIVE)

    def without_id(self) -> ChildQuerySet:
        return self.filter(personal_id="")


class Child(models.Model):
    SCOPE_PATH = "unit__path"

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    unit = models.ForeignKey(
        "units.ReportingUnit", on_delete=models.PROTECT, related_name="children_registered"
    )
    commune = models.ForeignKey("places.AdminUnit", on_delete=models.PROTECT, related_name="+")
    village = models.ForeignKey(
        "places.Village", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    address_detail = models.CharField(max_length=255, blank=True)

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
    guardian_relationship = models.CharField(max_length=16, blank=True, help_text="Catalog 'relationship'")
    guardian_name_folded = models.CharField(max_length=150, blank=True, db_index=True)

    status = models.CharField(max_length=10, choices=ChildStatus.choices, default=ChildStatus.ACTIVE)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(
        max_length=64, blank=True, help_text="Where the record came from (import source)"
    )
    source_ref = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ChildQuerySet.as_manager()

    class Meta:
        indexes = [
            models.Index(fields=["unit", "status"]),
            models.Index(fields=["date_of_birth"]),
            models.Index(fields=["commune", "village"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "source_ref"], condition=~Q(source=""), name="child_unique_source_ref"
            ),
        ]

    def __str__(self) -> str:
        return self.full_name


class CircumstanceMembership(models.Model):
    """Membership of a circumstance group (hoàn cảnh đặc biệt, nguy cơ, khác, được trợ giúp) with dates."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="circumstances")
    group_code = models.CharField(max_length=16, help_text="Catalog 'child_circumstance'")
    subgroup_code = models.CharField(max_length=16, blank=True)
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
    support_type_code = models.CharField(max_length=16, help_text="Catalog 'support_type'")
    date = models.DateField()
    provider = models.CharField(max_length=200, blank=True)
