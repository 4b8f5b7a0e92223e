"""Notification pages (thin): the list (unread first), mark read, the e-mail preference."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mchis.core.http import AuthedRequest

from . import selectors, services


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    qs = selectors.notifications_for(request.user)
    if request.GET.get("all") != "1":
        qs = qs.filter(read_at__isnull=True)
    page = Paginator(qs, 30).get_page(request.GET.get("page"))
    return render(request, "notifications/list.html", {
        "page": page, "show_all": request.GET.get("all") == "1", "email": selectors.email_wanted(request.user),
    })  # fmt: skip


@login_required
@require_POST
def notification_read(request: AuthedRequest) -> HttpResponse:
    """Mark one (id) or all read; with `next`, go on to the thing the notification is about."""
    raw = request.POST.get("id", "")
    services.notification_mark_read(actor=request.user, ids=[int(raw)] if raw.isdigit() else None)
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect("notifications:list")


@login_required
@require_POST
def notification_preference(request: AuthedRequest) -> HttpResponse:
    services.notification_preference_set(actor=request.user, email=request.POST.get("email") == "on")
    messages.success(request, _("Đã lưu cách nhận thông báo."))
    return redirect("notifications:list")
