"""Village pages for unit admins: communes of their subtree, villages below each commune (R-ORG-01)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from mchis.accounts.permissions import can
from mchis.core.errors import DomainError
from mchis.core.http import AuthedRequest

from . import services
from .forms import VillageEditForm, VillageForm
from .models import AdminUnit, Village
from .selectors import commune_search, villages_of


def _require(request: AuthedRequest) -> None:
    if not can(request.user, "village.manage"):
        raise PermissionDenied(_("Bạn không có quyền quản lý thôn, tổ dân phố."))


def _commune(request: AuthedRequest, code: str) -> AdminUnit:
    commune: AdminUnit | None = (
        services.manageable_communes(request.user).select_related("parent").filter(code=code).first()
    )
    if commune is None:
        raise Http404(_("Không tìm thấy xã."))  # missing and out of scope look the same
    return commune


@login_required
def commune_list(request: AuthedRequest) -> HttpResponse:
    _require(request)
    q = request.GET.get("q", "").strip()
    communes = commune_search(services.manageable_communes(request.user).select_related("parent"), q)
    page = Paginator(communes.order_by("parent__code", "code"), 50).get_page(request.GET.get("page"))
    return render(request, "places/communes.html", {"page": page, "q": q})


@login_required
@require_http_methods(["GET", "POST"])
def village_list(request: AuthedRequest, code: str) -> HttpResponse:
    _require(request)
    commune = _commune(request, code)
    form = VillageForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            village = services.village_create(
                actor=request.user,
                commune=commune,
                name=form.cleaned_data["name"],
                kind=form.cleaned_data["kind"],
                code=form.cleaned_data["code"],
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Đã thêm %(name)s.") % {"name": str(village)})
            return redirect("places:villages", code=commune.code)
    villages = villages_of(commune, include_inactive=True)
    return render(request, "places/villages.html", {"commune": commune, "villages": villages, "form": form})


@login_required
@require_http_methods(["GET", "POST"])
def village_edit(request: AuthedRequest, code: str, pk: int) -> HttpResponse:
    _require(request)
    commune = _commune(request, code)
    village = Village.objects.filter(commune=commune, pk=pk).first()
    if village is None:
        raise Http404(_("Không tìm thấy thôn/tổ dân phố."))
    form = VillageEditForm(request.POST or None, initial={"name": village.name, "kind": village.kind})
    if request.method == "POST":
        try:
            if "confirm" in request.POST:
                services.village_confirm(actor=request.user, village=village)
                messages.success(request, _("Đã xác nhận %(name)s.") % {"name": str(village)})
                return redirect("places:villages", code=commune.code)
            if "deactivate" in request.POST:
                services.village_deactivate(
                    actor=request.user, village=village, reason=request.POST.get("reason", "")
                )
                messages.success(request, _("Đã ngừng sử dụng %(name)s.") % {"name": str(village)})
                return redirect("places:villages", code=commune.code)
            if form.is_valid():
                services.village_update(
                    actor=request.user,
                    village=village,
                    name=form.cleaned_data["name"],
                    kind=form.cleaned_data["kind"],
                )
                messages.success(request, _("Đã lưu."))
                return redirect("places:villages", code=commune.code)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    context = {
        "commune": commune,
        "village": village,
        "form": form,
        "can_confirm": services.can_confirm_village(request.user, village),
    }
    return render(request, "places/village_form.html", context)
