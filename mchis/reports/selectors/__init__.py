"""Reads of reports, always scoped (R-MCH-07), one module per concern:

* ``forms``       — the form version in force, the unit tree as reports see it (children, approver);
* ``view``        — one report: live values (registers + approved units below) or its frozen snapshot;
* ``layout``      — the per-unit rows of the district / provincial forms 4–8;
* ``dashboard``   — status boards, completeness, lists, outstanding reports;
* ``reaggregate`` — pre-2025 commune reports in their 2025 commune (R-ORG-01);
* ``rollup``      — every form of every unit in bulk (national overview, benchmark);
* ``consistency`` — events the delivery and death registers disagree on (data-quality rule, R-MCH-08).

Callers import from ``mchis.reports.selectors``; the names below are the public surface.
"""

from .consistency import Disagreement, checks_registers, register_disagreements
from .dashboard import (
    StatusRow,
    approved_reports,
    approved_values,
    completeness,
    expected_outstanding,
    expected_units,
    report_list,
    status_board,
)
from .forms import (
    APPROVED,
    ancestors,
    approver_for,
    children_on,
    form_in_force,
    forms_for_unit,
    forms_in_force,
)
from .layout import OWN_ROW_SUFFIX, UnitRow, per_unit_layout, unit_rows
from .reaggregate import BOUNDARY_DATE, SPLIT_RULE, Reaggregated, reaggregate_to_2025
from .rollup import Crossing, crossings, rollup
from .view import (
    Computed,
    Contribution,
    ReportView,
    actions_for,
    build_view,
    checksum,
    compute_live,
    disagreements,
    history_values,
    outlier_flags,
    report_view,
    resolve_unit,
    snapshot_of,
    timeline,
)

__all__ = [
    "APPROVED",
    "BOUNDARY_DATE",
    "OWN_ROW_SUFFIX",
    "SPLIT_RULE",
    "Computed",
    "Contribution",
    "Crossing",
    "Disagreement",
    "Reaggregated",
    "ReportView",
    "StatusRow",
    "UnitRow",
    "actions_for",
    "ancestors",
    "approved_reports",
    "approved_values",
    "approver_for",
    "build_view",
    "checks_registers",
    "checksum",
    "children_on",
    "completeness",
    "crossings",
    "disagreements",
    "compute_live",
    "expected_outstanding",
    "expected_units",
    "form_in_force",
    "forms_for_unit",
    "forms_in_force",
    "history_values",
    "outlier_flags",
    "per_unit_layout",
    "reaggregate_to_2025",
    "register_disagreements",
    "report_list",
    "report_view",
    "resolve_unit",
    "rollup",
    "snapshot_of",
    "status_board",
    "timeline",
    "unit_rows",
]
