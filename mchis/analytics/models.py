"""The analytics store (kho số liệu phân tích, issue 15) and the saved views.

* ``UnitMonthValue`` — one unit's own value of one data element for one month: a report cell (``BCX3.I.5:total``:
  the unit's own registers + its manual cells for a form it files), an analytics element computed from the
  registers (``AN.DLV:a15_19``), report counts (``RPT.expected``) or data-quality counts (``DQ.du.bad``). Both the
  provisional value (live) and the approved value (null until the unit's report of that month is approved).
* ``RollupValue`` — the same sums pre-rolled-up to every unit of the tree (the unit itself and every unit below,
  by the current materialized path: pre-2025 months are shown in the 2025 structure, ADR 0021). A recompute
  applies the difference of a unit-month to the unit and its ancestors, so reads never scan the leaves.
* ``DirtyUnitMonth`` — unit-months a write touched; the worker recomputes only these.
* ``DirtyRollup`` — province subtrees × months whose report-cell roll-ups the worker recomputes (ADR 0077).
* ``CrossProvinceEvent`` — events counted by two provinces, taken out once above both (ADR 0078).
* ``DirtyCoverage`` / ``ScreeningSeen`` — unit-months whose count of women screened in 5 years (``CXCOV``) is
  stale, and what that count last saw of a unit-month's cervical screenings (ADR 0079).
* ``PopulationVersion`` / ``Population`` — the yearly population reference (dân số: 2025 commune × year × sex ×
  5-year age band, with its source), one version in force per year; denominators of coverage indicators.
* ``Favorite`` — a saved pivot/chart/map (the whole selection), shared with the users of the owner's unit.
* ``Dashboard`` / ``DashboardItem`` — a unit's dashboard made of favourites (defaults per user group: dashboards.py).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mchis.core.scoping import ScopedQuerySet


class UnitMonthValue(models.Model):
    SCOPE_PATH = "unit__path"

    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    element = models.CharField(max_length=64)
    provisional = models.FloatField()
    approved = models.FloatField(null=True, blank=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "month", "element"], name="analytics_value_unique")
        ]


class RollupValue(models.Model):
    SCOPE_PATH = "node__path"

    node = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    element = models.CharField(max_length=64)
    provisional = models.FloatField(default=0)
    approved = models.FloatField(default=0)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["node", "element", "month"], name="analytics_rollup_unique")
        ]


class DirtyRollup(models.Model):
    """A province subtree (its Sở Y tế, or a top unit outside any province) whose report-cell roll-ups of the
    month are stale: the worker recomputes them from ``reports.selectors.rollup`` (ADR 0077)."""

    root = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["root", "month"], name="analytics_dirty_rollup_unique")
        ]


class CrossProvinceEvent(models.Model):
    """An event a commune station of one province counts as "CSYT khác" (typed, or derived from a facility's
    row of its resident) and a facility of another province recorded: each province's report counts it once,
    so the sum of the provinces counts it twice. Its values (station side, province forms' cells) are taken
    out once at the units above both provinces (ADR 0078); the row remembers what was taken out, and where."""

    month = models.DateField()
    kind = models.CharField(max_length=8)  # "typed" | "derived"
    register = models.CharField(max_length=16)
    record_id = models.BigIntegerField()  # the station's row (typed) or the facility's row (derived)
    station = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    station_root = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    other_root = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    values = models.JSONField(default=dict)  # {element: [provisional, approved]} taken out

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["month", "kind", "register", "record_id", "station"], name="analytics_crossing_unique"
            )
        ]


class DirtyUnitMonth(models.Model):
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["unit", "month"], name="analytics_dirty_unique")]
        indexes = [models.Index(fields=["marked_at"], name="analytics_dirty_marked")]


class DirtyCoverage(models.Model):
    """A unit-month whose women-screened-in-5-years element (``coverage.ELEMENT``) is stale: a screening of a
    woman it may hold changed in one of the 60 months ending with it. Recomputed alone (``store.recompute_coverage``,
    a few queries), not with the unit's whole month (ADR 0079)."""

    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    marked_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "month"], name="analytics_dirty_coverage_unique")
        ]


class ScreeningSeen(models.Model):
    """The cervical screenings of one unit-month as the coverage count last saw them: a digest of the rows and
    the people they name (personal ID, folded name, date of birth). A recompute of the unit-month that finds
    another digest marks the months the change reaches for every unit holding one of those women, before and
    after (ADR 0079)."""

    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    month = models.DateField()
    digest = models.CharField(max_length=64)
    people = models.JSONField(default=list)  # [[personal_id, folded name, dob iso], …]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "month"], name="analytics_screening_seen_unique")
        ]


class PopulationVersion(models.Model):
    """One load of a year's population (``manage.py load_population``). The newest load of a year is in force
    (`replaced_at` empty); loading again replaces it in one transaction (the old rows are deleted, this row
    stays as the history, with the audit entry)."""

    year = models.PositiveSmallIntegerField()
    version = models.PositiveIntegerField()
    source = models.CharField(max_length=200)
    file_name = models.CharField(max_length=255, blank=True)
    rows = models.PositiveIntegerField(default=0)
    total = models.BigIntegerField(default=0)
    loaded_at = models.DateTimeField()
    loaded_by = models.CharField(max_length=150, blank=True)
    replaced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["year", "version"]
        constraints = [
            models.UniqueConstraint(fields=["year", "version"], name="analytics_popversion_unique"),
            models.UniqueConstraint(
                fields=["year"],
                condition=models.Q(replaced_at__isnull=True),
                name="analytics_popversion_one_in_force",
            ),
        ]


class Population(models.Model):
    """People of one 2025 commune, sex and age band in a year (mid-year estimate) of a version in force."""

    version = models.ForeignKey(PopulationVersion, on_delete=models.CASCADE, related_name="values")
    commune = models.ForeignKey("places.AdminUnit", on_delete=models.PROTECT, related_name="+")
    sex = models.CharField(max_length=1)  # "F" | "M"
    age_band = models.CharField(max_length=8)  # "0_4", "5_9", …, "75_79", "80p"
    people = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["version", "commune", "sex", "age_band"], name="analytics_population_unique"
            )
        ]


class FavoriteKind(models.TextChoices):
    TABLE = "table", _("Bảng")
    COLUMN = "column", _("Biểu đồ cột")
    STACKED = "stacked", _("Biểu đồ cột chồng")
    LINE = "line", _("Biểu đồ đường")
    PIE = "pie", _("Biểu đồ tròn")
    SINGLE = "single", _("Giá trị đơn")
    MAP = "map", _("Bản đồ")


class Favorite(models.Model):
    SCOPE_PATH = "unit__path"

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=8, choices=FavoriteKind.choices, default=FavoriteKind.TABLE)
    query = models.CharField(max_length=2000, help_text="The selection as a URL query string")
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    shared = models.BooleanField(default=False, help_text="Visible to the users of the same unit")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]


class Dashboard(models.Model):
    """A unit's dashboard, shared by its users (the defaults per user group are data in ``dashboards.py``)."""

    SCOPE_PATH = "unit__path"

    name = models.CharField(max_length=200)
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.CASCADE, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["unit"], name="analytics_dashboard_one_per_unit")]


class DashboardItem(models.Model):
    dashboard = models.ForeignKey(Dashboard, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(default=0)
    favorite = models.ForeignKey(Favorite, on_delete=models.CASCADE, related_name="+")

    class Meta:
        ordering = ["dashboard", "position", "id"]
