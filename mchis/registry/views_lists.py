"""Review lists (R-CH-02 step 3), police round trip (step 4), population check (R-INT-04), corrections (R-CH-06)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from mchis.accounts.permissions import can, require
from mchis.accounts.stepup import require_step_up
from mchis.accounts.stepup_views import handles_step_up
from mchis.core.audit import log_export
from mchis.core.errors import DomainError
from mchis.core.http import AuthedRequest, content_disposition

from . import evidence as ev
from . import hooks, official_lists, police, previews, selectors, services, tabular, validation
from .forms import UploadForm
from .models import CorrectionStatus

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REVIEW_COLUMNS = [
    ("ma_ho_so", "Mã hồ sơ"),
    ("ho_ten", "Họ và tên"),
    ("ngay_sinh", "Ngày sinh"),
    ("gioi_tinh", "Giới tính"),
    ("dan_toc", "Dân tộc"),
    ("so_dinh_danh", "Số định danh"),
    ("cha_me_giam_ho", "Cha/mẹ/người giám hộ"),
    ("thon", "Thôn/tổ dân phố"),
    ("van_de", "Vấn đề"),
]


def _xlsx(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition(name)
    return response


def _kind(request: HttpRequest) -> str:
    kind = request.GET.get("kind", "no_id")
    return kind if kind in selectors.REVIEW_KINDS else "no_id"


def _village(request: HttpRequest) -> int | None:
    value = request.GET.get("village", "")
    return int(value) if value.isdigit() else None


@login_required
def review_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, "child.view")
    kind = _kind(request)
    all_rows = selectors.review_rows(request.user, kind)
    village = _village(request)
    rows = [r for r in all_rows if village is None or r.child.village_id == village]
    from .views import _villages

    return render(
        request,
        "registry/review.html",
        {
            "kind": kind,
            "kinds": selectors.REVIEW_KINDS,
            "rows": rows[:500],
            "total": len(rows),
            "by_village": selectors.review_counts_by_village(all_rows),
            "villages": _villages(request.user.unit),
            "village": village,
            "can_export": can(request.user, "child.export"),
        },
    )


def _review_data(request: AuthedRequest, fmt: str) -> tuple[str, list[dict[str, Any]]]:
    """One review list's rows for an export: permission, step-up, audited, scoped (R-SEC-06)."""
    require(request.user, "child.export")
    require_step_up()
    kind = _kind(request)
    village = _village(request)
    rows = selectors.review_rows(request.user, kind, village_id=village)
    log_export(
        actor=request.user,
        what=f"children.review_{kind}.{fmt}",
        filters={"kind": kind, "village": village},
        row_count=len(rows),
        scope_path=(request.user.unit.path if request.user.unit else ""),
        purpose="Danh sách rà soát (QĐ 3978 Điều 8)",
    )
    data = [
        {
            "ma_ho_so": str(r.child.public_id),
            "ho_ten": r.child.full_name,
            "ngay_sinh": r.child.date_of_birth,
            "gioi_tinh": r.child.get_sex_display() if r.child.sex else "",
            "dan_toc": r.child.ethnicity_code,
            "so_dinh_danh": r.child.personal_id,
            "cha_me_giam_ho": r.child.guardian_name or r.child.mother_name or r.child.father_name,
            "thon": str(r.child.village) if r.child.village_id else "",
            "van_de": "; ".join(r.problems),
        }
        for r in rows
    ]
    return kind, data


@login_required
@handles_step_up
def review_export(request: AuthedRequest) -> HttpResponse:
    """Excel of one review list: personal data export → permission, step-up, audited, scoped (R-SEC-06)."""
    kind, data = _review_data(request, "xlsx")
    return _xlsx(tabular.write_xlsx(REVIEW_COLUMNS, data, title="Rà soát"), f"ra-soat-{kind}.xlsx")


@login_required
@handles_step_up
def police_export(request: AuthedRequest) -> HttpResponse:
    require(request.user, "child.export")
    require_step_up()
    rows = police.export_audited(request.user)
    return _xlsx(tabular.write_xlsx(police.COLUMNS, rows, title="Xác minh"), "xac-minh-cong-an.xlsx")


def _pdf(content: bytes, name: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(name)
    return response


@login_required
@handles_step_up
def review_export_pdf(request: AuthedRequest) -> HttpResponse:
    """The review list as an official PDF, signed with the unit's key (issue 21)."""
    kind, data = _review_data(request, "pdf")
    title = f"Danh sách rà soát: {selectors.REVIEW_KINDS[kind]}"
    pdf = official_lists.official_list_issue(
        actor=request.user, name=f"review_{kind}", title=title, purpose="QĐ 3978 Điều 8",
        columns=REVIEW_COLUMNS, rows=data,
    )  # fmt: skip
    return _pdf(pdf, f"ra-soat-{kind}.pdf")


@login_required
@handles_step_up
def police_export_pdf(request: AuthedRequest) -> HttpResponse:
    """The list sent to the commune police as an official PDF, signed with the unit's key (issue 21)."""
    require(request.user, "child.export")
    require_step_up()
    rows = police.export_audited(request.user)
    pdf = official_lists.official_list_issue(
        actor=request.user, name="police", title="Danh sách đề nghị Công an xã xác minh số định danh",
        purpose="QĐ 3978 Điều 8", columns=police.COLUMNS, rows=rows,
    )  # fmt: skip
    return _pdf(pdf, "xac-minh-cong-an.pdf")


@login_required
def police_import(request: AuthedRequest) -> HttpResponse:
    """Upload → dry-run preview (nothing written) → confirm (change requests for the leader)."""
    require(request.user, "child.propose")
    form = UploadForm()
    outcomes = None
    sha = ""
    if request.method == "POST":
        dry_run = True
        try:
            if request.POST.get("confirm") and request.POST.get("sha"):
                sha = request.POST["sha"]
                content, name = (
                    previews.take("police", request.user, sha),
                    request.POST.get("name", "tep.xlsx"),
                )
                dry_run = False
            else:
                form = UploadForm(request.POST, request.FILES)
                if not form.is_valid():
                    raise DomainError(_("Chọn tệp Excel (.xlsx) hoặc CSV."), field="file")
                upload = form.cleaned_data["file"]
                content, name = upload.read(), upload.name or "tep.xlsx"
                if len(content) > ev.max_bytes():
                    raise DomainError(_("Tệp quá lớn."), field="file")
                # kept for this person and unit, so the confirmation imports exactly this file
                sha = previews.store("police", request.user, content)
            rows = tabular.read_rows(content, name, police.COLUMNS)
            outcomes = police.police_import(actor=request.user, rows=rows, file_sha=sha, dry_run=dry_run)
            if not dry_run:
                previews.discard("police", request.user, sha)
                messages.success(
                    request, _("Đã nhập kết quả xác minh; các đề xuất cập nhật đang chờ lãnh đạo duyệt.")
                )
        except DomainError as exc:
            if dry_run and sha:
                previews.discard("police", request.user, sha)  # a refused preview keeps no file
                sha = ""
            form.add_error("file" if exc.field == "file" else None, exc.message)
        name = str(getattr(request.FILES.get("file"), "name", "") or request.POST.get("name", ""))
    else:
        name = ""
    summary: dict[str, int] = {}
    for o in outcomes or []:
        summary[o.label] = summary.get(o.label, 0) + 1
    return render(
        request,
        "registry/police_import.html",
        {
            "form": form,
            "outcomes": outcomes,
            "summary": summary,
            "sha": sha,
            "name": name,
            "dry_run": bool(outcomes) and not request.POST.get("confirm"),
        },
    )


@login_required
def child_verify(request: AuthedRequest, public_id: Any) -> HttpResponse:
    """Ask the national population database (through the gateway) to check this child's identity."""
    if request.method != "POST":
        return redirect("registry:child_detail", public_id)
    child = selectors.child_get(request.user, public_id)
    try:
        hooks.identity_check_start(actor=request.user, child=child)
        messages.success(request, _("Đã gửi yêu cầu xác minh; kết quả sẽ hiển thị trên hồ sơ."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("registry:child_detail", public_id)


@login_required
def correction_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, "child.view")
    items = selectors.corrections_involving(request.user)
    if request.GET.get("overdue") == "1":
        items = items.overdue()
    elif request.GET.get("all") != "1":
        items = items.filter(status=CorrectionStatus.OPEN)
    return render(request, "registry/correction_list.html", {"items": items[:300], "now": timezone.now()})


@login_required
def correction_new(request: AuthedRequest, public_id: Any) -> HttpResponse:
    child = selectors.child_get(request.user, public_id)
    require(request.user, "child.request_correction")
    error = ""
    if request.method == "POST":
        try:
            created = services.correction_request_file(
                actor=request.user,
                child=child,
                description=request.POST.get("description", ""),
                field=request.POST.get("field", ""),
                evidence=[
                    ev.EvidenceFile(f.name or "tep", f.read()) for f in request.FILES.getlist("evidence")
                ],
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("Đã gửi yêu cầu chỉnh sửa; xã phải xử lý trong 1 ngày làm việc."))
            return redirect("registry:correction_detail", created.public_id)
    return render(
        request,
        "registry/correction_new.html",
        {"child": child, "error": error, "labels": validation.LABELS},
    )


@login_required
def correction_detail(request: AuthedRequest, public_id: Any) -> HttpResponse:
    correction = selectors.correction_get(request.user, public_id)
    error = ""
    if request.method == "POST":
        try:
            fixed_by = None
            ref = request.POST.get("fix_request", "").strip()
            if ref:
                fixed_by = selectors.request_get(request.user, ref)
            services.correction_request_respond(
                actor=request.user,
                correction=correction,
                response=request.POST.get("response", ""),
                fixed_by=fixed_by,
            )
        except (DomainError, Http404) as exc:
            error = getattr(exc, "message", _("Không tìm thấy đề xuất sửa."))
        else:
            messages.success(request, _("Đã trả lời yêu cầu chỉnh sửa."))
            return redirect("registry:correction_detail", correction.public_id)
    return render(
        request,
        "registry/correction_detail.html",
        {
            "c": correction,
            "error": error,
            "can_respond": correction.can_respond(request.user),
            "evidence": correction.evidence.all(),
            "label": validation.LABELS.get(correction.field, ""),
        },
    )


def file_sha(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


SURVEY_LABELS = {
    "create_request": "Trẻ mới — đề xuất thêm mới",
    "change_request": "Khớp — đề xuất thay đổi",
    "unchanged": "Khớp — không có thay đổi",
    "conflict": "Xung đột — cần lãnh đạo xem xét",
    "error": "Dòng có lỗi",
}


@login_required
def survey_import(request: AuthedRequest) -> HttpResponse:
    """Điều tra/sàng lọc/nguồn khác (R-CH-03): preview, then create/change requests; nothing written live."""
    from . import importing

    require(request.user, "child.propose")
    unit = request.user.unit
    form = UploadForm()
    results = None
    sha, name, source = "", "", request.POST.get("source", "").strip()
    dry_run = True
    if request.method == "POST":
        try:
            if not source:
                raise DomainError(_("Tên nguồn: bắt buộc nhập (vd. Điều tra dân số 2026)."), field="source")
            if request.POST.get("confirm") and request.POST.get("sha"):
                sha = request.POST["sha"]
                content = previews.take("survey", request.user, sha)
                name, dry_run = request.POST.get("name", "tep.xlsx"), False
            else:
                form = UploadForm(request.POST, request.FILES)
                if not form.is_valid():
                    raise DomainError(_("Chọn tệp Excel (.xlsx) hoặc CSV."), field="file")
                upload = form.cleaned_data["file"]
                content, name = upload.read(), str(upload.name or "tep.xlsx")
                if len(content) > ev.max_bytes():
                    raise DomainError(_("Tệp quá lớn."), field="file")
                sha = previews.store("survey", request.user, content)
            rows = tabular.read_rows(content, name, importing.COLUMNS)
            results = importing.survey_import(
                actor=request.user, unit=unit, rows=rows, source=source, file_sha=sha, dry_run=dry_run
            )
            if not dry_run:
                previews.discard("survey", request.user, sha)
                messages.success(request, _("Đã tạo các đề xuất; chờ lãnh đạo duyệt."))
        except DomainError as exc:
            if dry_run and sha:
                previews.discard("survey", request.user, sha)  # a refused preview keeps no file
                sha = ""
            form.add_error(None, exc.message)
    summary: dict[str, int] = {}
    for r in results or []:
        summary[SURVEY_LABELS[r.outcome]] = summary.get(SURVEY_LABELS[r.outcome], 0) + 1
    return render(
        request,
        "registry/survey_import.html",
        {
            "form": form,
            "results": results,
            "labels": SURVEY_LABELS,
            "summary": summary,
            "sha": sha,
            "name": name,
            "source": source,
            "dry_run": dry_run and results is not None,
        },
    )
