import logging
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _

from mchis.core.cards import home_cards, returned_to_me

logger = logging.getLogger(__name__)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Home page per role: each role sees the cards of its own work."""
    return render(
        request,
        "web/home.html",
        {"cards": home_cards(request.user), "returned": returned_to_me(request.user)},
    )


def back_url(request: HttpRequest) -> str:
    """Where "Quay lại" goes: the page the person came from on this site, else the home page."""
    referer = request.META.get("HTTP_REFERER", "")
    if referer and url_has_allowed_host_and_scheme(referer, allowed_hosts={request.get_host()}):
        return str(referer)
    return "/"


def error_page(request: HttpRequest, status: int, title: str, message: str, detail: str = "") -> HttpResponse:
    """A refusal or an error as a Vietnamese page inside the layout, with a way back (never a bare 403/404/500)."""
    context = {
        "status": status,
        "title": title,
        "message": message,
        "detail": detail,
        "back_url": back_url(request),
    }
    return render(request, "error.html", context, status=status)


def _our_message(exception: Any) -> str:
    # Refusals raised by our views and services carry a Vietnamese sentence meant for the person;
    # Django's own (e.g. "Forbidden") are replaced by the generic text.
    text = str(exception or "").strip()
    return "" if not text or text.isascii() else text


def handler403(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(
        request,
        403,
        _("Bạn không có quyền mở trang này"),
        _("Trang hoặc thao tác này không thuộc quyền của tài khoản bạn đang dùng."),
        _our_message(exception),
    )


def handler404(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_page(
        request,
        404,
        _("Không tìm thấy trang"),
        _("Địa chỉ không đúng, hoặc hồ sơ không tồn tại hay không thuộc phạm vi đơn vị của bạn."),
    )


def handler500(request: HttpRequest) -> HttpResponse:
    try:
        return error_page(
            request,
            500,
            _("Đã xảy ra lỗi hệ thống"),
            _(
                "Yêu cầu của bạn chưa được thực hiện. Sự cố đã được ghi lại; vui lòng thử lại sau ít phút "
                "hoặc báo cho quản trị hệ thống."
            ),
        )
    except Exception:  # the layout itself may be what failed: fall back to the plain page
        logger.exception("error page could not be rendered in the layout")
        return HttpResponseServerError(loader.get_template("500.html").render())
