"""The publishing page (signed in): choose statistics, levels and months, publish, revise, withdraw."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from mchis.accounts.permissions import can, require
from mchis.core.errors import DomainError, PermissionDeniedError
from mchis.core.http import AuthedRequest

from . import selectors, services
from .disclosure import LEVELS
from .models import Level, Publication
from .statistics import available


def _months(start: str, end: str) -> list[str]:
    """'2026-01'..'2026-06' → every month between (a bad or reversed range gives a clear error)."""
    try:
        y0, m0 = (int(x) for x in start.split("-"))
        y1, m1 = (int(x) for x in end.split("-"))
    except ValueError:
        raise DomainError("Chọn tháng bắt đầu và tháng kết thúc (MM/YYYY).", field="periods") from None
    first, last = y0 * 12 + m0 - 1, y1 * 12 + m1 - 1
    if last < first:
        raise DomainError("Tháng kết thúc phải sau tháng bắt đầu.", field="periods")
    if last - first >= services.MAX_MONTHS:
        raise DomainError(f"Mỗi lần công bố tối đa {services.MAX_MONTHS} tháng.", field="periods")
    return [f"{m // 12:04d}-{m % 12 + 1:02d}" for m in range(first, last + 1)]


@login_required
def index(request: AuthedRequest) -> HttpResponse:
    require(request.user, "portal.view")
    try:
        territory = services.territory_of(request.user)
        levels = [(lvl, Level(lvl).label) for lvl in territory.levels]
    except DomainError:
        territory, levels = None, []
    last = timezone.localdate().replace(day=1)
    default_end = f"{(last.year * 12 + last.month - 2) // 12:04d}-{(last.month - 2) % 12 + 1:02d}"
    return render(
        request,
        "portal/manage.html",
        {
            "publications": selectors.publications(request.user),
            "catalogue": available(),
            "levels": levels,
            "may_publish": territory is not None and can(request.user, "portal.publish"),
            "default_end": default_end,
            "all_levels": LEVELS,
        },
    )


def _act(request: AuthedRequest, act: Callable[[], Publication], done: str) -> HttpResponse:
    """Run one publishing act; a refusal of the act itself (bad input, wrong state) is a message on the page,
    a refusal of the person (403) stays a 403."""
    try:
        publication = act()
    except PermissionDeniedError:
        raise
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, done.format(title=publication.title, version=publication.version))
    return redirect("portal:index")


@login_required
@require_POST
def publish(request: AuthedRequest) -> HttpResponse:
    return _act(
        request,
        lambda: services.publication_publish(
            actor=request.user,
            title=request.POST.get("title", ""),
            statistics=request.POST.getlist("statistics"),
            levels=request.POST.getlist("levels"),
            periods=_months(request.POST.get("start", ""), request.POST.get("end", "")),
        ),
        "Đã công bố «{title}».",
    )


@login_required
@require_POST
def revise(request: AuthedRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        lambda: services.publication_revise(actor=request.user, publication_id=pk),
        "Đã cập nhật «{title}» (phiên bản {version}).",
    )


@login_required
@require_POST
def unpublish(request: AuthedRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        lambda: services.publication_unpublish(
            actor=request.user, publication_id=pk, reason=request.POST.get("reason", "")
        ),
        "Đã ngừng công bố «{title}».",
    )
