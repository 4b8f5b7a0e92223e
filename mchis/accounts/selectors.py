"""Reads for accounts and machine clients, always through jurisdiction scoping (R-SEC-01)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import Q, QuerySet, Sum
from django_otp.plugins.otp_totp.models import TOTPDevice

from mchis.core.principal import Principal
from mchis.core.scoping import access, visible_to
from mchis.core.text import nfc
from mchis.units.models import ReportingUnit

from .models import ApiClient, User


def otp_enrolled(user: Any) -> bool:
    """Has the person a confirmed TOTP device (second factor, R-SEC-04)?"""
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def locked_usernames(usernames: list[str] | None = None) -> set[str]:
    """Usernames whose failed logins reached the lockout limit (django-axes records, R-SEC-03)."""
    from axes.models import AccessAttempt

    rows = AccessAttempt.objects.all()
    if usernames is not None:
        rows = rows.filter(username__in=usernames)
    totals = (  # the lock is per (username, IP) pair (AXES_LOCKOUT_PARAMETERS)
        rows.values("username", "ip_address")
        .annotate(total=Sum("failures_since_start"))
        .filter(total__gte=settings.AXES_FAILURE_LIMIT)
    )
    return {row["username"] for row in totals if row["username"]}


def locked_ips() -> list[dict[str, Any]]:
    """IP addresses with at least one locked (username, IP) pair; only system admins see these."""
    from axes.models import AccessAttempt

    locked_pairs = (
        AccessAttempt.objects.values("username", "ip_address")
        .annotate(total=Sum("failures_since_start"))
        .filter(total__gte=settings.AXES_FAILURE_LIMIT)
    )
    per_ip: dict[str, int] = {}
    for row in locked_pairs:
        per_ip[row["ip_address"]] = per_ip.get(row["ip_address"], 0) + row["total"]
    return [{"ip_address": ip, "total": total} for ip, total in sorted(per_ip.items())]


def accounts_visible(
    actor: Principal, *, q: str = "", role: str = "", status: str = "", unit_id: int | None = None
) -> QuerySet[User]:
    """Accounts of the actor's subtree, filtered. status: "" | active | inactive | locked."""
    qs = visible_to(User.objects.select_related("unit"), actor).order_by("unit__path", "username")
    q = nfc(q)
    if q:
        qs = qs.filter(
            Q(username__icontains=q)
            | Q(first_name__icontains=q)
            | Q(last_name__icontains=q)
            | Q(email__icontains=q)
        )
    if role:
        qs = qs.filter(role=role)
    if unit_id:
        qs = qs.filter(unit_id=unit_id)
    if status == "active":
        qs = qs.filter(is_active=True)
    elif status == "inactive":
        qs = qs.filter(is_active=False)
    elif status == "locked":
        qs = qs.filter(username__in=locked_usernames())
    return qs


def account_get(actor: Principal, pk: Any) -> User:
    """One account in the actor's subtree, or 404 (missing and forbidden look the same)."""
    account: User = access(User.objects.select_related("unit"), actor, pk=pk)
    return account


def units_manageable(actor: Principal) -> QuerySet[ReportingUnit]:
    return visible_to(ReportingUnit.objects.filter(active=True), actor).order_by("path")


def api_clients_visible(actor: Principal) -> QuerySet[ApiClient]:
    return visible_to(ApiClient.objects.select_related("unit", "created_by"), actor).order_by(
        "revoked_at", "name"
    )


def api_client_get(actor: Principal, pk: Any) -> ApiClient:
    return access(ApiClient.objects.select_related("unit"), actor, pk=pk)


def account_counts(actor: Principal) -> dict[str, int]:
    """For the admin home cards: accounts in scope, and locked accounts in scope."""
    qs = visible_to(User.objects.all(), actor)
    names = list(qs.values_list("username", flat=True))
    return {"total": qs.filter(is_active=True).count(), "locked": len(locked_usernames(names))}
