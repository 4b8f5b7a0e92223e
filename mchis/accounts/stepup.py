"""Step-up authentication (R-SEC-04): critical operations need a second-factor check in the last N minutes.

Services call `require_step_up()`; the session's last OTP verification time reaches them through the
request context (mchis.core.context), set by the accounts middleware.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse

from mchis.core.errors import StepUpRequired
from mchis.core.stepup import (
    has_recent_step_up,
    page_redirect,
    require_step_up,
    step_up_redirect,
    step_up_url,
    take_pending_post,
)

__all__ = [
    "handles_step_up",
    "has_recent_step_up",
    "page_redirect",
    "require_step_up",
    "step_up_redirect",
    "step_up_url",
    "take_pending_post",
]


def handles_step_up(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """View decorator: when the service raises StepUpRequired, send the person to the step-up page
    (`/accounts/step-up/?next=<this URL>`), keeping what a POST carried; after the check the same POST is sent
    again (what was typed is not lost and the action completes). The API needs nothing: StepUpRequired → 403
    `step_up_required`.

    For class-based views: `@method_decorator(handles_step_up, name="dispatch")`.
    """

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except StepUpRequired:
            return step_up_redirect(request)

    return wrapper
