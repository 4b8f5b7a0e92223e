"""Reads of the reporting-unit tree, now or as it was on a past date (R-ORG-02)."""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from mchis.core.principal import Principal
from mchis.core.scoping import access, visible_to, visible_under
from mchis.core.text import fold

from .models import ReportingUnit, UnitPlacement


def units_under(unit: ReportingUnit, on: date | None = None) -> QuerySet[ReportingUnit]:
    """All units under `unit` (itself included).

    Now: one prefix query on the indexed `ReportingUnit.path`. On a past date: the units whose
    placement on that date lies under the unit's own placement on that date (the tree as it was).
    Empty when the unit did not exist on that date.
    """
    if on is None or on >= timezone.localdate():
        return ReportingUnit.objects.subtree_of(unit)
    placement = UnitPlacement.objects.on(on).filter(unit=unit).values_list("path", flat=True).first()
    if placement is None:
        return ReportingUnit.objects.none()
    return ReportingUnit.objects.filter(
        id__in=visible_under(UnitPlacement.objects.on(on), placement, lookup="path").values("unit_id")
    )


def _visible(principal: Principal) -> QuerySet[ReportingUnit]:
    """A system admin configures the whole tree; everyone else sees their own subtree (R-SEC-01)."""
    if principal.role == "system_admin" and principal.is_active:
        return ReportingUnit.objects.all()
    return visible_to(ReportingUnit.objects.all(), principal)


def unit_list(
    principal: Principal, *, under: ReportingUnit | None = None, on: date | None = None
) -> QuerySet[ReportingUnit]:
    """Units the principal may see (its own subtree), optionally under one unit and on a date."""
    qs = _visible(principal)
    if under is not None:
        qs = qs.filter(id__in=units_under(under, on).values("id"))
    return qs.select_related("parent", "admin_unit").order_by("path")


def unit_get(principal: Principal, code: str) -> ReportingUnit:
    """One unit inside the principal's jurisdiction by code, or 404."""
    try:
        return _visible(principal).select_related("parent", "admin_unit").get(code=code)
    except ReportingUnit.DoesNotExist as exc:
        raise Http404("Không tìm thấy đơn vị.") from exc


def unit_get_visible(principal: Principal, code: str) -> ReportingUnit:
    """The unit a request names (a `unit` parameter of a page or an API route), inside the principal's
    jurisdiction; missing and out-of-scope are the same 404, and the refusal is audited (core.scoping.access)."""
    return access(ReportingUnit.objects.all(), principal, code=code)


def unit_placements(unit: ReportingUnit) -> QuerySet[UnitPlacement]:
    """Every placement of the unit, oldest first (history of moves)."""
    return UnitPlacement.objects.filter(unit=unit).select_related("parent").order_by("valid_from")


def unit_path_labels(units: list[ReportingUnit]) -> dict[int, str]:
    """'Bộ Y tế › Sở Y tế A › …' for each unit, from the ids in its path (one query)."""
    ids = {int(part) for u in units for part in u.path.strip("/").split("/") if part.isdigit()}
    names = dict(ReportingUnit.objects.filter(id__in=ids).values_list("id", "name"))
    return {
        u.pk: " › ".join(names.get(int(p), "?") for p in u.path.strip("/").split("/") if p.isdigit())
        for u in units
    }


# --- the tree page: nodes with their counts, opened as far as a screenful, deeper levels on demand ----------


KIND_ORDER = {kind: rank for rank, kind in enumerate(
    ["ministry", "ministry_dept", "doh", "cdc", "prov_hospital", "child_protection", "ttyt", "district_hospital",
     "tyt", "private_clinic", "ubnd_xa"]
)}  # fmt: skip


@dataclass
class TreeNode:
    unit: ReportingUnit
    children: int  # units directly under it
    below: int  # all units under it, at any depth
    kids: list[TreeNode] | None = None  # loaded children; None = loaded when the node is opened


def unit_tree_nodes(
    principal: Principal, *, parent: ReportingUnit | None = None, open_up_to: int = 60
) -> list[TreeNode]:
    """The top of the principal's tree (or the children of `parent`), each level opened while the page holds
    at most `open_up_to` units; the counts come from one read of the ids and paths in scope."""
    visible = _visible(principal)
    scope = visible.filter(path__startswith=parent.path) if parent is not None else visible
    rows = list(scope.values_list("id", "parent_id", "path", "kind", "name"))
    ids = {row[0] for row in rows}
    path_of = {row[0]: row[2] for row in rows}
    kids_of: dict[int | None, list[int]] = defaultdict(list)
    # in the order of the tree's levels (CDC, hospitals, TTYT before stations and committees), then by name
    for uid, pid, *_ in sorted(rows, key=lambda r: (KIND_ORDER.get(r[3], 99), fold(r[4]), r[2])):
        kids_of[pid].append(uid)
    paths = sorted(path_of.values())

    def below(uid: int) -> int:
        path = path_of[uid]
        return bisect_left(paths, path + "\uffff") - bisect_left(paths, path) - 1

    top = (
        kids_of[parent.pk]
        if parent is not None
        else [uid for uid, pid, *_ in sorted(rows, key=lambda r: r[2]) if pid not in ids]
    )
    load, frontier = list(top), list(top)
    if len(top) <= 3:  # a few tops (a province, a district): their units are always shown, however many
        frontier = [k for t in top for k in kids_of[t]]
        load += frontier
    while frontier:
        following = [k for f in frontier for k in kids_of[f]]
        if not following or len(load) + len(following) > open_up_to:
            break
        load += following
        frontier = following
    units = {u.pk: u for u in visible.filter(id__in=load).select_related("admin_unit")}

    def node(uid: int) -> TreeNode:
        kids = kids_of[uid]
        loaded = [node(k) for k in kids] if kids and all(k in units for k in kids) else None
        return TreeNode(unit=units[uid], children=len(kids), below=below(uid), kids=loaded)

    return [node(uid) for uid in top]


def unit_search(
    principal: Principal, q: str, *, limit: int = 100
) -> tuple[list[tuple[ReportingUnit, str]], int]:
    """Units whose name (accents optional) or code contains `q`, with their place in the tree; and how many."""
    key = fold(q)
    found = [u for u in unit_list(principal) if key in fold(u.name) or key in u.code.lower()]
    labels = unit_path_labels(found[:limit])
    return [(u, labels[u.pk]) for u in found[:limit]], len(found)
