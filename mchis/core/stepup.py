"""Step-up check (R-SEC-04): was there a second-factor verification in the last N minutes?

Lives in core so that core's own critical views (the audit-log export) and every domain service can ask it
without importing accounts; the accounts middleware puts the session's last OTP verification time into the
request context, and the accounts app owns the step-up page (URL name `accounts:step_up`).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone

from .context import current_meta
from .errors import StepUpRequired


def has_recent_step_up() -> bool:
    at = current_meta().step_up_at
    if at is None:
        return False
    return timezone.now() - at <= timedelta(seconds=settings.STEP_UP_WINDOW_SECONDS)


def require_step_up() -> None:
    if not has_recent_step_up():
        raise StepUpRequired(
            "Thao tác quan trọng: vui lòng xác thực lại bằng mã hai lớp (OTP) trước khi tiếp tục."
        )


def step_up_url(next_url: str) -> str:
    return f"{reverse('accounts:step_up')}?{urlencode({'next': next_url})}"


# The form a person sent when the step-up prompt interrupted it (issue 13 item 6): kept in their own session
# (never in a URL), at most this long, without the CSRF token and without files (those are chosen again).
PENDING_KEY = "step_up_pending_post"
PENDING_MAX_AGE_SECONDS = 600


def remember_pending_post(request: HttpRequest) -> None:
    """Keep what was typed in the interrupted POST so the step-up page can send it again afterwards."""
    session = getattr(request, "session", None)
    if request.method != "POST" or session is None:
        return
    fields = [
        (name, value)
        for name, values in request.POST.lists()
        if name != "csrfmiddlewaretoken"
        for value in values
    ]
    session[PENDING_KEY] = {
        "path": request.get_full_path(),
        "fields": fields,
        "had_files": bool(request.FILES),
        "at": timezone.now().timestamp(),
    }


def take_pending_post(request: HttpRequest, next_url: str) -> dict[str, Any] | None:
    """The interrupted POST to `next_url`, if still fresh (removed from the session either way)."""
    pending: dict[str, Any] | None = request.session.pop(PENDING_KEY, None)
    if not pending or pending.get("path") != next_url:
        return None
    if timezone.now().timestamp() - float(pending.get("at", 0)) > PENDING_MAX_AGE_SECONDS:
        return None
    return pending


def step_up_redirect(request: HttpRequest, next_url: str | None = None) -> HttpResponse:
    """Send the person to the step-up page and back to `next_url` (default: this page), keeping a POST's data."""
    remember_pending_post(request)
    return page_redirect(request, step_up_url(next_url or request.get_full_path()))


def page_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that also works for htmx requests (which would otherwise swap the target page in)."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
