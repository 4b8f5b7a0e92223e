"""The configuration django-otp-webauthn's browser scripts read (a JSON script element: no inline code)."""

from __future__ import annotations

from typing import Any

from django import template
from django.middleware import csrf
from django.urls import reverse

register = template.Library()


@register.simple_tag(takes_context=True)
def webauthn_config(context: Any) -> dict[str, Any]:
    request = context["request"]
    return {
        "autocompleteLoginFieldSelector": None,
        # the page's own field (the partial's), never the first `next` on the page: the header's language form
        # has one too (the current URL), which sent the person back to the step-up prompt after a key check
        "nextFieldSelector": "#security-key-next",
        "csrfToken": csrf.get_token(request),
        "beginAuthenticationUrl": reverse("accounts:webauthn_auth_begin"),
        "completeAuthenticationUrl": reverse("accounts:webauthn_auth_complete"),
        "beginRegistrationUrl": reverse("accounts:webauthn_register_begin"),
        "completeRegistrationUrl": reverse("accounts:webauthn_register_complete"),
    }
