"""Jurisdiction scoping — the one place that decides what a principal may see (R-SEC-01, R-MCH-07).

Every scoped model names, in `SCOPE_PATH`, the lookup to the materialized path of the reporting unit that
owns it (e.g. ``"unit__path"``). A principal (person or machine client) sees rows whose unit lies inside
its own unit's subtree. Missing and forbidden are the same 404, so IDs reveal nothing.
"""

from __future__ import annotations

from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models import Q
from django.http import Http404

from .principal import Principal

M = TypeVar("M", bound=models.Model)
QS = TypeVar("QS", bound=models.QuerySet[Any])


def scope_path_of(principal: Principal | None) -> str | None:
    """The unit path that bounds what this principal sees; None = nation-wide (system level).

    An anonymous or unit-less non-superuser gets an impossible path: sees nothing.
    """
    if principal is None or not principal.is_authenticated:
        return "\x00"
    if principal.unit is None:
        return None if principal.is_superuser else "\x00"
    return principal.unit.path


def visible_to(queryset: models.QuerySet[M], principal: Principal) -> models.QuerySet[M]:
    lookup = getattr(queryset.model, "SCOPE_PATH", None)
    if lookup is None:
        raise TypeError(f"{queryset.model.__name__} has no SCOPE_PATH; it cannot be scoped")
    path = scope_path_of(principal)
    if path is None:
        return queryset
    return queryset.filter(subtree_q(lookup, path))


def access(queryset: models.QuerySet[M], principal: Principal, **lookup: Any) -> M:
    """One object inside the principal's jurisdiction, or Http404 (never 403: no existence leak).

    A refusal is itself audited (`access.denied`, R-SEC-06: attempts to reach other units' records are
    traceable). Missing and forbidden objects do the same work - one lookup of the owner, one audit row -
    so neither the answer nor its timing tells them apart. The row's scope is the owner's unit, so the
    owner's auditors see attempts on their records; its text is the same either way.
    """
    try:
        return visible_to(queryset, principal).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError, ValidationError) as exc:
        _record_denied(queryset, principal, lookup)
        raise Http404("Không tìm thấy.") from exc


def _record_denied(queryset: models.QuerySet[Any], principal: Principal, lookup: dict[str, Any]) -> None:
    if not getattr(settings, "AUDIT_DENIED_ACCESS", True):
        return
    from .audit import log_event  # the audit module imports models; keep scoping importable from models

    try:
        owner = queryset.filter(**lookup).values_list(queryset.model.SCOPE_PATH, flat=True).first()
    except (ValueError, TypeError, ValidationError):
        owner = None
    person = principal if getattr(principal, "is_authenticated", False) else None
    with transaction.atomic():
        log_event(
            actor=person,
            action="access.denied",
            object_type=queryset.model._meta.label_lower,
            object_id=str(next(iter(lookup.values()), ""))[:64],
            scope_path=owner or "",
            changes={"lookup": {key: str(value) for key, value in lookup.items()}},
            # One wording for both: the actor's own auditors see this row and must not learn which it was.
            reason="ngoài phạm vi hoặc không tồn tại",
        )


def common_path(paths: Any) -> str:
    """The deepest unit path every one of `paths` lies under ("" for none): the owner of an object that
    several units share (a village of a commune served by a station and the commune's committee)."""
    parts = [p.strip("/").split("/") for p in paths if p]
    if not parts:
        return ""
    prefix: list[str] = []
    for level in zip(*parts, strict=False):
        if len(set(level)) != 1:
            break
        prefix.append(level[0])
    return "/" + "/".join(prefix) + "/" if prefix else "/"


def within(principal: Principal, unit_path: str) -> bool:
    """Is a unit (by its path) inside the principal's jurisdiction?"""
    path = scope_path_of(principal)
    return path is None or in_subtree(unit_path, path)


class ScopedQuerySet(models.QuerySet[M]):
    """Base QuerySet for scoped models: `Model.objects.visible_to(user)`."""

    def visible_to(self, principal: Principal) -> ScopedQuerySet[M]:
        return visible_to(self, principal)  # type: ignore[return-value]


# --- the subtree of a unit: the only place that knows a subtree is a path prefix (ADR 0002) ---------------------


def _path(root: Any) -> str:
    return root if isinstance(root, str) else root.path


def in_subtree(path: str, root: Any) -> bool:
    """Is the unit at `path` the unit `root` (a unit or its path) or one below it?"""
    return path.startswith(_path(root))


def subtree_q(lookup: str, root: Any) -> Q:
    """Rows whose `lookup` (the owning unit's path, e.g. ``"unit__path"``) lies in the subtree of `root`."""
    return Q(**{f"{lookup}__startswith": _path(root)})


def visible_under(queryset: QS, root: Any, *, lookup: str | None = None) -> QS:
    """Rows of `queryset` owned by `root` (a unit or its path) or any unit below it. `lookup` defaults to the
    model's SCOPE_PATH; use ``lookup="path"`` for the unit tree itself. This narrows, it does not authorise:
    start from `visible_to(qs, principal)` or a unit the principal may see."""
    scope = lookup or queryset.model.SCOPE_PATH
    return cast(QS, queryset.filter(subtree_q(scope, root)))
