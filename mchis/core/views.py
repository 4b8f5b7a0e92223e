from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .audit import log_export
from .authz import require_allowed
from .exports import audit_log_workbook
from .forms import AuditSearchForm
from .http import AuthedRequest
from .scoping import scope_path_of
from .selectors import AuditFilters, audit_event_search
from .stepup import require_step_up

AUDIT_PAGE_SIZE = 50


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness + database check for monitoring (R-OPS-02). Public, reveals no data, vendor nor version."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        db = "ok"
    except Exception:  # any database failure means "down"
        db = "error"
    status = 200 if db == "ok" else 503
    body = {"status": "ok" if db == "ok" else "error", "database": db}
    if getattr(request.user, "is_authenticated", False):  # the database vendor only for signed-in people
        body["vendor"] = connection.vendor
    return JsonResponse(body, status=status)


def _search(request: AuthedRequest) -> tuple[AuditSearchForm, Any]:
    """The bound search form and the matching entries of the reader's scope (None while the form is invalid)."""
    form = AuditSearchForm(request.GET or None)
    if not form.is_bound:
        return form, audit_event_search(principal=request.user, filters=AuditFilters())
    if not form.is_valid():
        return form, None
    return form, audit_event_search(principal=request.user, filters=form.filters())


@never_cache
@login_required
@require_GET
def audit_log(request: AuthedRequest) -> HttpResponse:
    """Nhật ký hệ thống của đơn vị mình và cấp dưới (R-SEC-05): quản trị và phúc tra tìm kiếm, xuất Excel."""
    require_allowed(request.user, "audit_log.view")
    form, events = _search(request)
    page = None
    if events is not None:
        page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    context = {"form": form, "page": page, "query": query.urlencode()}
    template = "core/_audit_results.html" if request.headers.get("HX-Request") else "core/audit_log.html"
    return render(request, template, context)


@never_cache
@login_required
@require_GET
def audit_log_export(request: AuthedRequest) -> HttpResponse:
    """Xuất nhật ký ra Excel; bản thân việc xuất được ghi nhật ký (R-SEC-06).

    The log holds personal data (names, IDs in change diffs): exporting it is critical (R-SEC-04 step-up)."""
    require_allowed(request.user, "audit_log.view")
    require_step_up()
    form, events = _search(request)
    if events is None:
        return render(request, "core/audit_log.html", {"form": form, "page": None, "query": ""}, status=400)
    content, rows = audit_log_workbook(events, limit=int(getattr(settings, "AUDIT_EXPORT_MAX_ROWS", 100_000)))
    log_export(
        actor=request.user,
        what="audit_log.xlsx",
        filters=form.filters().as_dict() if form.is_bound else {},
        row_count=rows,
        scope_path=scope_path_of(request.user) or "",
    )
    response = HttpResponse(
        content,
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="nhat-ky-{stamp}.xlsx"'
    return response
