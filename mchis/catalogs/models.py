"""Versioned shared catalogs (danh mục dùng chung, R-ORG-03).

An item is never overwritten: an edit closes the current version (valid_to) and adds the next one.
"""

from __future__ import annotations

from datetime import date

from django.db import models
from django.db.models import Q


class Catalog(models.Model):
    code = models.SlugField(max_length=64, unique=True)
    name_vi = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200, blank=True)
    code_system = models.CharField(max_length=100, help_text="e.g. QĐ 121-TCTK/PPCĐ, ICD-10, mchis")
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name_vi


class CatalogItemQuerySet(models.QuerySet["CatalogItem"]):
    def current(self) -> CatalogItemQuerySet:
        return self.filter(valid_to__isnull=True)

    def on(self, day: date) -> CatalogItemQuerySet:
        return self.filter(Q(valid_from__lte=day), Q(valid_to__isnull=True) | Q(valid_to__gt=day))

    def of(self, catalog_code: str) -> CatalogItemQuerySet:
        return self.filter(catalog__code=catalog_code)


class CatalogItem(models.Model):
    catalog = models.ForeignKey(Catalog, on_delete=models.PROTECT, related_name="items")
    code = models.CharField(max_length=32)
    version = models.PositiveIntegerField(default=1)
    name_vi = models.CharField(max_length=300)
    name_en = models.CharField(max_length=300, blank=True)
    code_system = models.CharField(max_length=100)
    parent_code = models.CharField(max_length=32, blank=True, help_text="For sub-groups, the group's code")
    sort_order = models.PositiveIntegerField(default=0)
    extra = models.JSONField(default=dict, blank=True)
    valid_from = models.DateField()
    valid_to = models.DateField(null=True, blank=True)

    objects = CatalogItemQuerySet.as_manager()

    class Meta:
        ordering = ["catalog", "sort_order", "code", "version"]
        constraints = [
            models.UniqueConstraint(fields=["catalog", "code", "version"], name="catalogitem_unique_version"),
            models.UniqueConstraint(
                fields=["catalog", "code"], condition=Q(valid_to__isnull=True), name="catalogitem_one_current"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name_vi} (v{self.version})"
