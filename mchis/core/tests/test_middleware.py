import re

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import HttpResponse
from django.test import RequestFactory

from mchis.core.errors import DomainError, PermissionDeniedError, StepUpRequired
from mchis.core.middleware import DomainErrorMiddleware


@pytest.mark.parametrize("error", [PermissionDeniedError("Không có quyền."), StepUpRequired("Cần OTP.")])
def test_refusals_escaping_a_page_become_403_not_500(error):
    from django.core.exceptions import PermissionDenied

    middleware = DomainErrorMiddleware(lambda request: HttpResponse())
    with pytest.raises(PermissionDenied, match=re.escape(error.message)):
        middleware.process_exception(RequestFactory().get("/"), error)


@pytest.mark.django_db
def test_a_domain_error_escaping_a_page_is_a_vietnamese_page_at_its_status_not_500():
    # given a page whose service refused with a conflict the view did not catch

    from mchis.core.errors import Conflict

    request = RequestFactory().get("/children/", HTTP_REFERER="http://testserver/children/?q=an")
    request.user = AnonymousUser()
    middleware = DomainErrorMiddleware(lambda request: HttpResponse())
    # when the middleware sees it
    response = middleware.process_exception(request, Conflict("Đề xuất đã được người khác duyệt."))
    # then the person reads the reason in the layout, with a way back to where they were
    assert response is not None and response.status_code == 409
    html = response.content.decode()
    assert "Đề xuất đã được người khác duyệt." in html
    assert 'href="http://testserver/children/?q=an"' in html


def test_other_exceptions_and_api_errors_are_left_alone():
    middleware = DomainErrorMiddleware(lambda request: HttpResponse())
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("x")) is None
    assert middleware.process_exception(RequestFactory().get("/api/v1/children"), DomainError("x")) is None


def test_an_id_too_large_for_the_database_is_404_not_500():
    middleware = DomainErrorMiddleware(lambda request: HttpResponse())
    overflow = middleware.process_exception(RequestFactory().get("/"), OverflowError("int too large"))
    assert overflow is not None and overflow.status_code == 404
