"""Administrative units (đơn vị hành chính), both code systems, and the old→new mapping (R-ORG-01)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class CodeVersion(models.TextChoices):
    """Code system of an administrative code. The same code can mean different places in each."""

    V2025 = "2025", _("Từ 01/7/2025 (34 tỉnh)")
    PRE2025 = "pre2025", _("Trước 01/7/2025 (63 tỉnh)")


class Level(models.TextChoices):
    PROVINCE = "province", _("Tỉnh/thành phố")
    DISTRICT = "district", _("Quận/huyện")
    COMMUNE = "commune", _("Xã/phường/đặc khu")


class AdminUnitQuerySet(models.QuerySet["AdminUnit"]):
    def v2025(self) -> AdminUnitQuerySet:
        return self.filter(version=CodeVersion.V2025)

    def pre2025(self) -> AdminUnitQuerySet:
        return self.filter(version=CodeVersion.PRE2025)

    def provinces(self) -> AdminUnitQuerySet:
        return self.filter(level=Level.PROVINCE)

    def communes(self) -> AdminUnitQuerySet:
        return self.filter(level=Level.COMMUNE)


class AdminUnit(models.Model):
    version = models.CharField(max_length=8, choices=CodeVersion.choices)
    level = models.CharField(max_length=10, choices=Level.choices)
    code = models.CharField(max_length=8)
    name = models.CharField(max_length=128)
    short_name = models.CharField(max_length=128, blank=True)
    division_type = models.CharField(max_length=32, blank=True, help_text="xã, phường, đặc khu, thị trấn, …")
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    search_key = models.CharField(max_length=128, blank=True, help_text="Diacritic-free key for lookups")

    objects = AdminUnitQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "level", "code"], name="adminunit_unique_code_per_version"
            ),
        ]
        indexes = [models.Index(fields=["version", "level", "parent"])]
        ordering = ["version", "level", "code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code}/{self.version})"


class MappingKind(models.TextChoices):
    WHOLE = "whole", _("Nhập toàn bộ")
    PARTIAL = "partial", _("Nhập một phần")
    UNCHANGED = "unchanged", _("Giữ nguyên")


class MappingSource(models.TextChoices):
    """Where a mapping row came from (merge rule: docs/decisions/0003-admin-unit-code-versions.md)."""

    GSO_AND_LIBRARY = "gso+vnau", _("Bảng chuyển đổi TCTK và vietnamadminunits")
    GSO = "gso", _("Bảng chuyển đổi TCTK")
    LIBRARY = "vnau", _("vietnamadminunits")


class CommuneMapping(models.Model):
    """Old (pre-2025) commune → new (2025) commune. A split old commune has several rows.

    `old` is a commune, or a district for the five island districts that had no communes (huyện đảo).
    """

    old = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="mapped_to")
    new = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="mapped_from")
    kind = models.CharField(max_length=10, choices=MappingKind.choices)
    is_default = models.BooleanField(
        default=True, help_text="For a split commune: the new commune taking its seat (used when unsure)"
    )
    area_km2 = models.FloatField(null=True, blank=True, help_text="Area of the new commune, when known")
    source = models.CharField(max_length=10, choices=MappingSource.choices, default=MappingSource.GSO)
    note = models.CharField(max_length=200, blank=True, help_text="Ghi chú of the GSO conversion table")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["old", "new"], name="communemapping_unique_pair")]


class VillageKind(models.TextChoices):
    THON = "thon", _("Thôn")
    TO_DAN_PHO = "to_dan_pho", _("Tổ dân phố")
    BAN = "ban", _("Bản")
    AP = "ap", _("Ấp")
    KHOM = "khom", _("Khóm")
    OTHER = "other", _("Khác")


class Village(models.Model):
    """Thôn / tổ dân phố / bản / ấp / khóm under a 2025 commune. Added by the commune, not by law."""

    commune = models.ForeignKey(AdminUnit, on_delete=models.PROTECT, related_name="villages")
    code = models.CharField(max_length=16)
    name = models.CharField(max_length=128)
    kind = models.CharField(max_length=12, choices=VillageKind.choices, default=VillageKind.THON)
    active = models.BooleanField(default=True)
    pending = models.BooleanField(
        default=False, help_text="Added by an import from a name not in the list; a leader confirms it"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["commune", "code"], name="village_unique_code_in_commune")
        ]
        ordering = ["commune", "code"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.name}"
