"""The published-data store of the public portal (issue 16, docs/portal.md).

* ``Publication`` - one act of making statistics public: which statistics, levels and periods, by whom, for
  which territory (the publisher's province, or the nation for the Ministry), its state and version.
* ``PublishedFigure`` - one figure frozen at publish time: a statistic for one area and one period, with its
  value, numerator/denominator, the disclosure decision and its revision history. The public pages read only
  these rows (an import-linter contract keeps the portal's public side away from every other app).

Nothing here points at a person, a register record or a report: areas and units are copied as codes and names.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mchis.core.scoping import ScopedQuerySet


class Level(models.TextChoices):
    NATIONAL = "national", _("Toàn quốc")
    PROVINCE = "province", _("Tỉnh, thành phố")
    DISTRICT = "district", _("Trung tâm Y tế khu vực (cấp huyện)")
    COMMUNE = "commune", _("Trạm Y tế xã")


class PublicationStatus(models.TextChoices):
    PUBLISHED = "published", _("Đang công bố")
    WITHDRAWN = "withdrawn", _("Đã ngừng công bố")


class Publication(models.Model):
    SCOPE_PATH = "owner_unit__path"

    title = models.CharField(max_length=200)
    owner_unit = models.ForeignKey(
        "units.ReportingUnit", on_delete=models.PROTECT, related_name="+", help_text="Publisher's unit"
    )
    root_path = models.CharField(max_length=512, blank=True, help_text="Territory ('' = the nation)")
    statistics = models.JSONField(default=list)
    levels = models.JSONField(default=list)
    periods = models.JSONField(default=list, help_text="Months 'YYYY-MM'")
    status = models.CharField(
        max_length=12, choices=PublicationStatus.choices, default=PublicationStatus.PUBLISHED
    )
    version = models.PositiveIntegerField(default=1)
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    revised_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    changed_at = models.DateTimeField(auto_now=True, db_index=True, help_text="Stamp of the public cache")

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-published_at"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | Q(withdrawn_at__isnull=False),
                name="publication_withdrawn_at",
            )
        ]

    def __str__(self) -> str:
        return self.title


class StatisticKind(models.TextChoices):
    COUNT = "count", _("Số lượng")
    RATE = "rate", _("Tỉ lệ")


class PublishedStatistic(models.Model):
    """A statistic's public definition, copied at publish time (the public side never reads the catalogue or
    the report forms)."""

    key = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    name_en = models.CharField(max_length=200)
    definition = models.TextField()
    definition_en = models.TextField()
    source = models.TextField()
    source_en = models.TextField()
    kind = models.CharField(max_length=8, choices=StatisticKind.choices)
    factor = models.PositiveIntegerField(default=1)
    unit = models.CharField(max_length=40, blank=True)
    unit_en = models.CharField(max_length=40, blank=True)
    order = models.PositiveSmallIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "key"]

    def __str__(self) -> str:
        return self.name


class PublishedFigure(models.Model):
    publication = models.ForeignKey(Publication, on_delete=models.CASCADE, related_name="figures")
    statistic = models.CharField(max_length=40)
    period = models.CharField(max_length=7, help_text="'YYYY-MM' (month) or 'YYYY' (the published months)")
    months = models.PositiveSmallIntegerField(default=1, help_text="Months summed (a year's figure)")
    level = models.CharField(max_length=10, choices=Level.choices)
    area_code = models.CharField(max_length=32, help_text="'VN', the province code or the unit code")
    area_name = models.CharField(max_length=200)
    province_code = models.CharField(max_length=8, blank=True)
    area_path = models.CharField(max_length=512, blank=True, help_text="Internal: which reports feed it")
    value = models.DecimalField(max_digits=14, decimal_places=1, null=True, blank=True)
    numerator = models.BigIntegerField(null=True, blank=True)
    denominator = models.BigIntegerField(null=True, blank=True)
    suppressed = models.BooleanField(default=False)
    suppression = models.CharField(max_length=20, blank=True, help_text="primary | complementary | rate")
    flag = models.CharField(max_length=20, blank=True, help_text="small_denominator")
    reports_approved = models.PositiveIntegerField(default=0)
    reports_expected = models.PositiveIntegerField(default=0)
    published_on = models.DateField()
    revised_on = models.DateField(null=True, blank=True)
    previous_value = models.DecimalField(max_digits=14, decimal_places=1, null=True, blank=True)
    under_review_since = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["statistic", "period", "level", "area_code"]
        constraints = [
            models.UniqueConstraint(
                fields=["publication", "statistic", "period", "area_code"], name="figure_once_per_publication"
            ),
            # a suppressed figure carries no number at all
            models.CheckConstraint(
                condition=Q(suppressed=False)
                | (
                    Q(value__isnull=True)
                    & Q(numerator__isnull=True)
                    & Q(denominator__isnull=True)
                    & Q(previous_value__isnull=True)
                ),
                name="figure_suppressed_has_no_number",
            ),
        ]
        indexes = [
            models.Index(fields=["statistic", "level", "period"]),
            models.Index(fields=["province_code", "statistic"]),
        ]
