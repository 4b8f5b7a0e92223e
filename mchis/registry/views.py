"""Server-rendered pages of the child registry (thin: selectors for reads, services for writes)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from mchis.accounts.permissions import can, require
from mchis.accounts.stepup_views import handles_step_up
from mchis.core.audit import log_read
from mchis.core.errors import DomainError, ValidationFailed
from mchis.core.http import AuthedRequest
from mchis.core.principal import Principal
from mchis.core.scoping import access, in_subtree
from mchis.places.models import Village

from . import evidence as ev
from . import selectors, services, validation
from .display import Labeller, field_labels, verification_text
from .duplicates import display_rows
from .forms import ChildForm, DecisionForm, ReasonForm
from .models import Child, ChildStatus, Evidence, RequestKind, RequestStatus
from .search import parse_query


def _villages(unit: Any) -> list[tuple[int, str]]:

    if unit is None:
        return []
    return [(v.pk, str(v)) for v in Village.objects.filter(commune_id=unit.admin_unit_id, active=True)]


def _files(request: HttpRequest, name: str = "evidence") -> list[ev.EvidenceFile]:
    return [ev.EvidenceFile(f.name or "tep", f.read()) for f in request.FILES.getlist(name)]


def _not_duplicate_reason(request: HttpRequest) -> str:
    """The "đây là trẻ khác" confirmation of the form: the reason counts only with the box ticked."""
    if request.POST.get("not_duplicate") != "on":
        return ""
    return request.POST.get("not_duplicate_reason", "").strip()


def _duplicate_context(request: HttpRequest, exc: DomainError | None) -> dict[str, Any]:
    """What the entry form shows of possible duplicates after a refused send (R-DQ-02)."""
    ctx: dict[str, Any] = {
        "not_duplicate": request.POST.get("not_duplicate") == "on",
        "not_duplicate_reason": request.POST.get("not_duplicate_reason", ""),
    }
    if isinstance(exc, services.PossibleDuplicate):
        ctx["candidates"] = display_rows(exc.candidates)
        ctx["duplicate_error"] = (
            _('Đánh dấu "đây là trẻ khác" và ghi lý do để gửi.')
            if not ctx["not_duplicate"]
            else _("Ghi lý do vì sao đây là trẻ khác.")
        )
    return ctx


def _show_errors(form: ChildForm, exc: DomainError) -> list[dict[str, Any]]:
    """Put each error under its field (inline, Vietnamese); return warnings to show with the checkbox."""
    warnings: list[dict[str, Any]] = []
    if isinstance(exc, services.PossibleDuplicate):
        form.add_error(None, exc.message)  # on top; the records and the confirmation are in their own block
        return warnings
    if isinstance(exc, services.WarningsNotAcknowledged):
        warnings = exc.errors
        form.add_error("acknowledge_warnings", exc.message)
        return warnings
    if isinstance(exc, ValidationFailed):
        for error in exc.errors:
            field = str(error.get("field") or "")
            if error.get("level") == "warning":
                warnings.append(error)
                continue
            target = field if field in form.fields else None
            if field == "circumstances":
                target = "circ_0_group"
            form.add_error(target, str(error["message"]))
        return warnings
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    return warnings


class _SearchPage(Page[Any]):
    more = False  # more matches than the counted cap


def _search_page(
    principal: Principal, *, q: str, village_id: int | None, number: str, province: str = ""
) -> _SearchPage:
    """One page of the search and its capped count from one run of it (selectors.child_search_page): a
    province's common name matches tens of thousands of children, and counting them all took seconds at
    national size. Pages go as far as the cap; past it, the user is asked to narrow the search."""
    size, cap = selectors.PAGE_SIZE, selectors.SEARCH_COUNT_CAP
    wanted = min(int(number), max(1, -(-cap // size))) if number.isdigit() and int(number) > 0 else 1

    def run(number: int) -> selectors.SearchPage:
        offset = (number - 1) * size
        return selectors.child_search_page(
            principal, q=q, village_id=village_id, limit=size, offset=offset, cap=cap, province=province
        )

    found = run(wanted)
    paginator: Paginator[Any] = Paginator(range(found.count), size)  # the rows come from `found`
    if wanted > paginator.num_pages:  # past the end: the last page, as Paginator.get_page does
        wanted = paginator.num_pages
        found = run(wanted)
    page = _SearchPage(found.items, wanted, paginator)
    page.more = found.more
    return page


@login_required
def child_list(request: AuthedRequest) -> HttpResponse:
    require(request.user, "child.view")
    q = request.GET.get("q", "")
    village = request.GET.get("village") or None
    provinces = selectors.search_provinces(request.user)
    province = request.GET.get("province", "")
    province = province if province in {code for code, _name in provinces} else ""
    page = _search_page(
        request.user,
        q=q,
        village_id=int(village) if village and village.isdigit() else None,
        number=request.GET.get("page", ""),
        province=province,
    )
    return render(
        request,
        "registry/child_list.html",
        {
            "page": page,
            "more": page.more,
            "q": q,
            "village": village,
            "villages": _villages(request.user.unit),
            "provinces": provinces,
            "province": province,
            # a name alone, in every province at once, reads 34 provinces' indexes: offer to pick one (ADR 0081)
            "national_name_search": bool(provinces) and not province and parse_query(q).name_only,
            "can_propose": can(request.user, "child.propose"),
        },
    )


@login_required
def child_new(request: AuthedRequest) -> HttpResponse:
    require(request.user, "child.propose")
    unit = request.user.unit
    warnings: list[dict[str, Any]] = []
    duplicates: dict[str, Any] = {}
    if request.method == "POST":
        form = ChildForm(request.POST, request.FILES, villages=_villages(unit))
        form.is_valid()
        try:
            created = services.child_propose_create(
                actor=request.user,
                unit=unit,
                data=form.child_data(),
                reason=request.POST.get("reason", ""),
                event_date=_date_or_none(request.POST.get("event_date")),
                evidence=_files(request),
                client_key=request.POST.get("client_key") or None,
                acknowledge_warnings=request.POST.get("acknowledge_warnings") == "on",
                not_duplicate_reason=_not_duplicate_reason(request),
            )
        except DomainError as exc:
            warnings = _show_errors(form, exc)
            duplicates = _duplicate_context(request, exc)
        else:
            messages.success(request, _("Đã gửi đề xuất thêm trẻ; chờ lãnh đạo duyệt."))
            return redirect("registry:request_detail", created.public_id)
    else:
        form = ChildForm(villages=_villages(unit))
    return render(
        request,
        "registry/child_form.html",
        {
            "form": form,
            "warnings": warnings,
            "title": _("Thêm trẻ em"),
            "draft_key": "child-new",
            "offline_kind": "child_create",
            "fresh": request.method == "GET",
            "duplicate_check": True,
            **duplicates,
        },
    )


def _date_or_none(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(validation.parse_date(value, "event_date") or "")
    except (ValueError, validation.ParseError) as exc:
        raise DomainError(
            "Ngày xảy ra thay đổi: ngày không hợp lệ (dd/mm/yyyy).", field="event_date"
        ) from exc


@login_required
def child_detail(request: AuthedRequest, public_id: Any) -> HttpResponse:
    require(request.user, "child.view")
    child = selectors.child_read(request.user, public_id)
    if child.status == ChildStatus.MERGED and child.merged_into_id:
        messages.info(request, _("Hồ sơ này đã được gộp vào hồ sơ khác."))
    as_of_raw = request.GET.get("as_of", "")
    as_of: dict[str, Any] | None = None
    if as_of_raw:
        try:
            day = date.fromisoformat(validation.parse_date(as_of_raw, "as_of") or "")
            as_of = {"day": day, "data": selectors.child_as_of(child, day)}
        except (ValueError, validation.ParseError):
            messages.error(request, _("Ngày xem lịch sử không hợp lệ (dd/mm/yyyy)."))
    history = list(selectors.child_history(child))
    words = Labeller()
    snapshot = services.child_snapshot(child)
    if as_of and as_of["data"]:
        as_of["rows"] = words.record(as_of["data"])
    for v in history:  # what changed, in words ("Nữ", "Thôn Nà Pài", 05/03/2026), not codes
        v.diff_rows = [  # type: ignore[attr-defined]
            {
                "label": field_labels().get(name, name),
                "before": words.value(name, pair[0]),
                "after": words.value(name, pair[1]),
            }
            for name, pair in (v.diff or {}).items()
        ]
    open_requests = selectors.requests_visible(request.user).filter(child=child).open()
    return render(
        request,
        "registry/child_detail.html",
        {
            "child": child,
            "snapshot": snapshot,
            "record": words.record(snapshot),
            "verification_text": verification_text(child.id_verification_result),
            "history": history,
            "as_of": as_of,
            "open_requests": open_requests,
            "can_propose": can(request.user, "child.propose") and child.status == ChildStatus.ACTIVE,
            "can_verify": can(request.user, "child.verify") and bool(child.personal_id),
            "can_correct": _can_file_correction(request.user, child),
            "corrections": child.corrections.all(),
            "verifications": child.verifications.all()[:5],
        },
    )


def _can_file_correction(user: Principal, child: Child) -> bool:
    unit = user.unit
    return bool(
        can(user, "child.request_correction")
        and unit is not None
        and child.unit_id != unit.pk
        and in_subtree(child.unit.path, unit.path)
    )


@login_required
def child_change(request: AuthedRequest, public_id: Any) -> HttpResponse:
    """Đề xuất thay đổi: the form starts from the live record; only changed fields go into the request."""
    require(request.user, "child.propose")
    child = selectors.child_get(request.user, public_id)
    snapshot = services.child_snapshot(child)
    warnings: list[dict[str, Any]] = []
    if request.method == "POST":
        form = ChildForm(request.POST, request.FILES, villages=_villages(child.unit))
        form.is_valid()
        try:
            changes = _changed_fields(snapshot, form.child_data())
            if request.POST.get("preview"):
                normalised, _issues = validation.normalise(changes, only_present=True)
                preview = [
                    {"label": validation.LABELS[k], "before": b, "after": a}
                    for k, (b, a) in validation.diff(snapshot, normalised).items()
                ]
                return render(
                    request,
                    "registry/child_form.html",
                    {
                        "form": form,
                        "warnings": [],
                        "child": child,
                        "title": _("Đề xuất thay đổi"),
                        "draft_key": f"child-change-{child.public_id}",
                        "offline_kind": "child_change",
                        "fresh": False,
                        "preview": preview,
                        "can_preview": True,
                    },
                )
            created = services.child_propose_change(
                actor=request.user,
                child=child,
                changes=changes,
                reason=request.POST.get("reason", ""),
                event_date=_date_or_none(request.POST.get("event_date")),
                evidence=_files(request),
                client_key=request.POST.get("client_key") or None,
                acknowledge_warnings=request.POST.get("acknowledge_warnings") == "on",
            )
        except DomainError as exc:
            warnings = _show_errors(form, exc)
        else:
            messages.success(request, _("Đã gửi đề xuất thay đổi; chờ lãnh đạo duyệt."))
            return redirect("registry:request_detail", created.public_id)
    else:
        form = ChildForm(initial=ChildForm.initial_from(snapshot), villages=_villages(child.unit))
    return render(
        request,
        "registry/child_form.html",
        {
            "form": form,
            "warnings": warnings,
            "child": child,
            "title": _("Đề xuất thay đổi"),
            "draft_key": f"child-change-{child.public_id}",
            "offline_kind": "child_change",
            "fresh": False,
            "can_preview": True,
        },
    )


def _changed_fields(snapshot: dict[str, Any], raw: dict[str, Any]) -> dict[str, Any]:
    normalised, issues = validation.normalise(raw)
    if issues:
        raise ValidationFailed([{**i.as_dict()} for i in issues])
    return {k: raw[k] for k in validation.diff(snapshot, normalised)}


@login_required
def child_delete(request: AuthedRequest, public_id: Any) -> HttpResponse:
    require(request.user, "child.propose")
    child = selectors.child_get(request.user, public_id)
    form = ReasonForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            created = services.child_propose_delete(
                actor=request.user, child=child, reason=form.cleaned_data["reason"], evidence=_files(request)
            )
        except DomainError as exc:
            form.add_error("reason" if exc.field == "reason" else None, exc.message)
        else:
            messages.success(request, _("Đã gửi đề xuất xóa; chờ lãnh đạo duyệt."))
            return redirect("registry:request_detail", created.public_id)
    return render(
        request, "registry/reason_form.html", {"form": form, "child": child, "title": _("Đề xuất xóa hồ sơ")}
    )


@login_required
def request_list(request: AuthedRequest) -> HttpResponse:
    """Collectors: my requests. Leaders: the queue of their unit, with counts."""
    require(request.user, "child.view")
    user = request.user
    if can(user, "child.approve"):
        items = selectors.leader_queue(user)
        title = _("Đề xuất chờ duyệt")
    else:
        items = (
            selectors.my_requests(user).filter(status__in=[RequestStatus.PENDING, RequestStatus.RETURNED])
            if request.GET.get("all") != "1"
            else selectors.my_requests(user)
        )
        title = _("Đề xuất của tôi")
    return render(
        request,
        "registry/request_list.html",
        {
            "items": items[:200],
            "title": title,
            "counts": selectors.queue_counts(user),
            "kinds": dict(RequestKind.choices),
        },
    )


@login_required
@handles_step_up
def request_detail(request: AuthedRequest, public_id: Any) -> HttpResponse:
    require(request.user, "child.view")
    req = selectors.request_get(request.user, public_id)
    form = DecisionForm(request.POST or None)
    duplicate_error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        comment = request.POST.get("comment", "")
        try:
            if action == "approve":
                services.change_request_approve(
                    actor=request.user, request=req, comment=comment,
                    not_duplicate_reason=_not_duplicate_reason(request),
                )  # fmt: skip
                messages.success(request, _("Đã duyệt đề xuất."))
            elif action == "reject":
                services.change_request_reject(actor=request.user, request=req, comment=comment)
                messages.success(request, _("Đã từ chối đề xuất."))
            elif action == "return":
                services.change_request_return_for_correction(
                    actor=request.user, request=req, comment=comment
                )
                messages.success(request, _("Đã trả lại đề xuất để sửa."))
            else:
                raise DomainError(_("Thao tác không hợp lệ."))
        except DomainError as exc:
            if exc.code == "step_up_required":
                raise
            if not isinstance(exc, services.PossibleDuplicate):
                form.add_error("comment" if exc.field == "comment" else None, exc.message)
            duplicate_error = str(_duplicate_context(request, exc).get("duplicate_error", ""))
        else:
            return redirect("registry:request_detail", req.public_id)
    words = Labeller()
    labels = field_labels()
    rows = [
        {
            "field": name,
            "label": labels.get(name, name),
            "before": words.value(name, before),
            "after": words.value(name, after),
        }
        for name, (before, after) in req.diff.items()
    ]
    can_decide = req.can_decide(request.user) and not req.is_proposer(request.user)
    return render(
        request,
        "registry/request_detail.html",
        {
            "req": req,
            "rows": rows,
            "form": form,
            "can_decide": can_decide,
            "can_resubmit": req.can_resubmit(request.user),
            "evidence": req.evidence.all(),
            "candidates": _request_duplicates(req, request.user, live=can_decide),
            "not_duplicate": request.POST.get("not_duplicate") == "on",
            "not_duplicate_reason": request.POST.get("not_duplicate_reason", ""),
            "duplicate_error": duplicate_error,
        },
    )


def _request_duplicates(req: Any, principal: Principal, *, live: bool) -> list[dict[str, Any]]:
    """Possible duplicates of a create request: checked again for the deciding leader (records may have been
    added since), else as stored when it was proposed/approved."""
    if req.kind != RequestKind.CREATE:
        return []
    if live and req.status == RequestStatus.PENDING:
        return display_rows(services.possible_duplicates(principal, req.data))
    return display_rows(req.duplicate_candidates or [])


@login_required
def request_edit(request: AuthedRequest, public_id: Any) -> HttpResponse:
    """The proposer corrects a returned request (returned → pending)."""
    req = selectors.request_get(request.user, public_id)
    if not req.can_resubmit(request.user):
        raise Http404
    unit = req.unit
    base = services.child_snapshot(req.child) if req.child_id and req.kind == RequestKind.CHANGE else {}  # type: ignore[arg-type]
    warnings: list[dict[str, Any]] = []
    duplicates: dict[str, Any] = {}
    if request.method == "POST":
        form = ChildForm(request.POST, request.FILES, villages=_villages(unit))
        form.is_valid()
        try:
            data = form.child_data()
            if req.kind == RequestKind.CHANGE:
                data = _changed_fields(base, data)
            services.change_request_resubmit(
                actor=request.user,
                request=req,
                data=data,
                reason=request.POST.get("reason") or None,
                evidence=_files(request),
                acknowledge_warnings=request.POST.get("acknowledge_warnings") == "on",
                not_duplicate_reason=_not_duplicate_reason(request)
                if req.kind == RequestKind.CREATE
                else None,
            )
        except DomainError as exc:
            warnings = _show_errors(form, exc)
            duplicates = _duplicate_context(request, exc)
        else:
            messages.success(request, _("Đã gửi lại đề xuất."))
            return redirect("registry:request_detail", req.public_id)
    else:
        initial = ChildForm.initial_from({**base, **req.data})
        initial["reason"] = req.reason
        form = ChildForm(initial=initial, villages=_villages(unit))
    return render(
        request,
        "registry/child_form.html",
        {
            "form": form,
            "warnings": warnings,
            "title": _("Sửa và gửi lại đề xuất"),
            "req": req,
            "draft_key": "",
            "fresh": False,
            "duplicate_check": req.kind == RequestKind.CREATE,
            **duplicates,
        },
    )


@login_required
def evidence_download(request: AuthedRequest, pk: int) -> HttpResponse:
    require(request.user, "child.view")
    item = access(Evidence.objects.select_related("unit"), request.user, pk=pk)

    log_read(actor=request.user, object_type="evidence", object_id=item.sha256, scope_path=item.unit.path)
    response = HttpResponse(ev.read(item.sha256), content_type=item.content_type)
    response["Content-Disposition"] = (
        f'inline; filename="{item.sha256[:16]}{_EXT.get(item.content_type, "")}"'
    )
    return response


_EXT = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}
