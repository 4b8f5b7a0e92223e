"""Public answers served from the Django cache, recomputed when the published store changes (``cache.stamp``).

Only the query parameters a view declares enter the key, each already checked against what is published, so a
visitor cannot fill the cache with variants; the language is part of the key. Browsers and shared caches may
keep a public page for a few minutes (nothing on it is personal).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from .. import cache as store

BROWSER_MAX_AGE = 300
View = Callable[..., HttpResponse]


def public_cached(*params: str) -> Callable[[View], View]:
    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            query = "&".join(f"{p}={request.GET.get(p, '')[:20]}" for p in params)
            key = store.key(translation.get_language() or "vi", request.path, query)
            hit = cache.get(key)
            if hit is not None:
                body, headers, status = hit
                response = HttpResponse(body, status=status)
                for name, value in headers.items():
                    response.headers[name] = value
                return _public(response)
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:  # a 404 is not kept: no cache filling
                headers = {
                    k: v for k, v in response.headers.items() if k in ("Content-Type", "Content-Disposition")
                }
                cache.set(key, (response.content, headers, response.status_code), store.TIMEOUT)
            return _public(response)

        return wrapper

    return decorate


def _public(response: HttpResponse) -> HttpResponse:
    if response.status_code == 200:
        response.headers["Cache-Control"] = f"public, max-age={BROWSER_MAX_AGE}"
    response.headers["Vary"] = "Cookie"
    return response
