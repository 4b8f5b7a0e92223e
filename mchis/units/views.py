"""Unit admin pages: tree, create, edit, move with a date and reason, placement history (R-ORG-02).

A system admin manages the whole tree; a unit admin only its own subtree (mchis.core.scoping).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mchis.accounts.permissions import can
from mchis.core.errors import DomainError
from mchis.core.http import AuthedRequest
from mchis.core.scoping import in_subtree
from mchis.core.text import fold

from . import services
from .forms import DeactivateForm, MoveForm, UnitForm, parent_by_code
from .selectors import unit_get, unit_list, unit_path_labels, unit_placements


def _require_manage(request: AuthedRequest) -> None:
    if not can(request.user, "unit.manage"):
        raise PermissionDenied(_("Bạn không có quyền quản lý đơn vị."))


def _form_error(form: Any, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


@login_required
def unit_tree(request: AuthedRequest) -> HttpResponse:
    _require_manage(request)
    q = request.GET.get("q", "").strip()
    units = list(unit_list(request.user))
    if q:
        key = fold(q)
        units = [u for u in units if key in fold(u.name) or key in u.code.lower()]
    base = min((u.depth for u in units), default=0)
    page = Paginator(units, 200).get_page(request.GET.get("page"))
    rows = [(u, u.depth - base) for u in page.object_list]
    return render(request, "units/tree.html", {"rows": rows, "page": page, "q": q})


@login_required
@require_http_methods(["GET", "POST"])
def unit_new(request: AuthedRequest) -> HttpResponse:
    _require_manage(request)
    parents = list(unit_list(request.user).filter(active=True))
    form = UnitForm(request.POST or None, parents=parents, initial={"parent": request.GET.get("parent", "")})
    if request.method == "POST" and form.is_valid():
        try:
            unit = services.unit_create(
                actor=request.user,
                code=form.cleaned_data["code"],
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                admin_unit=form.cleaned_data["admin_unit"],
                parent=parent_by_code(form.cleaned_data["parent"], parents),
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Đã tạo đơn vị %(name)s.") % {"name": unit.name})
            return redirect("units:detail", code=unit.code)
    return render(request, "units/form.html", {"form": form, "title": _("Tạo đơn vị")})


@login_required
def unit_detail(request: AuthedRequest, code: str) -> HttpResponse:
    _require_manage(request)
    unit = unit_get(request.user, code)
    placements = list(unit_placements(unit))
    return render(
        request,
        "units/detail.html",
        {
            "unit": unit,
            "placements": placements,
            "label": unit_path_labels([unit])[unit.pk],
            "children": unit_list(request.user).filter(parent=unit),
            "deactivate_form": DeactivateForm(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def unit_edit(request: AuthedRequest, code: str) -> HttpResponse:
    _require_manage(request)
    unit = unit_get(request.user, code)
    initial = {"name": unit.name, "kind": unit.kind, "admin_unit": unit.admin_unit.code}
    form = UnitForm(request.POST or None, parents=[], editing=True, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_update(
                actor=request.user,
                unit=unit,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                admin_unit=form.cleaned_data["admin_unit"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Đã lưu."))
            return redirect("units:detail", code=unit.code)
    return render(request, "units/form.html", {"form": form, "unit": unit, "title": _("Sửa đơn vị")})


@login_required
@require_http_methods(["GET", "POST"])
def unit_move(request: AuthedRequest, code: str) -> HttpResponse:
    _require_manage(request)
    unit = unit_get(request.user, code)
    parents = [
        u
        for u in unit_list(request.user).filter(active=True)
        if not in_subtree(u.path, unit.path) and u.pk != unit.parent_id
    ]
    form = MoveForm(request.POST or None, parents=parents)
    if request.method == "POST" and form.is_valid():
        try:
            services.unit_move(
                actor=request.user,
                unit=unit,
                new_parent=parent_by_code(form.cleaned_data["new_parent"], parents),
                on=form.cleaned_data["on"],
                reason=form.cleaned_data["reason"],
            )
        except DomainError as exc:
            _form_error(form, exc)
        else:
            messages.success(request, _("Đã chuyển đơn vị; lịch sử vị trí được giữ lại."))
            return redirect("units:detail", code=unit.code)
    return render(request, "units/move.html", {"form": form, "unit": unit})


@login_required
@require_http_methods(["POST"])
def unit_deactivate(request: AuthedRequest, code: str) -> HttpResponse:
    _require_manage(request)
    unit = unit_get(request.user, code)
    form = DeactivateForm(request.POST)
    if form.is_valid():
        try:
            services.unit_deactivate(actor=request.user, unit=unit, reason=form.cleaned_data["reason"])
            messages.success(request, _("Đơn vị đã ngừng hoạt động."))
        except DomainError as exc:
            messages.error(request, exc.message)
    else:
        messages.error(request, _("Hãy ghi lý do ngừng hoạt động."))
    return redirect("units:detail", code=unit.code)
