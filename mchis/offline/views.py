"""Offline entry pages (thin): the installable app's manifest and service worker (served by the product, root
scope), the "waiting to send" list (filled by the browser from its outbox) and the leader's conflict
resolution, side by side and field by field (ADR 0042)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from mchis.accounts.permissions import can, require
from mchis.core.errors import DomainError
from mchis.core.http import AuthedRequest
from mchis.registry import selectors as registry_selectors
from mchis.registry import services as registry_services
from mchis.registry.display import Labeller, field_labels

from . import selectors, services

# Static files the device keeps (precached at install): the layout's and the entry forms' scripts and styles.
PRECACHE = (
    "vendor/pico.min.css",
    "web/app.css",
    "vendor/htmx.min.js",
    "web/app.js",
    "vendor/flatpickr.min.js",
    "vendor/flatpickr-vn.js",
    "vendor/flatpickr-month.js",
    "vendor/flatpickr.min.css",
    "vendor/flatpickr-month.css",
    "vendor/tom-select.min.js",
    "vendor/tom-select.min.css",
    "web/widgets.js",
    "vendor/alpine.min.js",
    "vendor/idb.umd.js",
    "web/schema.js",
    "offline/outbox.js",
    "offline/duplicates.js",
    "offline/outbox-list.js",
    "offline/offline.css",
    "registry/registry.css",
    "registry/draft.js",
    "quality/quality.css",
    "registers/registers.css",
    "registers/registers.js",
    "accounts/idle.js",
    "web/favicon.svg",
    "offline/icon-192.png",
    "offline/icon-512.png",
)
WORKBOX = ("core", "routing", "strategies", "expiration", "precaching")


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """/sw.js: root scope, so it may answer for the entry pages (/children/…, /registers/…)."""
    body = render_to_string(
        "offline/sw.js",
        {
            "workbox": [static(f"vendor/workbox/workbox-{name}.prod.js") for name in WORKBOX],
            "core": static("offline/outbox-core.js"),
            "idb": static("vendor/idb.umd.js"),
            "precache": [static(path) for path in PRECACHE],
            "offline_page": "/offline/",
        },
    )
    response = HttpResponse(body, content_type="application/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"  # the browser checks for a new worker at every visit
    return response


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    body = render_to_string(
        "offline/manifest.webmanifest",
        {"icon192": static("offline/icon-192.png"), "icon512": static("offline/icon-512.png")},
    )
    response = HttpResponse(body, content_type="application/manifest+json; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


@login_required
def outbox(request: AuthedRequest) -> HttpResponse:
    """Hàng chờ gửi: the browser lists its queued entries here (nothing of it is on the server yet)."""
    return render(request, "offline/outbox.html", {"can_enter": can(request.user, "child.propose")})


@login_required
def conflict_list(request: AuthedRequest) -> HttpResponse:
    """Both kinds in one place: child proposals (the leader resolves) and register edits (a person who writes
    the unit's registers resolves; the leader sees them too)."""
    children, records = can(request.user, "child.approve"), can(request.user, "register.view")
    if not (children or records):
        require(request.user, "child.approve")
    return render(
        request,
        "offline/conflicts.html",
        {
            "show_children": children,
            "conflicts": selectors.conflicts(request.user) if children else [],
            "show_records": records,
            "record_conflicts": selectors.record_conflicts(request.user) if records else [],
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def record_conflict_resolve(request: AuthedRequest, public_id: Any) -> HttpResponse:
    require(request.user, "register.view")
    conflict = selectors.record_conflict_get(request.user, public_id)
    can_resolve = can(request.user, "register.write")
    error = ""
    if request.method == "POST":
        require(request.user, "register.write")
        view = selectors.record_conflict_view(conflict)
        choices = {name: request.POST.get(f"choice_{name}", "") for name in view["rows"]}
        try:
            services.record_conflict_resolve(
                actor=request.user,
                conflict=conflict,
                choices=choices,
                seen_hash=request.POST.get("seen_hash", ""),
                comment=request.POST.get("comment", ""),
            )
        except DomainError as exc:
            error = exc.message
            conflict.refresh_from_db()
        else:
            messages.success(request, _("Đã giải quyết xung đột; bản ghi sổ đã được cập nhật theo lựa chọn."))
            return redirect("offline:conflicts")
    view = selectors.record_conflict_view(conflict)
    rows = [
        {
            "field": name,
            **row,
            "choice": (request.POST.get(f"choice_{name}", "") if request.method == "POST" else "")
            or row.get("choice")
            or row.get("suggest", ""),
        }
        for name, row in view["rows"].items()
    ]
    return render(
        request,
        "offline/record_conflict_resolve.html",
        {
            "c": conflict,
            **view,
            "rows": rows,
            "error": error,
            "open": conflict.is_open and view["record"] is not None,
            "can_resolve": can_resolve,
        },
        status=422 if error else 200,
    )


def _when(value: Any) -> datetime | None:
    return parse_datetime(value) if isinstance(value, str) else None


@login_required
@require_http_methods(["GET", "POST"])
def conflict_resolve(request: AuthedRequest, public_id: Any) -> HttpResponse:
    require(request.user, "child.approve")
    req = registry_selectors.request_get(request.user, public_id)
    error = ""
    if request.method == "POST":
        choices = {name: request.POST.get(f"choice_{name}", "") for name in req.conflict}
        try:
            resolved = registry_services.change_request_resolve_conflict(
                actor=request.user, request=req, choices=choices, comment=request.POST.get("comment", "")
            )
        except DomainError as exc:
            error = exc.message
        else:
            if resolved.status == "rejected":
                messages.success(request, _("Đã giữ giá trị hiện tại; đề xuất được đóng lại."))
            else:
                messages.success(request, _("Đã giải quyết xung đột; đề xuất chờ duyệt."))
            return redirect("registry:request_detail", resolved.public_id)
    words = Labeller()
    labels = field_labels()
    current = registry_services.child_snapshot(req.child) if req.child is not None else {}
    rows = [
        {
            "field": name,
            "label": labels.get(name, name),
            "base": words.value(name, entry.get("base")),
            "theirs": words.value(name, current.get(name, entry.get("theirs"))),
            "ours": words.value(name, entry.get("ours")),
            "by": entry.get("by") or "—",
            "at": _when(entry.get("at")),
            "choice": request.POST.get(f"choice_{name}", "") if request.method == "POST" else "",
        }
        for name, entry in req.conflict.items()
    ]
    return render(
        request,
        "offline/conflict_resolve.html",
        {"req": req, "rows": rows, "error": error, "open": req.has_open_conflict},
        status=422 if error else 200,
    )
