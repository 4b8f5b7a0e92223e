import re

import pytest
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


def test_other_errors_are_left_to_the_view():
    middleware = DomainErrorMiddleware(lambda request: HttpResponse())
    assert middleware.process_exception(RequestFactory().get("/"), DomainError("x")) is None
    assert middleware.process_exception(RequestFactory().get("/"), ValueError("x")) is None
