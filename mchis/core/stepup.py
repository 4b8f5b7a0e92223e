"""Step-up check (R-SEC-04): was there a second-factor verification in the last N minutes?

Lives in core so that core's own critical views (the audit-log export) and every domain service can ask it
without importing accounts; the accounts middleware puts the session's last OTP verification time into the
request context, and the accounts app owns the step-up page (URL name `accounts:step_up`).
"""

from __future__ import annotations

from datetime import timedelta
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


def page_redirect(request: HttpRequest, url: str) -> HttpResponse:
    """A redirect that also works for htmx requests (which would otherwise swap the target page in)."""
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Redirect"] = url
        return response
    return redirect(url)
