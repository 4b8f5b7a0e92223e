"""Step-up for views (R-SEC-04): when a service raises StepUpRequired, send the person to the step-up page
and bring them back afterwards. The API needs nothing: StepUpRequired is a DomainError → 403 `step_up_required`.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from mchis.core.errors import StepUpRequired


def step_up_url(next_url: str) -> str:
    return f"{reverse('accounts:step_up')}?{urlencode({'next': next_url})}"


def handles_step_up(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator: a view whose service may raise StepUpRequired. After the check the person comes back
    to the same URL (a GET shows the form again) and submits once more."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except StepUpRequired:
            return redirect(step_up_url(request.get_full_path()))

    return wrapper
