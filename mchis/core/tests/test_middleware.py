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


def test_other_domain_errors_escaping_a_page_answer_their_status_not_500(rf, db):
    """Bad input that reached a page (issue 10 item 9): the error's own status and message."""
    from mchis.core.inputs import InputRejected

    middleware = DomainErrorMiddleware(lambda request: HttpResponse())
    request = rf.get("/")
    request.user = AnonymousUser()
    response = middleware.process_exception(request, DomainError("Sai dữ liệu x"))
    assert response is not None
    assert response.status_code == 400 and "Sai dữ liệu x" in response.content.decode()
    rejected = middleware.process_exception(
        request, InputRejected("newborn_slots: sai", field="newborn_slots")
    )
    assert rejected is not None and rejected.status_code == 422
    overflow = middleware.process_exception(request, OverflowError("int too large"))
    assert overflow is not None and overflow.status_code == 404
    assert middleware.process_exception(request, ValueError("x")) is None
