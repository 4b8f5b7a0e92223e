"""Reports API (mounted at /api/v1/): report cells and state, workflow actions, dashboards, DHIS2/ADX exports.

Thin: every read goes through ``selectors`` (scoped), every write through ``services``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import Http404, HttpResponse
from ninja import Router, Schema
from pydantic import Field

from mchis.accounts.permissions import require
from mchis.core.http import ApiRequest
from mchis.core.principal import Principal

from . import exports, formfile, selectors, services
from .models import ReportInstance
from .periods import parse_period
from .selectors.duplicates import ROW_ID as DUP_ROW_ID

router = Router(tags=["reports"])


class CellOut(Schema):
    row: str = Field(
        examples=["I.5.1a"],
        description="Hàng của biểu; biểu 4–8 BCH/BCT còn có một hàng cho mỗi đơn vị (mã đơn vị), "
        "hàng tổng giữ mã cũ (T)",
    )
    column: str = Field(examples=["tyt"])
    value: float | None = Field(
        examples=[3],
        description="null = đơn vị tuyến dưới chưa có báo cáo được duyệt (source missing) hoặc ô nhập tay "
        "chưa được nhập (source manual); không bao giờ là một số 0 tự thêm",
    )
    source: Literal["computed", "manual", "formula", "reported", "missing", "duplicate"] = Field(
        examples=["computed"],
        description="reported = từ báo cáo đã duyệt của đơn vị tuyến dưới; missing = chưa có báo cáo được duyệt; "
        "duplicate = hàng DUP: sự kiện được hai cơ sở cùng ghi, trừ một lần khỏi tổng (số âm)",
    )


class UnitRowOut(Schema):
    row: str = Field(examples=["TYT02269"], description="Mã hàng trong cells (= mã đơn vị)")
    unit: str = Field(examples=["TYT02269"])
    name: str = Field(examples=["Trạm Y tế phường Minh Xuân"])
    status: str = Field(examples=["approved"], description="Trạng thái báo cáo của đơn vị ('' = chưa lập)")
    own: bool = Field(description="true = số liệu của chính đơn vị lập biểu (cơ sở trực thuộc)")
    missing: bool = Field(description="true = chưa có báo cáo được duyệt: các ô là null")


class MissingOut(Schema):
    unit: str = Field(examples=["TYT02296"])
    form: str = Field(examples=["BCX3"])
    status: str = Field(
        examples=["submitted"], description="Trạng thái báo cáo của đơn vị dưới ('' = chưa lập)"
    )


class TransitionOut(Schema):
    action: str = Field(examples=["return"])
    from_status: str
    to_status: str
    actor: str = Field(examples=["leader_ttyt08-01_3"])
    unit: str = Field(examples=["TTYT08-01"])
    at: datetime
    reason: str = Field(examples=["Thiếu số liệu sổ đẻ"])


class DuplicateOut(Schema):
    register: str = Field(examples=["delivery"])
    unit: str = Field(examples=["TYT02269"], description="Đơn vị ghi sự kiện của người dân ở CSYT khác")
    source_record_id: str = Field(examples=["A1-D2"])
    other_unit: str = Field(examples=["BVH08-01"], description="Cơ sở đã thực hiện và cũng ghi sự kiện")
    other_source_record_id: str = Field(examples=["H-D1"])
    by: Literal["personal_id", "name_dob", "residence"] = Field(
        description="Khớp theo số định danh, hoặc họ tên + ngày sinh; residence: sự kiện cơ sở khác ghi cho "
        "người dân của xã (CSYT khác tự suy ra), đã tính ở hàng của trạm"
    )


class ResidentOut(Schema):
    register: str = Field(examples=["delivery"])
    unit: str = Field(examples=["TYT02269"], description="Trạm y tế của xã nơi người dân cư trú")
    other_unit: str = Field(examples=["BVH08-01"], description="Cơ sở đã thực hiện và ghi sự kiện")
    other_source_record_id: str = Field(examples=["H-D1"])
    event_date: str = Field(examples=["16/01/2026"])


class ReportOut(Schema):
    form: str = Field(examples=["BCX3"])
    version: str = Field(examples=["TT37-2019"])
    legal_basis: str = Field(examples=["Thông tư 37/2019/TT-BYT"])
    unit: str = Field(examples=["TYT02269"])
    period: str = Field(examples=["2026-01"])
    state: str = Field(
        examples=["draft"], description="draft | submitted | returned | approved | unapproval_requested"
    )
    live: bool = Field(description="true = số liệu tính trực tiếp từ sổ; false = số liệu đã chốt khi gửi")
    checksum: str = Field(examples=[""], description="sha256 của số liệu đã chốt")
    due: datetime
    late: bool
    approver: str | None = Field(examples=["TTYT08-01"])
    actions: list[str] = Field(examples=[["submit"]], description="Thao tác người gọi được phép làm")
    cells: list[CellOut]
    unit_rows: list[UnitRowOut] = Field(
        default_factory=list,
        description="Biểu 4–8 BCH/BCT: các hàng theo đơn vị, theo thứ tự in (trước hàng tổng)",
    )
    missing: list[MissingOut]
    timeline: list[TransitionOut]
    basis: str = Field(
        default="", description="Cơ sở tính của tổng số (theo nơi cư trú / mỗi sự kiện một lần)"
    )
    duplicates: list[DuplicateOut] = Field(
        default_factory=list, description="Biểu 4–8: sự kiện hai cơ sở cùng ghi, đã trừ một lần khỏi tổng"
    )
    residents: list[ResidentOut] = Field(
        default_factory=list,
        description="Biểu xã: sự kiện của người dân trong xã do cơ sở khác ghi, đã tính vào cột 'CSYT khác' "
        "(theo mã xã nơi cư trú); biểu huyện/tỉnh: những sự kiện đó chưa được trừ ở tổng này",
    )


class ActionIn(Schema):
    reason: str = Field(
        default="",
        examples=["Thiếu số liệu sổ đẻ tháng 01"],
        description="Bắt buộc khi trả lại, đề nghị hủy duyệt, hủy duyệt",
    )
    warning_comment: str = Field(
        default="", examples=["Có 1 ca thai chết lưu"], description="Giải thích cảnh báo khi gửi"
    )


class ActionOut(Schema):
    form: str
    unit: str
    period: str
    state: str
    checksum: str


class ManualIn(Schema):
    values: dict[str, int | float | str | None] = Field(
        examples=[{"I.1:total": 120, "I.1.1:total": 4}],
        description='Ô nhập tay → số nguyên không âm; null hoặc "" xóa giá trị (ô trở về trống, không phải 0). '
        "Một giá trị sai (âm, thập phân, chữ) → 422 nêu tên hàng và cột, không ô nào được lưu.",
    )


def _principal(request: ApiRequest) -> Principal:
    return request.auth


def _unit_cells(view: selectors.ReportView, rows: list[selectors.UnitRow]) -> list[CellOut]:
    sources = {c.column: c.source for c in view.spec.cells}
    out = []
    for row in rows:
        for col in view.spec.columns:
            if row.values is None:
                out.append(CellOut(row=row.id, column=col.id, value=None, source="missing"))
            else:
                source = sources.get(col.id, "computed") if row.own else "reported"
                if row.id == DUP_ROW_ID:
                    source = "duplicate"
                out.append(CellOut(row=row.id, column=col.id, value=row.values.get(col.id), source=source))  # type: ignore[arg-type]
    return out


def report_out(principal: Principal, view: selectors.ReportView) -> ReportOut:
    rows = selectors.unit_rows(view)
    return ReportOut(
        form=view.form.code,
        version=view.form.version,
        legal_basis=view.form.legal_basis,
        unit=view.unit.code,
        period=view.period.code,
        state=view.status,
        live=view.live,
        checksum=view.report.snapshot_checksum,
        due=view.due,
        late=view.late,
        approver=view.approver.code if view.approver else None,
        actions=selectors.actions_for(principal, view),
        cells=[
            CellOut(row=c.row, column=c.column, value=view.values.get(c.key), source=c.source)  # type: ignore[arg-type]
            for c in view.spec.cells
        ]
        + _unit_cells(view, rows),
        unit_rows=[
            UnitRowOut(
                row=r.id, unit=r.unit.code, name=r.label, status=r.status, own=r.own, missing=r.missing
            )
            for r in rows
        ],
        missing=[MissingOut(unit=c.unit.code, form=c.form_code, status=c.status) for c in view.missing],
        basis=view.basis,
        duplicates=[
            DuplicateOut(
                register=p.register,
                unit=p.unit_code,
                source_record_id=p.source_record_id,
                other_unit=p.other_unit_code,
                other_source_record_id=p.other_source_record_id,
                by=p.by,  # type: ignore[arg-type]
            )
            for p in view.duplicates.pairs
        ],
        residents=[
            ResidentOut(
                register=r.register,
                unit=r.station,
                other_unit=r.facility,
                other_source_record_id=r.source_record_id,
                event_date=r.event_date,
            )
            for r in view.residents
        ],
        timeline=[
            TransitionOut(
                action=t.action,
                from_status=t.from_status,
                to_status=t.to_status,
                actor=t.actor.username if t.actor else "",
                unit=t.actor_unit.code if t.actor_unit else "",
                at=t.at,
                reason=t.reason,
            )
            for t in selectors.timeline(view.report)
        ],
    )


@router.get(
    "/reports/{form}/{unit}/{period}",
    response=ReportOut,
    summary="Một báo cáo: mọi ô, nguồn số liệu, trạng thái",
)
def report_get(request: ApiRequest, form: str, unit: str, period: str) -> ReportOut:
    principal = _principal(request)
    require(principal, "report.view")
    return report_out(principal, selectors.report_view(principal, form, unit, period))


ACTIONS: dict[str, Any] = {
    "submit": services.report_submit,
    "recall": services.report_recall,
    "approve": services.report_approve,
    "return": services.report_return,
    "request-unapproval": services.report_request_unapproval,
    "unapprove": services.report_unapprove,
}


@router.post(
    "/reports/{form}/{unit}/{period}/{action}",
    response=ActionOut,
    summary="Thao tác: submit | recall | approve | return | request-unapproval | unapprove",
    description="A person's act (R-SEC-02): a machine client (token) gets **403 `person_required`** whatever "
    "its scopes. A wrong role or unit is 403 before the report's state is looked at; a state that does not "
    "allow the action is 409 `invalid_state`; a missing reason or a failing rule is 400/422.",
)
def report_act(
    request: ApiRequest, form: str, unit: str, period: str, action: str, payload: ActionIn | None = None
) -> ActionOut:
    principal = _principal(request)
    service = ACTIONS.get(action)
    if service is None:
        raise Http404("Thao tác không tồn tại.")
    body = payload or ActionIn()
    kwargs: dict[str, Any] = {"actor": principal, "form_code": form, "unit_code": unit, "period": period}
    if action == "submit":
        kwargs["warning_comment"] = body.warning_comment
    else:
        kwargs["reason"] = body.reason
    report: ReportInstance = service(**kwargs)
    return ActionOut(
        form=form, unit=unit, period=period, state=report.status, checksum=report.snapshot_checksum
    )


@router.put(
    "/reports/{form}/{unit}/{period}",
    response=ActionOut,
    summary='Nhập các ô nhập tay (values: {"hàng:cột": số})',
)
def report_manual(request: ApiRequest, form: str, unit: str, period: str, payload: ManualIn) -> ActionOut:
    principal = _principal(request)
    report = services.report_set_manual_values(
        actor=principal, form_code=form, unit_code=unit, period=period, values=payload.values
    )
    return ActionOut(
        form=form, unit=unit, period=period, state=report.status, checksum=report.snapshot_checksum
    )


@router.get(
    "/reports/form-schema",
    summary="JSON Schema của tệp định nghĩa biểu mẫu (mchis.report-form/1)",
    description="Draft 2020-12, giống hệt tệp `mchis/reports/forms/form.schema.json` (sinh bằng "
    "`manage.py report_form_schema`). Mô tả tệp như người soạn viết: khóa, kiểu, giá trị cho phép; các kiểm tra "
    "giữa các phần (mã trùng, cột/hàng/ô được nhắc tới, trường của sổ) do `load_report_forms` làm. Mọi người "
    "dùng đã đăng nhập và mọi mã truy cập đều đọc được, như tài liệu API: schema chỉ tả định dạng, không có "
    "số liệu nào.",
    response={200: dict[str, Any]},
)
def form_schema(request: ApiRequest) -> HttpResponse:
    return HttpResponse(formfile.schema_text(), content_type="application/json; charset=utf-8")


@router.get("/reports/dashboard", summary="Tính đầy đủ và kịp thời theo biểu (cho biểu đồ)")
def dashboard(request: ApiRequest, period: str, unit: str = "") -> dict[str, Any]:
    principal = _principal(request)
    require(principal, "report.view")
    root = selectors.resolve_unit(principal, unit) if unit else principal.unit
    if root is None:
        raise Http404("Không tìm thấy.")
    return selectors.completeness(principal, root, _period(period))


def _period(text: str) -> Any:
    try:
        return parse_period(text)
    except ValueError as exc:
        raise Http404(str(exc)) from exc


@router.get("/exports/dhis2/dataValueSets", summary="Số liệu đã duyệt dạng DHIS2 dataValueSets (JSON)")
def export_dvs(request: ApiRequest, period: str, unit: str) -> dict[str, Any]:
    principal = _principal(request)
    require(principal, "report.export")
    root = selectors.resolve_unit(principal, unit)
    return exports.data_value_sets(selectors.approved_reports(principal, _period(period), root))


@router.get("/exports/adx", summary="Số liệu đã duyệt dạng ADX XML (urn:ihe:qrph:adx:2015)")
def export_adx(request: ApiRequest, period: str, unit: str) -> HttpResponse:
    principal = _principal(request)
    require(principal, "report.export")
    root = selectors.resolve_unit(principal, unit)
    reports = selectors.approved_reports(principal, _period(period), root)
    if not reports:
        raise Http404("Chưa có báo cáo đã duyệt cho kỳ và đơn vị này.")
    return HttpResponse(exports.adx_document(reports), content_type="application/adx+xml")
