"""Writes to the reporting-unit tree (R-ORG-02). Every change is audited in the same transaction.

`actor=None` is a system job (management command, demo generator, test fixture); every request path
passes the person acting, whose rights are checked here: `unit.manage`, and a unit admin acts only
inside its own subtree (mchis.core.scoping.within). A system admin acts nation-wide.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from typing import Any

from django.apps import apps
from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Concat, Substr
from django.utils import timezone

from mchis.accounts.permissions import require
from mchis.core.audit import log_event
from mchis.core.errors import DomainError
from mchis.core.principal import Principal
from mchis.core.scoping import in_subtree, visible_under, within
from mchis.core.text import nfc
from mchis.places.services import managed_admin_units

from .models import ReportingUnit, UnitKind, UnitPlacement
from .provinces import province_codes_for

# Placements of the bootstrap tree start here so that any past period can be reported.
BEGINNING = date(2000, 1, 1)


def _is_system_admin(actor: Principal) -> bool:
    return actor.role == "system_admin" or (actor.unit is None and actor.is_superuser)


def _check_rights(actor: Principal | None, *units: ReportingUnit | None, allow_root: bool = False) -> None:
    """`units` are the units the change touches; None stands for "the top of the tree"."""
    if actor is None:
        return
    require(actor, "unit.manage")
    if _is_system_admin(actor):
        return
    for unit in units:
        if unit is None and not allow_root:
            raise DomainError("Chỉ quản trị hệ thống được tạo đơn vị gốc.", field="parent", code="forbidden")
        if unit is not None and not within(actor, unit.path):
            raise DomainError(
                f"Đơn vị '{unit.code}' không thuộc phạm vi của bạn.", field="parent", code="out_of_scope"
            )


def _check_location(actor: Principal | None, admin_unit: Any) -> None:
    """The administrative unit a unit is located in lies in the actor's territory (R-SEC-01): a unit admin
    cannot locate a unit in another province (and through it manage that province's villages)."""
    if actor is None or admin_unit is None:
        return

    if not managed_admin_units(actor).filter(pk=admin_unit.pk).exists():
        raise DomainError(
            f"Địa bàn '{admin_unit.name}' không thuộc phạm vi của bạn.",
            field="admin_unit",
            code="out_of_scope",
        )


def _clean(name: str, kind: str, admin_unit: Any) -> str:
    clean = nfc(name)
    if not clean:
        raise DomainError("Tên đơn vị không được để trống.", field="name")
    if kind not in UnitKind.values:
        raise DomainError(f"Loại đơn vị '{kind}' không hợp lệ.", field="kind")
    if admin_unit is None or getattr(admin_unit, "version", None) != "2025":
        raise DomainError("Địa bàn phải là tỉnh hoặc xã theo mã 2025.", field="admin_unit")
    return clean


@transaction.atomic
def unit_create(
    *,
    actor: Principal | None,
    code: str,
    name: str,
    kind: str,
    admin_unit: Any,
    parent: ReportingUnit | None,
    valid_from: date = BEGINNING,
) -> ReportingUnit:
    _check_rights(actor, parent)
    code = nfc(code)
    if not code:
        raise DomainError("Mã đơn vị không được để trống.", field="code")
    name = _clean(name, kind, admin_unit)
    _check_location(actor, admin_unit)
    if ReportingUnit.objects.filter(code=code).exists():
        raise DomainError(f"Mã đơn vị '{code}' đã tồn tại.", field="code", code="duplicate")
    unit = ReportingUnit(code=code, name=name, kind=kind, admin_unit=admin_unit, parent=parent, path="")
    unit.depth = (parent.depth + 1) if parent else 0
    unit.path = f"/new-{code}/"  # unique placeholder until the id is known
    unit.save()
    unit.path = f"{parent.path if parent else '/'}{unit.pk}/"
    unit.save(update_fields=["path"])
    UnitPlacement.objects.create(unit=unit, parent=parent, path=unit.path, valid_from=valid_from)
    log_event(
        actor=actor,
        action="unit.create",
        object_type="unit",
        object_id=unit.code,
        scope_path=unit.path,
        changes={
            "name": [None, name],
            "kind": [None, kind],
            "parent": [None, parent.code if parent else None],
        },
    )
    return unit


@transaction.atomic
def unit_update(
    *,
    actor: Principal,
    unit: ReportingUnit,
    name: str | None = None,
    kind: str | None = None,
    admin_unit: Any = None,
    active: bool | None = None,
) -> ReportingUnit:
    """Rename, re-classify or re-locate a unit; only the fields given change."""
    unit = ReportingUnit.objects.select_for_update().select_related("admin_unit").get(pk=unit.pk)
    _check_rights(actor, unit)
    new_name = _clean(
        name if name is not None else unit.name,
        kind if kind is not None else unit.kind,
        admin_unit if admin_unit is not None else unit.admin_unit,
    )
    if admin_unit is not None and admin_unit != unit.admin_unit:
        _check_location(actor, admin_unit)
    wanted: dict[str, Any] = {"name": new_name}
    if kind is not None:
        wanted["kind"] = kind
    if admin_unit is not None:
        wanted["admin_unit"] = admin_unit
    if active is not None:
        if not active:
            return unit_deactivate(actor=actor, unit=unit, reason="")
        wanted["active"] = True
    changes: dict[str, list[Any]] = {}
    for field, value in wanted.items():
        before = getattr(unit, field)
        if before != value:
            changes[field] = [before, value]  # admin units are recorded by their str (name, code, version)
            setattr(unit, field, value)
    if changes:
        unit.save(update_fields=list(wanted))
        log_event(
            actor=actor,
            action="unit.update",
            object_type="unit",
            object_id=unit.code,
            scope_path=unit.path,
            changes=changes,
        )
    return unit


@transaction.atomic
def unit_deactivate(*, actor: Principal, unit: ReportingUnit, reason: str) -> ReportingUnit:
    """Stop a unit (it stays in history); refused while units below it are still active."""
    unit = ReportingUnit.objects.select_for_update().get(pk=unit.pk)
    _check_rights(actor, unit)
    if not unit.active:
        raise DomainError("Đơn vị đã ngừng hoạt động.", code="already_inactive")
    below = ReportingUnit.objects.subtree_of(unit).active().exclude(pk=unit.pk)
    if below.exists():
        raise DomainError(
            f"Còn {below.count()} đơn vị cấp dưới đang hoạt động: hãy chuyển hoặc ngừng chúng trước.",
            code="has_children",
        )
    unit.active = False
    unit.save(update_fields=["active"])
    log_event(
        actor=actor,
        action="unit.deactivate",
        object_type="unit",
        object_id=unit.code,
        scope_path=unit.path,
        changes={"active": [True, False]},
        reason=reason,
    )
    return unit


@transaction.atomic
def unit_move(
    *, actor: Principal | None, unit: ReportingUnit, new_parent: ReportingUnit | None, on: date, reason: str
) -> ReportingUnit:
    """Move a unit (and everything under it) to a new parent from date `on` (R-ORG-02).

    The current placement of the unit and of every descendant is closed on `on` and a new one opens
    with the rewritten path, so "units under X on date D" still sees the tree as it was on D.
    Paths of the whole subtree are rewritten with one UPDATE.
    """
    reason = nfc(reason)
    if not reason:
        raise DomainError("Hãy ghi lý do chuyển đơn vị.", field="reason")
    if on > timezone.localdate():
        raise DomainError("Ngày chuyển không được ở tương lai.", field="on")
    unit = ReportingUnit.objects.select_for_update().get(pk=unit.pk)
    if new_parent is not None:
        new_parent = ReportingUnit.objects.select_for_update().get(pk=new_parent.pk)
    _check_rights(actor, unit, new_parent)
    if actor is not None and not _is_system_admin(actor) and getattr(actor, "unit_id", None) == unit.pk:
        raise DomainError("Không thể tự chuyển đơn vị của mình; hãy nhờ đơn vị cấp trên.", code="forbidden")
    if new_parent is not None and in_subtree(new_parent.path, unit.path):
        raise DomainError(
            "Không thể chuyển đơn vị vào chính nó hoặc đơn vị cấp dưới của nó.",
            field="new_parent",
            code="cycle",
        )
    if new_parent is not None and not new_parent.active:
        raise DomainError(f"Đơn vị '{new_parent.code}' đã ngừng hoạt động.", field="new_parent")
    if (new_parent.pk if new_parent else None) == unit.parent_id:
        raise DomainError("Đơn vị đã ở dưới đơn vị cấp trên này.", field="new_parent", code="unchanged")

    old_prefix = unit.path
    old_parent_code = unit.parent.code if unit.parent else None
    new_prefix = f"{new_parent.path if new_parent else '/'}{unit.pk}/"
    subtree = list(
        visible_under(ReportingUnit.objects.select_for_update(), old_prefix, lookup="path").order_by("path")
    )
    current = {p.unit_id: p for p in UnitPlacement.objects.filter(unit__in=subtree, valid_to__isnull=True)}
    late = [u.code for u in subtree if u.pk in current and current[u.pk].valid_from >= on]
    if late:
        raise DomainError(
            f"Ngày chuyển phải sau ngày bắt đầu vị trí hiện tại của: {', '.join(late[:5])}.", field="on"
        )
    delta = (new_parent.depth + 1 if new_parent else 0) - unit.depth

    UnitPlacement.objects.filter(unit__in=subtree, valid_to__isnull=True).update(valid_to=on)
    visible_under(ReportingUnit.objects.all(), old_prefix, lookup="path").update(
        path=Concat(Value(new_prefix), Substr("path", len(old_prefix) + 1)),
        depth=F("depth") + delta,
    )
    ReportingUnit.objects.filter(pk=unit.pk).update(parent=new_parent)
    UnitPlacement.objects.bulk_create(
        [
            UnitPlacement(
                unit=u,
                parent=new_parent if u.pk == unit.pk else u.parent,
                path=new_prefix + u.path[len(old_prefix) :],
                valid_from=on,
            )
            for u in subtree
        ]
    )
    unit.refresh_from_db()
    # The shard key of the children and register rows follows the unit into its new province (ADR 0075);
    # the registry's per-province search indexes find them only there (ADR 0081).
    restamped = restamp_province_codes([u.pk for u in subtree])
    log_event(
        actor=actor,
        action="unit.move",
        object_type="unit",
        object_id=unit.code,
        scope_path=unit.path,
        changes={
            "parent": [old_parent_code, new_parent.code if new_parent else None],
            "path": [old_prefix, new_prefix],
            "on": [None, on],
            "units_moved": [None, len(subtree)],
            "rows_restamped": [None, restamped],
        },
        reason=reason,
    )
    return unit


def restamp_province_codes(unit_ids: Iterable[int]) -> int:
    """Re-stamp `province_code` on every row of these units after a move between provinces (R-ORG-02).

    The tables carrying the code declare the foreign key it follows (`PROVINCE_UNIT_FIELD`: the child's unit,
    a register row's facility); looking them up here keeps this layer free of imports of the apps above it.
    One UPDATE per table and province; rows already right are not touched. Returns the rows changed.
    """
    by_code: dict[str, list[int]] = defaultdict(list)
    for unit_id, code in province_codes_for(unit_ids).items():
        by_code[code].append(unit_id)
    changed = 0
    for model in apps.get_models():
        field = getattr(model, "PROVINCE_UNIT_FIELD", None)
        if not field:
            continue
        for code, ids in by_code.items():
            rows = model._base_manager.filter(**{f"{field}_id__in": ids}).exclude(province_code=code)
            changed += rows.update(province_code=code)
    return changed
