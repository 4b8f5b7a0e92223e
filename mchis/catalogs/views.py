"""Catalog pages: every signed-in user reads; system admins add, edit (new version) and retire (R-ORG-03)."""

from __future__ import annotations

from datetime import date

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mchis.accounts.permissions import can
from mchis.core.dates import parse_day
from mchis.core.errors import DomainError
from mchis.core.http import AuthedRequest
from mchis.core.text import fold

from . import services
from .forms import ItemEditForm, ItemForm, RetireForm
from .models import Catalog
from .selectors import (
    catalog_current_items,
    catalog_get,
    catalog_item_current,
    catalog_item_history,
    catalog_items,
    catalog_list,
)


def _catalog(code: str) -> Catalog:
    catalog = catalog_get(code)
    if catalog is None:
        raise Http404(_("Không có danh mục này."))
    return catalog


def _require_manage(request: AuthedRequest) -> None:
    if not can(request.user, "catalog.manage"):
        raise PermissionDenied(_("Chỉ quản trị hệ thống được sửa danh mục."))


@login_required
def catalog_index(request: HttpRequest) -> HttpResponse:
    return render(request, "catalogs/index.html", {"catalogs": catalog_list()})


@login_required
def catalog_detail(request: AuthedRequest, code: str) -> HttpResponse:
    catalog = _catalog(code)
    on_text = request.GET.get("on", "")
    day: date | None = None
    error = ""
    if on_text:
        try:
            day = parse_day(on_text)
        except ValueError:
            error = _("Ngày không hợp lệ: nhập theo dạng dd/mm/yyyy, ví dụ 05/03/2026.")
    items = list(catalog_items(code, on=day) if day else catalog_current_items(code))
    q = request.GET.get("q", "").strip()
    if q:
        key = fold(q)
        items = [
            i for i in items if key in fold(i.name_vi) or key in i.code.lower() or key in i.name_en.lower()
        ]
    return render(
        request,
        "catalogs/detail.html",
        {
            "catalog": catalog,
            "items": items,
            "q": q,
            "on": on_text,
            "error": error,
            "can_manage": can(request.user, "catalog.manage"),
            "today": timezone.localdate(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def item_add(request: AuthedRequest, code: str) -> HttpResponse:
    _require_manage(request)
    catalog = _catalog(code)
    form = ItemForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = services.catalog_item_add(
                actor=request.user,
                catalog=catalog,
                code=data["code"],
                name_vi=data["name_vi"],
                name_en=data["name_en"],
                parent_code=data["parent_code"],
                valid_from=data["valid_from"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Đã thêm mục %(code)s.") % {"code": item.code})
            return redirect("catalogs:detail", code=catalog.code)
    return render(
        request, "catalogs/item_form.html", {"catalog": catalog, "form": form, "title": _("Thêm mục")}
    )


@login_required
@require_http_methods(["GET", "POST"])
def item_edit(request: AuthedRequest, code: str, item_code: str) -> HttpResponse:
    """Edit form and version history of one code."""
    catalog = _catalog(code)
    history = list(catalog_item_history(code, item_code))
    if not history:
        raise Http404(_("Không có mục này."))
    current = next((i for i in history if i.valid_to is None), None)
    can_manage = can(request.user, "catalog.manage")
    form = None
    if current is not None and can_manage:
        initial = {
            "name_vi": current.name_vi,
            "name_en": current.name_en,
            "parent_code": current.parent_code,
            "version": current.version,
        }
        form = ItemEditForm(request.POST or None, initial=initial)
    if request.method == "POST":
        _require_manage(request)
        if form is None:
            raise Http404(_("Mục đã ngừng sử dụng."))
        if form.is_valid():
            data = form.cleaned_data
            edited = next((i for i in history if i.version == data["version"]), None)
            try:
                if edited is None:
                    raise DomainError(_("Phiên bản không tồn tại."), code="conflict")
                services.catalog_item_update(
                    actor=request.user,
                    item=edited,
                    name_vi=data["name_vi"],
                    name_en=data["name_en"],
                    parent_code=data["parent_code"],
                    valid_from=data["valid_from"],
                    reason=data["reason"],
                )
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
            else:
                messages.success(request, _("Đã lưu thành phiên bản mới; phiên bản cũ vẫn được giữ."))
                return redirect("catalogs:item", code=code, item_code=item_code)
    return render(
        request,
        "catalogs/item.html",
        {
            "catalog": catalog,
            "history": history,
            "current": current,
            "form": form,
            "retire_form": RetireForm() if current is not None and can_manage else None,
        },
    )


@login_required
@require_http_methods(["POST"])
def item_retire(request: AuthedRequest, code: str, item_code: str) -> HttpResponse:
    _require_manage(request)
    _catalog(code)
    current = catalog_item_current(code, item_code)
    if current is None:
        raise Http404(_("Mục đã ngừng sử dụng."))
    form = RetireForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Hãy ghi lý do ngừng sử dụng."))
    else:
        try:
            services.catalog_item_retire(actor=request.user, item=current, reason=form.cleaned_data["reason"])
            messages.success(request, _("Đã ngừng sử dụng mục %(code)s.") % {"code": item_code})
        except DomainError as exc:
            messages.error(request, exc.message)
    return redirect("catalogs:item", code=code, item_code=item_code)
