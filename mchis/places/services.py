"""Writes to administrative units: the reference-data load and villages (thôn, tổ dân phố, …)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction

from mchis.accounts.permissions import require
from mchis.core.audit import log_event
from mchis.core.errors import DomainError, PermissionDeniedError
from mchis.core.principal import Principal
from mchis.core.scoping import common_path, visible_under
from mchis.core.text import fold, nfc

from .models import AdminUnit, CodeVersion, CommuneMapping, Level, Village, VillageKind
from .sources import Sources

# Parents before children, so each level can point at the one above.
LOAD_ORDER = (
    (CodeVersion.V2025, Level.PROVINCE),
    (CodeVersion.V2025, Level.COMMUNE),
    (CodeVersion.PRE2025, Level.PROVINCE),
    (CodeVersion.PRE2025, Level.DISTRICT),
    (CodeVersion.PRE2025, Level.COMMUNE),
)
UNIT_FIELDS = ("name", "short_name", "division_type", "parent_id", "search_key")
MAPPING_FIELDS = ("kind", "is_default", "source", "note", "area_km2")


@dataclass
class LoadReport:
    """Counts per (version, level): total in the source, created, updated; the same for mappings."""

    units: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    mappings: dict[str, int] = field(default_factory=dict)
    mapping_sources: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(c["created"] or c["updated"] for c in self.units.values()) or any(
            self.mappings.get(k, 0) for k in ("created", "updated", "deleted")
        )


def _apply_units(sources: Sources, report: LoadReport) -> dict[tuple[str, str, str], int]:
    ids: dict[tuple[str, str, str], int] = {}
    for version, level in LOAD_ORDER:
        rows = [u for u in sources.units if (u.version, u.level) == (version, level)]
        existing = {u.code: u for u in AdminUnit.objects.filter(version=version, level=level)}
        create: list[AdminUnit] = []
        update: list[AdminUnit] = []
        for row in rows:
            wanted: dict[str, Any] = {
                "name": row.name,
                "short_name": row.short_name,
                "division_type": row.division_type,
                "parent_id": ids[(version, row.parent_level, row.parent_code)] if row.parent_code else None,
                "search_key": fold(row.name)[:128],
            }
            obj = existing.get(row.code)
            if obj is None:
                create.append(AdminUnit(version=version, level=level, code=row.code, **wanted))
                continue
            if any(getattr(obj, f) != v for f, v in wanted.items()):
                for f, v in wanted.items():
                    setattr(obj, f, v)
                update.append(obj)
        AdminUnit.objects.bulk_create(create, batch_size=1000)
        AdminUnit.objects.bulk_update(update, UNIT_FIELDS, batch_size=500)
        for code, pk in AdminUnit.objects.filter(version=version, level=level).values_list("code", "id"):
            ids[(version, level, code)] = pk
        report.units[(version, level)] = {"total": len(rows), "created": len(create), "updated": len(update)}
    return ids


def _apply_mappings(sources: Sources, ids: dict[tuple[str, str, str], int], report: LoadReport) -> None:
    existing = {(m.old_id, m.new_id): m for m in CommuneMapping.objects.all()}
    create: list[CommuneMapping] = []
    update: list[CommuneMapping] = []
    seen: set[tuple[int, int]] = set()
    for row in sources.mappings:
        key = (
            ids[(CodeVersion.PRE2025, row.old_level, row.old_code)],
            ids[(CodeVersion.V2025, Level.COMMUNE, row.new_code)],
        )
        seen.add(key)
        wanted: dict[str, Any] = {
            "kind": row.kind,
            "is_default": row.is_default,
            "source": row.source,
            "note": row.note[:200],
            "area_km2": row.area_km2,
        }
        obj = existing.get(key)
        if obj is None:
            create.append(CommuneMapping(old_id=key[0], new_id=key[1], **wanted))
        elif any(getattr(obj, f) != v for f, v in wanted.items()):
            for f, v in wanted.items():
                setattr(obj, f, v)
            update.append(obj)
    stale = [m.pk for k, m in existing.items() if k not in seen]
    CommuneMapping.objects.filter(pk__in=stale).delete()
    CommuneMapping.objects.bulk_create(create, batch_size=1000)
    CommuneMapping.objects.bulk_update(update, MAPPING_FIELDS, batch_size=500)
    report.mappings = {
        "total": len(sources.mappings),
        "created": len(create),
        "updated": len(update),
        "deleted": len(stale),
    }
    report.mapping_sources = dict(Counter(str(m.source) for m in sources.mappings))


def admin_units_apply(*, sources: Sources) -> LoadReport:
    """Bring the tables in line with `sources` (create/update only what differs). No audit row:
    callers are `admin_units_load` and test fixtures that load reference data once per module."""
    report = LoadReport(skipped=list(sources.skipped))
    ids = _apply_units(sources, report)
    _apply_mappings(sources, ids, report)
    return report


@transaction.atomic
def admin_units_load(*, actor: Principal | None, sources: Sources) -> LoadReport:
    """Load both code systems and the old→new mapping in one transaction; idempotent (R-ORG-01).

    Units missing from the sources are kept (data may point at them); mappings missing are removed.
    An audit row is written only when something changed, so a second run changes nothing at all.
    """
    report = admin_units_apply(sources=sources)
    if report.changed:
        log_event(
            actor=actor,
            action="admin_units.load",
            object_type="admin_unit",
            object_id="*",
            changes={
                f"{v}/{lvl}": [None, c]
                for (v, lvl), c in report.units.items()
                if c["created"] or c["updated"]
            }
            | {"mappings": [None, report.mappings]},
        )
    return report


# ---------------------------------------------------------------- villages


NATIONAL_KINDS = frozenset({"ministry", "ministry_dept"})


def _is_national(actor: Principal | None) -> bool:
    if actor is None:
        return False
    if actor.role == "system_admin":
        return True
    if actor.unit is None:
        return actor.is_superuser
    return actor.unit.parent_id is None or actor.unit.kind in NATIONAL_KINDS


def managed_admin_units(actor: Principal | None) -> Any:
    """2025 administrative units (provinces and communes) where this actor may locate reporting units and
    manage villages (R-SEC-01: administration stays inside the subtree).

    A system admin, the bootstrap superuser and the ministry: all. A unit located at province level (Sở Y tế,
    CDC): its province and every commune of it. Any other unit (TTYT, TYT): the communes where the units of
    its subtree are located - always bounded by the province of the actor's own unit, so a unit wrongly
    located in another province (legacy data) opens nothing there.
    """
    from mchis.units.models import ReportingUnit

    units = AdminUnit.objects.v2025()
    if _is_national(actor):
        return units
    unit = actor.unit if actor is not None else None
    if unit is None:
        return units.none()
    seat = unit.admin_unit
    province_id = seat.pk if seat.level == Level.PROVINCE else seat.parent_id
    in_province = units.filter(
        models.Q(pk=province_id) | models.Q(parent_id=province_id, level=Level.COMMUNE)
    )
    if seat.level == Level.PROVINCE:
        return in_province
    located = visible_under(ReportingUnit.objects.all(), unit, lookup="path").values("admin_unit_id")
    return in_province.filter(pk__in=located)


def manageable_communes(actor: Principal | None) -> Any:
    """2025 communes whose villages this actor may manage (see `managed_admin_units`)."""
    return managed_admin_units(actor).communes()


def village_owner_path(commune: AdminUnit) -> str:
    """The unit path owning a commune's villages: the deepest unit above every unit located there."""
    from mchis.units.models import ReportingUnit

    return common_path(ReportingUnit.objects.filter(admin_unit=commune).values_list("path", flat=True))


def _check_village_rights(actor: Principal | None, commune: AdminUnit) -> None:
    if actor is None:
        return  # a system job (management command, demo generator); every request passes its user
    require(actor, "village.manage")
    if not manageable_communes(actor).filter(pk=commune.pk).exists():
        raise DomainError(
            "Xã/phường này không thuộc phạm vi đơn vị của bạn.", field="commune", code="out_of_scope"
        )


def _scope_path(actor: Principal | None, commune: AdminUnit) -> str:
    """Audit scope of a village write: its owner's units (so the commune's province sees it), else the actor's."""
    unit = actor.unit if actor is not None else None
    return village_owner_path(commune) or (unit.path if unit is not None else "")


def _clean_village(name: str, kind: str) -> tuple[str, str]:
    clean = nfc(name)
    if not clean:
        raise DomainError("Tên thôn/tổ dân phố không được để trống.", field="name")
    if len(clean) > 128:
        raise DomainError("Tên thôn/tổ dân phố dài quá 128 ký tự.", field="name")
    if kind not in VillageKind.values:
        raise DomainError(f"Loại '{kind}' không hợp lệ.", field="kind")
    return clean, kind


@transaction.atomic
def village_create(
    *, actor: Principal | None, commune: AdminUnit, name: str, kind: str, code: str = ""
) -> Village:
    """Add a thôn / tổ dân phố / bản / ấp / khóm under a 2025 commune; code defaults to the next number."""
    if commune.version != CodeVersion.V2025 or commune.level != Level.COMMUNE:
        raise DomainError("Chỉ thêm thôn/tổ dân phố dưới xã/phường/đặc khu (mã 2025).", field="commune")
    _check_village_rights(actor, commune)
    clean, kind = _clean_village(name, kind)
    AdminUnit.objects.select_for_update().filter(pk=commune.pk).first()  # serialise numbering per commune
    siblings = Village.objects.filter(commune=commune)
    if siblings.filter(name__iexact=clean).exists():
        raise DomainError(f"Xã đã có thôn/tổ dân phố '{clean}'.", field="name", code="duplicate")
    code = nfc(code)
    if code and siblings.filter(code=code).exists():
        raise DomainError(f"Mã '{code}' đã dùng trong xã này.", field="code", code="duplicate")
    return _village_write(actor=actor, commune=commune, code=code, name=clean, kind=kind)


def _village_write(
    *,
    actor: Principal | None,
    commune: AdminUnit,
    code: str,
    name: str,
    kind: str,
    pending: bool = False,
    reason: str = "",
) -> Village:
    """The one place a village row is created and audited; an empty code takes the commune's next number.
    Callers hold the commune row lock that serialises the numbering."""
    if not code:
        numbers = [
            int(c)
            for c in Village.objects.filter(commune=commune).values_list("code", flat=True)
            if c.isdigit()
        ]
        code = f"{max(numbers, default=0) + 1:03d}"
    village = Village.objects.create(commune=commune, code=code[:16], name=name, kind=kind, pending=pending)
    changes: dict[str, list[Any]] = {
        "commune": [None, commune.code],
        "code": [None, village.code],
        "name": [None, name],
        "kind": [None, kind],
    }
    if pending:
        changes["pending"] = [None, True]
    log_event(
        actor=actor,
        action="village.create",
        object_type="village",
        object_id=village.pk,
        scope_path=_scope_path(actor, commune),
        changes=changes,
        reason=reason,
    )
    return village


@transaction.atomic
def village_update(*, actor: Principal, village: Village, name: str, kind: str) -> Village:
    village = Village.objects.select_for_update().select_related("commune").get(pk=village.pk)
    _check_village_rights(actor, village.commune)
    clean, kind = _clean_village(name, kind)
    if Village.objects.filter(commune=village.commune, name__iexact=clean).exclude(pk=village.pk).exists():
        raise DomainError(f"Xã đã có thôn/tổ dân phố '{clean}'.", field="name", code="duplicate")
    changes = {
        f: [getattr(village, f), v] for f, v in (("name", clean), ("kind", kind)) if getattr(village, f) != v
    }
    if changes:
        village.name, village.kind = clean, kind
        village.save(update_fields=["name", "kind"])
        log_event(
            actor=actor,
            action="village.update",
            object_type="village",
            object_id=village.pk,
            scope_path=_scope_path(actor, village.commune),
            changes=changes,
        )
    return village


@transaction.atomic
def village_deactivate(*, actor: Principal, village: Village, reason: str = "") -> Village:
    """Villages are never deleted (records point at them); they stop being offered."""
    village = Village.objects.select_for_update().select_related("commune").get(pk=village.pk)
    _check_village_rights(actor, village.commune)
    if not village.active:
        raise DomainError("Thôn/tổ dân phố đã ngừng sử dụng.", code="already_inactive")
    village.active = False
    village.save(update_fields=["active"])
    log_event(
        actor=actor,
        action="village.deactivate",
        object_type="village",
        object_id=village.pk,
        scope_path=_scope_path(actor, village.commune),
        changes={"active": [True, False]},
        reason=reason,
    )
    return village


@transaction.atomic
def village_add_pending(
    *, actor: Principal, commune: AdminUnit, name: str, kind: str, reason: str
) -> Village:
    """A village named by an import but not in the commune's list: added as pending for a leader to confirm.

    The caller (the initial migration) has already checked that `actor` may approve data of this commune;
    the name is kept as written so the leader sees what the file said.
    """
    clean, kind = _clean_village(name, kind)
    AdminUnit.objects.select_for_update().filter(pk=commune.pk).first()  # serialise numbering per commune
    return _village_write(
        actor=actor, commune=commune, code="", name=clean, kind=kind, pending=True, reason=reason
    )


def can_confirm_village(actor: Principal | None, village: Village) -> bool:
    """Unit admins of the area, and leaders of a unit located in (or above) the village's commune."""
    if not village.pending:
        return False
    if actor is None or (
        actor.role not in ("leader", "unit_admin", "system_admin") and not actor.is_superuser
    ):
        return False
    return bool(manageable_communes(actor).filter(pk=village.commune_id).exists())


@transaction.atomic
def village_confirm(*, actor: Principal | None, village: Village) -> Village:
    """A leader confirms a village an import added (it becomes an ordinary village of the list)."""
    village = Village.objects.select_for_update().select_related("commune").get(pk=village.pk)
    if not village.pending:
        raise DomainError("Thôn/tổ dân phố này đã được xác nhận.", code="already_confirmed")
    if not can_confirm_village(actor, village):
        raise PermissionDeniedError("Bạn không có quyền xác nhận thôn/tổ dân phố của xã này.")
    village.pending = False
    village.save(update_fields=["pending"])
    log_event(
        actor=actor,
        action="village.confirm",
        object_type="village",
        object_id=village.pk,
        scope_path=_scope_path(actor, village.commune),
        changes={"pending": [True, False]},
    )
    return village
