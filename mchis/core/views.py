from __future__ import annotations

from io import BytesIO
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
from openpyxl import Workbook

from .audit import log_export
from .authz import require_allowed
from .forms import AuditSearchForm
from .scoping import scope_path_of
from .selectors import AuditFilters, audit_event_search

AUDIT_PAGE_SIZE = 50


@never_cache
@require_GET
def health(request: HttpRequest) -> JsonResponse:
    """Liveness + database check for monitoring (R-OPS-02). Public, reveals no data."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        db = "ok"
    except Exception:  # noqa: BLE001 - any database failure means "down"
        db = "error"
    status = 200 if db == "ok" else 503
    return JsonResponse(
        {"status": "ok" if db == "ok" else "error", "database": db, "vendor": connection.vendor},
        status=status,
    )


def _search(request: HttpRequest) -> tuple[AuditSearchForm, Any]:
    form = AuditSearchForm(request.GET or None)
    filters = form.filters() if form.is_bound and form.is_valid() else AuditFilters()
    if form.is_bound and not form.is_valid():
        return form, None
    return form, audit_event_search(principal=request.user, filters=filters)


@never_cache
@login_required
@require_GET
def audit_log(request: HttpRequest) -> HttpResponse:
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


EXPORT_COLUMNS = [
    ("id", "STT"),
    ("at", "Thời điểm"),
    ("actor_username", "Tài khoản"),
    ("actor_unit_code", "Đơn vị người thực hiện"),
    ("client_name", "Máy khách tích hợp"),
    ("action", "Hành động"),
    ("object_type", "Loại đối tượng"),
    ("object_id", "Mã đối tượng"),
    ("changes", "Thay đổi (trước → sau)"),
    ("reason", "Lý do"),
    ("evidence_ref", "Minh chứng"),
    ("ip", "Địa chỉ IP"),
    ("user_agent", "Trình duyệt"),
    ("entry_hash", "Mã băm"),
]


@never_cache
@login_required
@require_GET
def audit_log_export(request: HttpRequest) -> HttpResponse:
    """Xuất nhật ký ra Excel; bản thân việc xuất được ghi nhật ký (R-SEC-06)."""
    require_allowed(request.user, "audit_log.view")
    form, events = _search(request)
    if events is None:
        return render(request, "core/audit_log.html", {"form": form, "page": None, "query": ""}, status=400)
    limit = int(getattr(settings, "AUDIT_EXPORT_MAX_ROWS", 100_000))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Nhật ký")
    sheet.append([label for _, label in EXPORT_COLUMNS])
    rows = 0
    for values in events.values_list(*[name for name, _ in EXPORT_COLUMNS])[:limit].iterator():
        row = list(values)
        row[1] = timezone.localtime(row[1]).replace(tzinfo=None)
        row[8] = str(row[8]) if row[8] else ""
        sheet.append(row)
        rows += 1
    log_export(
        actor=request.user,
        what="audit_log.xlsx",
        filters=form.filters().as_dict() if form.is_bound else {},
        row_count=rows,
        scope_path=scope_path_of(request.user) or "",
    )
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="nhat-ky-{stamp}.xlsx"'
    return response
