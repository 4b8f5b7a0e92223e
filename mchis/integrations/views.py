"""Sync monitoring page (R-INT-03): thin, the figures come from `monitoring`."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from mchis.accounts.permissions import require
from mchis.notifications.models import NotificationKind
from mchis.notifications.selectors import recent_of_kind

from .monitoring import monitoring


@login_required
def exchange_monitor(request: HttpRequest) -> HttpResponse:
    principal: Any = request.user
    require(principal, "sync.view")
    try:
        days = max(1, min(90, int(request.GET.get("days", "3"))))
    except ValueError:
        days = 3
    return render(
        request,
        "integrations/monitor.html",
        monitoring(request.user, inbound_silent_days=days)
        | {"days": days, "sent_alerts": recent_of_kind(principal, NotificationKind.EXCHANGE)},
    )
