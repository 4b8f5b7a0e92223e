"""Every write of the analytics app: favourites (saved views), dashboards, a full rebuild of the store.

The store itself is written by ``store`` (recompute of dirty unit-months), never by a person.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.db import transaction
from django.utils import timezone

from mchis.accounts.permissions import require
from mchis.accounts.principals import as_person
from mchis.core.audit import log_event
from mchis.core.bulk import BulkTable
from mchis.core.errors import DomainError, PermissionDeniedError, ValidationFailed
from mchis.core.principal import Principal, principal_ref
from mchis.core.scoping import access

from . import population, selectors, store
from .models import Dashboard, DashboardItem, Favorite, FavoriteKind, Population, PopulationVersion

QUERY_KEYS = ("dx", "pe", "ou", "rows", "cols", "filter", "type", "approved", "sort", "totals", "class")


def clean_query(query: str) -> str:
    """Keep only the selection's own keys (the URL of the page), validated as the API validates them."""
    pairs = [(k, v) for k, v in parse_qsl(query or "", keep_blank_values=False) if k in QUERY_KEYS]
    data = dict(pairs)
    selectors.parse_dx(data.get("dx", ""))
    selectors.parse_periods(data.get("pe", ""))
    out = urlencode(pairs)
    if len(out) > 2000:
        raise DomainError("Lựa chọn quá dài để lưu (tối đa 2.000 ký tự).", field="query")
    return out


@transaction.atomic
def favorite_save(
    *,
    actor: Principal,
    name: str,
    kind: str,
    query: str,
    shared: bool = False,
    favorite_id: int | None = None,
) -> Favorite:
    """Lưu mục ưa thích: a name, the chart type and the whole selection; shared with the unit on request."""
    require(actor, "analytics.view")
    person = as_person(actor)
    name = (name or "").strip()
    if not name:
        raise DomainError("Vui lòng đặt tên cho mục ưa thích.", field="name", code="name_required")
    if len(name) > 200:
        raise DomainError("Tên: tối đa 200 ký tự.", field="name")
    if kind not in FavoriteKind.values:
        raise DomainError("Kiểu hiển thị không hợp lệ.", field="kind")
    if shared:
        require(actor, "analytics.favorite_share")
    if person.unit is None:
        raise DomainError("Tài khoản chưa thuộc đơn vị nào: không lưu được.", field="unit")
    clean = clean_query(query)
    if favorite_id is not None:
        fav = Favorite.objects.select_for_update().filter(pk=favorite_id, owner=person).first()
        if fav is None:
            raise PermissionDeniedError("Chỉ người tạo mới sửa được mục ưa thích này.")
        before = {"name": fav.name, "kind": fav.kind, "query": fav.query, "shared": fav.shared}
    else:
        fav = Favorite(owner=person, unit=person.unit)
        before = {}
    fav.name, fav.kind, fav.query, fav.shared = name, kind, clean, shared
    fav.save()
    after = {"name": name, "kind": kind, "query": clean, "shared": shared}
    log_event(
        actor=actor,
        action="analytics.favorite_save",
        object_type="analytics_favorite",
        object_id=fav.pk,
        scope_path=fav.unit.path,
        changes={k: [before.get(k), v] for k, v in after.items() if before.get(k) != v},
    )
    return fav


@transaction.atomic
def favorite_delete(*, actor: Principal, favorite_id: int) -> None:
    require(actor, "analytics.view")
    person = as_person(actor)
    fav = access(Favorite.objects.select_for_update().select_related("unit"), actor, pk=favorite_id)
    if fav.owner_id != person.pk:
        raise PermissionDeniedError("Chỉ người tạo mới xóa được mục ưa thích này.")
    log_event(
        actor=actor,
        action="analytics.favorite_delete",
        object_type="analytics_favorite",
        object_id=fav.pk,
        scope_path=fav.unit.path,
        changes={"name": [fav.name, None]},
    )
    fav.delete()


@transaction.atomic
def dashboard_save(*, actor: Principal, name: str, favorite_ids: list[int]) -> Dashboard:
    """Sửa bảng điều khiển của đơn vị: its name and the favourites on it, in order (shared by the unit)."""
    require(actor, "analytics.dashboard_edit")
    person = as_person(actor)
    if person.unit is None:
        raise DomainError("Tài khoản chưa thuộc đơn vị nào.", field="unit")
    name = (name or "").strip() or "Bảng điều khiển"
    if len(name) > 200:
        raise DomainError("Tên: tối đa 200 ký tự.", field="name")
    allowed = {f.pk: f for f in selectors.favorites_for(actor)}
    unknown = [i for i in favorite_ids if i not in allowed]
    if unknown:
        raise DomainError(
            f"Mục ưa thích số {unknown[0]} không có hoặc không được chia sẻ với bạn.", field="items"
        )
    if len(favorite_ids) > 24:
        raise DomainError("Tối đa 24 mục trên một bảng điều khiển.", field="items")
    board, _ = Dashboard.objects.select_for_update().get_or_create(unit=person.unit, defaults={"name": name})
    before = {"name": board.name, "items": list(board.items.values_list("favorite_id", flat=True))}
    board.name = name
    board.save()
    board.items.all().delete()
    DashboardItem.objects.bulk_create(
        [
            DashboardItem(dashboard=board, position=i, favorite=allowed[fid])
            for i, fid in enumerate(favorite_ids)
        ]
    )
    log_event(
        actor=actor,
        action="analytics.dashboard_save",
        object_type="analytics_dashboard",
        object_id=board.pk,
        scope_path=person.unit.path,
        changes={"name": [before["name"], name], "items": [before["items"], favorite_ids]},
    )
    return board


def store_rebuild(
    *, actor: Principal | None, months: list[date], unit_ids: list[int] | None = None
) -> dict[str, Any]:
    """Mark every filing unit (or the given ones) dirty for these months and recompute now (the command)."""
    with transaction.atomic():
        marked = store.mark_months(months, unit_ids)
        log_event(
            actor=actor,
            action="analytics.rebuild",
            object_type="analytics_store",
            object_id="",
            changes={"months": [None, [m.isoformat() for m in months]], "unit_months": [None, marked]},
        )
    done = store.recompute_dirty(limit=10_000_000)
    return {"marked": marked, "recomputed": done}


def population_load(
    *, actor: Principal | None, text: str, year: int, source: str, file_name: str = ""
) -> PopulationVersion:
    """Load a year's population from CSV as a new version that replaces the one in force, all or nothing: every
    row checked first (ValidationFailed lists every problem by line, nothing written), then in one transaction
    the old version's rows deleted, the new ones written, the store's population elements of the year brought
    up to date and the load audited (old and new version, source, totals)."""
    if not 1990 <= year <= 2100:
        raise DomainError(f"Năm {year} không hợp lệ (1990–2100).", field="year")
    source = (source or "").strip()
    if not source:
        raise DomainError(
            "Thiếu nguồn số liệu dân số (--source, ví dụ «Cục Thống kê, ước tính 2026»).", field="source"
        )
    rows, errors = population.parse_csv(text)
    if errors:
        raise ValidationFailed(
            [{"field": "file", "message": e} for e in errors],
            f"Tệp dân số có {len(errors)} lỗi; không ghi gì vào cơ sở dữ liệu.",
        )
    with transaction.atomic():
        # the year's versions locked: two loads of one year queue instead of both replacing the same version
        versions = list(PopulationVersion.objects.select_for_update().filter(year=year))
        old = next((v for v in versions if v.replaced_at is None), None)
        now = timezone.now()
        if old is not None:
            Population.objects.filter(version=old).delete()
            old.replaced_at = now
            old.save(update_fields=["replaced_at"])
        new = PopulationVersion.objects.create(
            year=year,
            version=max((v.version for v in versions), default=0) + 1,
            source=source[:200],
            file_name=file_name[:255],
            rows=len(rows),
            total=sum(r.people for r in rows),
            loaded_at=now,
            loaded_by=str(principal_ref(actor) or "system"),
        )
        # COPY on PostgreSQL (a national file is ~113,000 rows: model instances cost more than the insert)
        BulkTable(Population, ("version_id", "commune_id", "sex", "age_band", "people"), now).write(
            (new.pk, r.commune_id, r.sex, r.age_band, r.people) for r in rows
        )
        changed = store.refresh_population(year)
        log_event(
            actor=actor,
            action="analytics.population_load",
            object_type="PopulationVersion",
            object_id=new.pk,
            changes={
                "year": [None, year],
                "version": [old.version if old else None, new.version],
                "source": [old.source if old else None, new.source],
                "rows": [old.rows if old else None, new.rows],
                "total": [old.total if old else None, new.total],
                "store_values": [None, changed],
            },
        )
    return new
