"""Writes to the shared catalogs (danh mục dùng chung, R-ORG-03). A change is a new version, never an overwrite.

`actor=None` is a system job (the `load_catalogs` command); every request passes the person acting,
who needs `catalog.manage` (system admin).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from mchis.accounts.permissions import require
from mchis.core.audit import log_event
from mchis.core.errors import DomainError
from mchis.core.principal import Principal
from mchis.core.text import nfc

from .models import Catalog, CatalogItem

CODE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,31}")
# Seeded items are valid from here, so records of any past period can use them.
SEED_VALID_FROM = date(2000, 1, 1)


def _check(actor: Principal | None) -> None:
    if actor is not None:
        require(actor, "catalog.manage")


def _scope_path(actor: Principal | None) -> str:
    return actor.unit.path if actor is not None and actor.unit is not None else ""


def _clean_names(name_vi: str, name_en: str) -> tuple[str, str]:
    vi = nfc(name_vi)
    if not vi:
        raise DomainError("Tên tiếng Việt không được để trống.", field="name_vi")
    if len(vi) > 300:
        raise DomainError("Tên tiếng Việt dài quá 300 ký tự.", field="name_vi")
    en = nfc(name_en)
    if len(en) > 300:
        raise DomainError("Tên tiếng Anh dài quá 300 ký tự.", field="name_en")
    return vi, en


def _check_parent(catalog: Catalog, parent_code: str, code: str) -> str:
    parent_code = nfc(parent_code)
    if not parent_code:
        return ""
    if parent_code == code:
        raise DomainError("Mục không thể là mục cha của chính nó.", field="parent_code")
    if not CatalogItem.objects.filter(catalog=catalog, code=parent_code, valid_to__isnull=True).exists():
        raise DomainError(f"Không có mục cha '{parent_code}' đang dùng trong danh mục.", field="parent_code")
    return parent_code


@transaction.atomic
def catalog_create(
    *,
    actor: Principal | None,
    code: str,
    name_vi: str,
    name_en: str = "",
    code_system: str,
    description: str = "",
) -> Catalog:
    _check(actor)
    if not re.fullmatch(r"[a-z0-9_\-]{1,64}", code or ""):
        raise DomainError(f"Mã danh mục '{code}' không hợp lệ (chữ thường, số, _ -).", field="code")
    if Catalog.objects.filter(code=code).exists():
        raise DomainError(f"Danh mục '{code}' đã có.", field="code", code="duplicate")
    vi, en = _clean_names(name_vi, name_en)
    catalog = Catalog.objects.create(
        code=code,
        name_vi=vi,
        name_en=en,
        code_system=nfc(code_system) or "mchis",
        description=nfc(description),
    )
    log_event(
        actor=actor,
        action="catalog.create",
        object_type="catalog",
        object_id=code,
        scope_path=_scope_path(actor),
        changes={"name_vi": [None, vi], "code_system": [None, catalog.code_system]},
    )
    return catalog


@transaction.atomic
def catalog_item_add(
    *,
    actor: Principal,
    catalog: Catalog,
    code: str,
    name_vi: str,
    name_en: str = "",
    parent_code: str = "",
    sort_order: int = 0,
    extra: dict[str, Any] | None = None,
    valid_from: date | None = None,
) -> CatalogItem:
    """A new code. A code retired earlier comes back as its next version (its history is kept)."""
    _check(actor)
    code = nfc(code)
    if not CODE_RE.fullmatch(code):
        raise DomainError(f"Mã '{code}' không hợp lệ (tối đa 32 ký tự chữ, số, . _ -).", field="code")
    Catalog.objects.select_for_update().filter(pk=catalog.pk).first()
    if CatalogItem.objects.filter(catalog=catalog, code=code, valid_to__isnull=True).exists():
        raise DomainError(f"Mã '{code}' đã có trong danh mục.", field="code", code="duplicate")
    vi, en = _clean_names(name_vi, name_en)
    parent_code = _check_parent(catalog, parent_code, code)
    start = valid_from or timezone.localdate()
    last = CatalogItem.objects.filter(catalog=catalog, code=code).aggregate(v=Max("version"))["v"] or 0
    item = CatalogItem.objects.create(
        catalog=catalog,
        code=code,
        version=last + 1,
        name_vi=vi,
        name_en=en,
        code_system=catalog.code_system,
        parent_code=parent_code,
        sort_order=sort_order,
        extra=extra or {},
        valid_from=start,
    )
    log_event(
        actor=actor,
        action="catalog_item.add",
        object_type="catalog_item",
        object_id=f"{catalog.code}:{code}",
        scope_path=_scope_path(actor),
        changes={"name_vi": [None, vi], "name_en": [None, en], "version": [None, item.version]},
    )
    return item


@transaction.atomic
def catalog_item_update(
    *,
    actor: Principal | None,
    item: CatalogItem,
    name_vi: str,
    name_en: str,
    parent_code: str | None = None,
    sort_order: int | None = None,
    extra: dict[str, Any] | None = None,
    valid_from: date | None = None,
    reason: str = "",
) -> CatalogItem:
    """Close the current version on `valid_from` (default today) and open version + 1 from then.

    Never overwrites: the old version stays readable for its dates (data recorded then still shows the
    name it had). Two edits on one day leave a zero-length version, still in the history.
    """
    _check(actor)
    current = (
        CatalogItem.objects.select_for_update()
        .select_related("catalog")
        .filter(catalog_id=item.catalog_id, code=item.code, valid_to__isnull=True)
        .first()
    )
    if current is None:
        raise DomainError(f"Mã '{item.code}' không còn hiệu lực; không sửa được.", code="retired")
    if current.pk != item.pk:
        raise DomainError("Mục đã được người khác sửa; hãy tải lại trang.", code="conflict")
    vi, en = _clean_names(name_vi, name_en)
    new_parent = (
        current.parent_code
        if parent_code is None
        else _check_parent(current.catalog, parent_code, current.code)
    )
    new_sort = current.sort_order if sort_order is None else sort_order
    new_extra = current.extra if extra is None else extra
    start = valid_from or timezone.localdate()
    if start < current.valid_from:
        raise DomainError(
            f"Ngày hiệu lực phải từ {current.valid_from:%d/%m/%Y} trở đi (ngày của phiên bản hiện tại).",
            field="valid_from",
        )
    changes = {
        f: [getattr(current, f), v]
        for f, v in (
            ("name_vi", vi),
            ("name_en", en),
            ("parent_code", new_parent),
            ("sort_order", new_sort),
            ("extra", new_extra),
        )
        if getattr(current, f) != v
    }
    if not changes:
        raise DomainError("Không có gì thay đổi.", code="unchanged")
    current.valid_to = start
    current.save(update_fields=["valid_to"])
    new = CatalogItem.objects.create(
        catalog=current.catalog,
        code=current.code,
        version=current.version + 1,
        name_vi=vi,
        name_en=en,
        code_system=current.catalog.code_system,
        parent_code=new_parent,
        sort_order=new_sort,
        extra=new_extra,
        valid_from=start,
    )
    log_event(
        actor=actor,
        action="catalog_item.update",
        object_type="catalog_item",
        object_id=f"{current.catalog.code}:{current.code}",
        scope_path=_scope_path(actor),
        changes=changes | {"version": [current.version, new.version], "valid_from": [None, start]},
        reason=nfc(reason),
    )
    return new


@transaction.atomic
def catalog_item_retire(
    *, actor: Principal, item: CatalogItem, on: date | None = None, reason: str = ""
) -> CatalogItem:
    """Stop offering a code from `on`; the code stays readable for data recorded before."""
    _check(actor)
    current = (
        CatalogItem.objects.select_for_update()
        .select_related("catalog")
        .filter(catalog_id=item.catalog_id, code=item.code, valid_to__isnull=True)
        .first()
    )
    if current is None:
        raise DomainError(f"Mã '{item.code}' đã ngừng sử dụng.", code="retired")
    day = on or timezone.localdate()
    if day < current.valid_from:
        raise DomainError("Ngày ngừng phải sau ngày bắt đầu hiệu lực.", field="on")
    if CatalogItem.objects.filter(
        catalog=current.catalog, parent_code=current.code, valid_to__isnull=True
    ).exists():
        raise DomainError("Còn mục con đang dùng: hãy ngừng các mục con trước.", code="has_children")
    current.valid_to = day
    current.save(update_fields=["valid_to"])
    log_event(
        actor=actor,
        action="catalog_item.retire",
        object_type="catalog_item",
        object_id=f"{current.catalog.code}:{current.code}",
        scope_path=_scope_path(actor),
        changes={"valid_to": [None, day]},
        reason=nfc(reason),
    )
    return current


# ---------------------------------------------------------------- bulk load (seed files, full ICD-10)


@dataclass(frozen=True)
class ItemRow:
    line: int
    code: str
    name_vi: str
    name_en: str
    parent_code: str = ""
    sort_order: int = 0
    extra: dict[str, Any] | None = None


@dataclass
class CatalogLoadReport:
    catalog: str
    total: int = 0
    created: int = 0
    versioned: int = 0

    @property
    def changed(self) -> bool:
        return bool(self.created or self.versioned)


@transaction.atomic
def catalog_load(
    *, actor: Principal | None, catalog: Catalog, rows: list[ItemRow], valid_from: date = SEED_VALID_FROM
) -> CatalogLoadReport:
    """Bring a catalog in line with `rows` in bulk (idempotent).

    New codes start on `valid_from`; a code whose name/parent/extra differ gets a new version from today
    (the old one is closed, as with a manual edit). Codes absent from the rows are left alone: a file may
    be partial. One audit row per load that changed something.
    """
    _check(actor)
    today = timezone.localdate()
    current = {i.code: i for i in CatalogItem.objects.filter(catalog=catalog, valid_to__isnull=True)}
    last = dict(
        CatalogItem.objects.filter(catalog=catalog)
        .values("code")
        .annotate(v=Max("version"))
        .values_list("code", "v")
    )
    known = set(current) | {r.code for r in rows}
    for r in rows:
        if r.parent_code and r.parent_code not in known:
            raise DomainError(
                f"Dòng {r.line}: mục cha '{r.parent_code}' không có trong danh mục.", field="parent_code"
            )
    report = CatalogLoadReport(catalog=catalog.code, total=len(rows))
    create: list[CatalogItem] = []
    close: list[CatalogItem] = []
    for r in rows:
        wanted = {
            "name_vi": r.name_vi,
            "name_en": r.name_en,
            "parent_code": r.parent_code,
            "sort_order": r.sort_order,
            "extra": r.extra or {},
        }
        old = current.get(r.code)
        if old is None:
            start = valid_from if r.code not in last else today
            create.append(
                CatalogItem(
                    catalog=catalog,
                    code=r.code,
                    version=last.get(r.code, 0) + 1,
                    code_system=catalog.code_system,
                    valid_from=start,
                    **wanted,
                )
            )
            report.created += 1
        elif any(getattr(old, f) != v for f, v in wanted.items()):
            old.valid_to = max(today, old.valid_from)
            close.append(old)
            create.append(
                CatalogItem(
                    catalog=catalog,
                    code=r.code,
                    version=old.version + 1,
                    code_system=catalog.code_system,
                    valid_from=old.valid_to,
                    **wanted,
                )
            )
            report.versioned += 1
    CatalogItem.objects.bulk_update(close, ["valid_to"], batch_size=500)
    CatalogItem.objects.bulk_create(create, batch_size=1000)
    if report.changed:
        log_event(
            actor=actor,
            action="catalog.load",
            object_type="catalog",
            object_id=catalog.code,
            scope_path=_scope_path(actor),
            changes={"created": [None, report.created], "versioned": [None, report.versioned]},
        )
    return report
