"""The permission matrix: role × action, in one place (R-SEC-02). Documented in docs/permissions.md.

Jurisdiction (which objects) is decided by mchis.core.scoping; this module decides what a role may *do*.
Admins configure the system and catalogs but hold no business-data write action (R-SEC-02).
Machine clients (integration tokens) hold no role: their allowed actions are exactly their token scopes.
"""

from __future__ import annotations

from mchis.core.errors import PermissionDeniedError
from mchis.core.principal import Principal
from mchis.core.principal import is_machine_client as is_machine_client  # re-exported: callers ask here

from .roles import Role

C, L, UA, SA, AU, RP, V = (
    Role.COLLECTOR,
    Role.LEADER,
    Role.UNIT_ADMIN,
    Role.SYSTEM_ADMIN,
    Role.AUDITOR,
    Role.REPORTER,
    Role.VIEWER,
)

# action -> roles allowed. Add new actions here (and to docs/permissions.md); the matrix test enumerates it.
MATRIX: dict[str, frozenset[Role]] = {
    # organisation and reference data
    "catalog.manage": frozenset({SA}),
    "unit.manage": frozenset({SA, UA}),
    "village.manage": frozenset({SA, UA}),
    "account.manage": frozenset({SA, UA}),
    "account.change_role": frozenset({SA, UA}),
    "account.unlock_ip": frozenset({SA}),
    "token.manage": frozenset({SA}),
    "audit_log.view": frozenset({SA, UA, AU}),
    # child registry (QĐ 3978)
    "child.view": frozenset({C, L, AU, RP, V}),
    "child.propose": frozenset({C}),
    "child.approve": frozenset({L}),
    "child.export": frozenset({C, L}),
    "child.verify": frozenset({C, L}),
    "child.request_correction": frozenset({L}),
    # data quality and audits (phúc tra)
    "quality.view": frozenset({C, L, AU, RP}),
    "quality.review": frozenset({L}),
    "audit_campaign.manage": frozenset({AU}),
    # MCH/RH registers
    "register.view": frozenset({C, L, AU, RP, V}),
    "register.write": frozenset({C, RP}),
    "sync.view": frozenset({L, RP, SA, UA}),
    # statistical reports
    "report.view": frozenset({C, L, AU, RP, V}),
    "report.edit": frozenset({RP, C}),
    "report.submit": frozenset({RP, L}),
    "report.recall": frozenset({RP, L}),
    "report.request_unapproval": frozenset({RP, L}),
    "report.approve": frozenset({L}),
    "report.return": frozenset({L}),
    "report.unapprove": frozenset({L}),
    "report.export": frozenset({L, RP, V}),
    "form.manage": frozenset({SA}),
    # analytics (R-AN-01): pivot tables, charts, maps, dashboards; saved favourites shared with the unit
    "analytics.view": frozenset({C, L, AU, RP, V}),
    "analytics.favorite_share": frozenset({L, RP}),
    "analytics.dashboard_edit": frozenset({L, RP}),
    # e-MCH handbook app (R-INT-02): consent is recorded by the facility; the app's token reads the feed (a
    # leader or an auditor may look at what it serves, without acknowledging anything)
    "handbook.consent": frozenset({C, L}),
    "handbook.view": frozenset({L, AU}),
    # the public statistics portal (issue 16): which approved figures become public. Publishing is a leader's
    # act at the Ministry (the nation) or a Sở Y tế / provincial CDC (its province): the service checks the unit.
    "portal.view": frozenset({L, RP}),
    "portal.publish": frozenset({L}),
    # operations: the Prometheus metrics (system-wide counts and ages, no personal data)
    "ops.view": frozenset({SA}),
}

# What a machine client (API token) may ever hold (R-SEC-02: every write carries one real person). Reads and
# exports of its unit's subtree, and the bulk register ingestion that integrations exist for (each record names
# the facility's source system and record id). Everything else - child-record proposals and decisions, report
# workflow, merges, audits, account/unit/catalog administration - is a person's act: a token is refused with
# 403 `person_required`, whatever its scopes say. See docs/decisions/0030-machine-clients-are-not-people.md.
MACHINE_ACTIONS = frozenset(
    {
        "child.view",
        "quality.view",
        "register.view",
        "register.write",
        "sync.view",
        "report.view",
        "report.export",
        "analytics.view",  # tools that read DHIS2 analytics read ours (GET /api/v1/analytics)
        "audit_log.view",
        "handbook.view",
        "ops.view",  # the monitoring server scrapes /metrics with a token (deploy/prometheus)
    }
)

PERSON_REQUIRED_MESSAGE = (
    "Máy khách tích hợp (token) không được thực hiện thao tác này: thao tác nghiệp vụ phải do một người dùng "
    "đăng nhập thực hiện (R-SEC-02)."
)

# Actions that also need a second-factor check within the step-up window (R-SEC-04).
CRITICAL_ACTIONS = frozenset(
    {
        "child.approve_delete",
        "child.approve_merge",
        "child.approve_approved_change",
        "account.change_role",
        "account.create",
        "account.reset_otp",
        "child.export",
        "audit_log.export",
        "audit_campaign.sign",
        "report.approve",
        "report.unapprove",
        "document.sign",
    }
)


def can(principal: Principal | None, action: str) -> bool:
    if action not in MATRIX:
        raise KeyError(f"unknown action {action!r}: add it to MATRIX")
    if principal is None or not principal.is_authenticated or not principal.is_active:
        return False
    if is_machine_client(principal):
        return action in MACHINE_ACTIONS and action in principal.scopes
    return principal.role in MATRIX[action]


def require(principal: Principal | None, action: str) -> None:
    if can(principal, action):
        return
    if is_machine_client(principal) and action not in MACHINE_ACTIONS:
        raise PermissionDeniedError(PERSON_REQUIRED_MESSAGE, code="person_required")
    raise PermissionDeniedError("Bạn không có quyền thực hiện thao tác này.", code="forbidden")


def require_person(principal: Principal | None) -> None:
    """Refuse a machine client outright (for writes that are a person's act but have no MATRIX action)."""
    if is_machine_client(principal):
        raise PermissionDeniedError(PERSON_REQUIRED_MESSAGE, code="person_required")
