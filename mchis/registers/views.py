"""Web pages of the registers: list/search, keyboard-first entry form, Excel upload, sync monitoring. Thin:
validation and writes live in validation.py / services.py, reads in selectors.py."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from mchis.accounts.permissions import can
from mchis.core.dates import dmy, parse_month
from mchis.core.errors import DomainError
from mchis.core.http import AuthedRequest
from mchis.core.scoping import visible_to
from mchis.units.models import ReportingUnit
from mchis.units.selectors import unit_get_visible

from . import excel, selectors, services
from .catalogs import catalog_items
from .definitions import NEWBORN_FIELDS, REGISTERS, FieldSpec, RegisterDef, get_register
from .models import UploadStatus
from .webform import NEWBORN_FORM_SLOTS
from .webform import form_data as _form_data


def _require(user: Any, action: str) -> None:
    if not can(user, action):
        raise PermissionDenied(_("Bạn không có quyền thực hiện thao tác này."))


def _reg_or_404(key: str) -> RegisterDef:
    if key not in REGISTERS:
        raise Http404("Không có sổ này.")
    return REGISTERS[key]


def _facilities(user: Any) -> Any:

    return visible_to(ReportingUnit.objects.active(), user).order_by("path")


def _month_param(value: str | None) -> date | None:
    """The month asked for ('03/2026', 'tháng 3/2026' or '2026-03'); None when absent or unreadable."""
    try:
        return parse_month(value)
    except ValueError:
        return None


@login_required
def index(request: AuthedRequest) -> HttpResponse:
    _require(request.user, "register.view")
    return render(
        request,
        "registers/index.html",
        {
            "registers": REGISTERS.values(),
            "can_write": can(request.user, "register.write"),
            "can_sync": can(request.user, "sync.view"),
        },
    )


@login_required
def record_list(request: AuthedRequest, register: str) -> HttpResponse:
    _require(request.user, "register.view")
    reg = _reg_or_404(register)
    month = _month_param(request.GET.get("month"))
    unit = None
    if request.GET.get("unit"):
        unit = unit_get_visible(request.user, request.GET["unit"])
    if month is None:  # open on the latest month that has data (else the current month)
        month = selectors.latest_month(principal=request.user, register=reg.key, unit=unit) or (
            timezone.localdate().replace(day=1)
        )
    q = (request.GET.get("q") or "").strip()[:100]
    qs = selectors.records_list(principal=request.user, register=reg.key, unit=unit, month=month, q=q)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    context = {
        "reg": reg,
        "page": page,
        "month": month,
        "unit": unit,
        "q": q,
        "facilities": _facilities(request.user),
        "can_write": can(request.user, "register.write"),
        "locked": unit is not None and selectors.is_period_locked(unit, month),
    }
    template = "registers/_rows.html" if request.headers.get("HX-Request") else "registers/list.html"
    return render(request, template, context)


def _field_rows(reg: RegisterDef, values: dict[str, Any], errors: dict[str, str]) -> list[dict[str, Any]]:
    rows = []
    for spec in reg.all_fields:
        if spec.name in {"source_system", "source_record_id"}:
            continue
        if reg.woman and spec.name == "sex":
            continue
        rows.append(_field_row(spec, spec.name, values.get(spec.name), errors.get(spec.name)))
    return rows


def _field_row(spec: FieldSpec, name: str, value: Any, error: str | None) -> dict[str, Any]:
    options: list[tuple[str, str]] = []
    if spec.kind == "choice" and spec.choices is not None:
        options = [(str(v), str(label)) for v, label in spec.choices.choices]
    elif spec.kind == "catalog" and spec.catalog != "icd10":
        options = [("", "—")] + [(code, str(label)) for code, label in catalog_items(spec.catalog)]
    if isinstance(value, date):
        value = value.strftime("%d/%m/%Y")
    return {
        "name": name,
        "label": _(spec.label),
        "kind": spec.kind,
        "required": spec.required,
        "value": "" if value is None else value,
        "error": error,
        "options": options,
        "min": spec.min,
        "max": spec.max,
        "help": spec.help,
    }


def _instance_values(reg: RegisterDef, obj: Any) -> dict[str, Any]:
    values: dict[str, Any] = {"facility": obj.facility.code}
    for spec in reg.all_fields:
        if spec.name != "facility":
            values[spec.name] = getattr(obj, spec.name, None)
    if reg.newborns:
        values["newborns"] = [
            {spec.name: getattr(nb, spec.name) for spec in NEWBORN_FIELDS} for nb in obj.newborns.all()
        ]
    return values


@login_required
@require_http_methods(["GET", "POST"])
def record_form(request: AuthedRequest, register: str, pk: int | None = None) -> HttpResponse:
    _require(request.user, "register.write")
    reg = _reg_or_404(register)
    instance = selectors.record_get(principal=request.user, register=reg.key, pk=pk) if pk else None
    errors: dict[str, str] = {}
    if request.method == "POST":
        data = _form_data(reg, request.POST)
        if instance is None and not data.get("facility"):
            data["facility"] = request.user.unit.code if request.user.unit else ""
        try:
            obj, error_list = services.record_save(
                actor=request.user, register=reg.key, data=data, instance=instance
            )
        except DomainError as exc:
            obj, error_list = None, [{"field": exc.field or "", "reason": exc.message}]
        if obj is not None:
            messages.success(request, _("Đã lưu: %(name)s.") % {"name": obj.full_name})
            if "save_next" in request.POST:
                url = reverse("registers:record_new", args=[reg.key])
                return redirect(f"{url}?facility={obj.facility.code}&event_date={obj.event_date.isoformat()}")
            return redirect(f"{reverse('registers:record_list', args=[reg.key])}?month={obj.month:%Y-%m}")
        for err in error_list:
            errors.setdefault(err["field"], err["reason"])
        values = data
    elif instance is not None:
        values = _instance_values(reg, instance)
    else:
        values = {
            "facility": request.GET.get("facility") or (request.user.unit.code if request.user.unit else ""),
            "event_date": dmy(request.GET.get("event_date") or timezone.localdate()),
            "place": "at_facility",
        }
    newborn_blocks = []
    if reg.newborns:
        given = values.get("newborns") or []
        for slot in range(max(NEWBORN_FORM_SLOTS, len(given))):
            nb_values = given[slot] if slot < len(given) else {}
            newborn_blocks.append(
                [
                    _field_row(
                        spec,
                        f"nb{slot}_{spec.name}",
                        nb_values.get(spec.name),
                        errors.get(f"newborns[{slot}].{spec.name}"),
                    )  # fmt: skip
                    for spec in NEWBORN_FIELDS
                ]
            )
    general = [msg for name, msg in errors.items() if name in ("", "newborns")]
    return render(
        request,
        "registers/form.html",
        {
            "reg": reg,
            "instance": instance,
            "fields": _field_rows(reg, values, errors),
            "newborn_blocks": newborn_blocks,
            "newborn_slots": len(newborn_blocks),
            "general_errors": general,
            "facilities": _facilities(request.user),
            "has_errors": bool(errors),
        },
        status=422 if errors else 200,
    )


@login_required
@require_POST
def record_void(request: AuthedRequest, register: str, pk: int) -> HttpResponse:
    """Hủy bản ghi (lý do bắt buộc) through services.record_void; errors come back as messages."""
    _require(request.user, "register.write")
    reg = _reg_or_404(register)
    try:
        record = services.record_void(
            actor=request.user, register=reg.key, record_id=pk, reason=request.POST.get("reason", "")
        )
    except DomainError as exc:
        if exc.status_code == 404:
            raise Http404 from exc
        messages.error(request, exc.message)
        return redirect("registers:record_edit", register=reg.key, pk=pk)
    messages.success(request, _("Đã hủy bản ghi: %(name)s.") % {"name": record.full_name})
    return redirect(f"{reverse('registers:record_list', args=[reg.key])}?month={record.month:%Y-%m}")


@login_required
def template_download(request: AuthedRequest, register: str) -> HttpResponse:
    _require(request.user, "register.view")
    reg = _reg_or_404(register)
    data = excel.build_template(reg, facility_code=(request.user.unit.code if request.user.unit else ""))
    response = HttpResponse(
        data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="mau-{reg.key}.xlsx"'
    return response


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: AuthedRequest, register: str) -> HttpResponse:
    _require(request.user, "register.write")
    reg = _reg_or_404(register)
    error = ""
    if request.method == "POST":
        file = request.FILES.get("file")
        if file is None:
            error = _("Chọn tệp Excel (.xlsx) để tải lên.")
        else:
            try:
                up = services.upload_preview(
                    actor=request.user, register=reg.key, unit=request.user.unit, filename=file.name or "upload.xlsx",
                    chunks=file.chunks(),
                )  # fmt: skip
                return redirect("registers:upload_detail", upload_id=up.pk)
            except DomainError as exc:
                error = exc.message
    return render(
        request, "registers/upload.html", {"reg": reg, "error": error}, status=422 if error else 200
    )


@login_required
def upload_detail(request: AuthedRequest, upload_id: str) -> HttpResponse:
    _require(request.user, "register.view")
    up = selectors.upload_get(principal=request.user, upload_id=upload_id)
    return render(
        request,
        "registers/upload_preview.html",
        {"up": up, "reg": get_register(up.register), "can_confirm": up.status == UploadStatus.PREVIEWED},
    )


@login_required
@require_POST
def upload_confirm(request: AuthedRequest, upload_id: str) -> HttpResponse:
    _require(request.user, "register.write")
    up = selectors.upload_get(principal=request.user, upload_id=upload_id)
    try:
        if "discard" in request.POST:
            services.upload_discard(actor=request.user, upload=up)
            messages.info(request, _("Đã hủy tệp tải lên."))
        else:
            done = services.upload_commit(actor=request.user, upload=up)
            messages.success(
                request,
                _("Đã ghi %(n)s bản ghi; %(r)s dòng lỗi.")
                % {
                    "n": done.summary["result"]["created"] + done.summary["result"]["updated"],
                    "r": done.summary["result"]["rejected"],
                },  # fmt: skip
            )
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("registers:upload_detail", upload_id=up.pk)


@login_required
def upload_errors(request: AuthedRequest, upload_id: str) -> FileResponse:
    _require(request.user, "register.view")
    up = selectors.upload_get(principal=request.user, upload_id=upload_id)
    if not up.error_file_path or not Path(up.error_file_path).exists():
        raise Http404("Không có tệp lỗi.")
    return FileResponse(
        Path(up.error_file_path).open("rb"), as_attachment=True, filename=f"loi-{up.register}-{up.pk}.xlsx"
    )


@login_required
def sync_monitor(request: AuthedRequest) -> HttpResponse:
    _require(request.user, "sync.view")
    try:
        days = max(1, min(90, int(request.GET.get("days", "3"))))
    except ValueError:
        days = 3
    rows = selectors.sync_status(principal=request.user, silent_days=days)
    return render(request, "registers/sync.html", {"rows": rows, "days": days})
