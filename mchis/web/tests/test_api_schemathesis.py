"""schemathesis over the WHOLE API (issue 10 item 9, R-INT-01): every operation, generated from the OpenAPI
(valid and invalid inputs), once as a machine client holding every scope it may hold and once as a signed-in
person (session + CSRF). No answer may be a 5xx, and every answer must match what the OpenAPI documents: its
status code, its content type and its body schema.

Fixed seed and a per-operation example budget keep it a few minutes on CI. Totals of the last run are printed
(operations, cases, failures by check) by `test_schemathesis_totals`.

Stateful: the API declares OpenAPI links where one answer names the next resource (a proposal → its change
request; a register batch → its job); `test_api_stateful_links` walks them with schemathesis' state machine.
"""

from __future__ import annotations

import os
import secrets
from collections import Counter
from typing import Any

import pytest
import schemathesis
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, seed, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.api import api

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "15"))
SEED = 20261130

schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
schema.app = WSGIHandler()

TOTALS: dict[str, Counter[str]] = {"cases": Counter(), "operations": Counter(), "failures": Counter()}


@pytest.fixture(autouse=True)
def _keep_the_test_transaction():
    """The bare WSGI handler closes "old" connections at each request's start and end; inside the test's
    transaction that closes it on PostgreSQL (SQLite's in-memory test database ignores it). Django's own test
    client detaches the same hook, so do we."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def as_token(tree) -> dict[str, Any]:
    from mchis.accounts.permissions import MACHINE_ACTIONS
    from mchis.accounts.services import api_client_create

    _, token = api_client_create(
        actor=None, name="schemathesis", unit=tree.doh_a, scopes=sorted(MACHINE_ACTIONS)
    )
    return {"headers": {"Authorization": f"Bearer {token}"}, "cookies": {}}


@pytest.fixture
def as_session(tree, make_user, client) -> dict[str, Any]:
    leader = make_user("leader", tree.tyt_a1)
    client.force_login(leader)
    csrf = secrets.token_hex(16)  # a 32-character secret: Django accepts it unmasked in the header
    return {
        "headers": {"X-CSRFToken": csrf},
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
    }


def run_case(case: Any, who: str, credentials: dict[str, Any]) -> None:
    TOTALS["cases"][who] += 1
    TOTALS["operations"][case.operation.label] += 1
    try:
        case.call_and_validate(headers=credentials["headers"], cookies=credentials["cookies"], checks=CHECKS)
    except Exception as failure:
        for check in CHECKS:
            if check.__name__ in str(failure) or check.__name__.replace("_", " ") in str(failure).lower():
                TOTALS["failures"][check.__name__] += 1
        raise


SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    phases=[Phase.explicit, Phase.generate],
    derandomize=False,
)


@pytest.mark.slow
@pytest.mark.django_db
@schema.parametrize()
@seed(SEED)
@SETTINGS
def test_r_int_01_whole_api_as_machine_client(case, as_token):
    run_case(case, "token", as_token)


@pytest.mark.slow
@pytest.mark.django_db
@schema.parametrize()
@seed(SEED)
@SETTINGS
def test_r_int_01_whole_api_as_person(case, as_session):
    run_case(case, "session", as_session)


@pytest.fixture
def as_collector(tree, make_user, client) -> dict[str, Any]:
    collector = make_user("collector", tree.tyt_a1)
    client.force_login(collector)
    csrf = secrets.token_hex(16)
    return {
        "headers": {"X-CSRFToken": csrf},
        "cookies": {"sessionid": client.cookies["sessionid"].value, "csrftoken": csrf},
    }


@pytest.mark.slow
@pytest.mark.django_db
def test_r_int_01_api_stateful_links(as_collector):
    """Follows the OpenAPI links (a proposal → its change request; an async batch → its job; a search → the
    record and its history) as a collector: every step of every scenario passes the same checks."""
    links = [
        (path, method, status)
        for path, operations in api.get_openapi_schema()["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if response.get("links")
    ]
    assert len(links) >= 5

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            TOTALS["cases"]["stateful"] += 1
            return {"headers": as_collector["headers"], "cookies": as_collector["cookies"]}

        def validate_response(self, response: Any, case: Any, **kwargs: Any) -> None:
            case.validate_response(response, checks=CHECKS)

    Workflow.run(
        settings=settings(
            max_examples=int(os.environ.get("SCHEMATHESIS_STATEFUL_EXAMPLES", "15")),
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
            derandomize=True,
        )
    )


def test_every_operation_documents_its_error_answers():
    """The error contract (mchis.core.api.document_errors) is on every operation."""
    document = api.get_openapi_schema()
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            codes = {str(code) for code in operation["responses"]}
            assert {"400", "404", "422"} <= codes, (method, path)
            if operation.get("security", True) != []:
                assert {"401", "403"} <= codes, (method, path)


@pytest.mark.slow
def test_schemathesis_totals(capsys):
    """Prints the totals of the two runs above (run in the same session), for the issue's closing note."""
    if not TOTALS["cases"]:
        pytest.skip("the schemathesis runs did not run in this session")
    with capsys.disabled():
        print(
            f"\nschemathesis: {len(TOTALS['operations'])} operations, "
            f"{sum(TOTALS['cases'].values())} cases ({dict(TOTALS['cases'])}), "
            f"failures by check: {dict(TOTALS['failures']) or 'none'}"
        )
