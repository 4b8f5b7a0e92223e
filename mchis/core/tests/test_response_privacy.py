"""Issue 10 item 12: nothing personal is cached, /health tells anonymous callers nothing about the stack, the
API description needs a signed-in person or a token and its docs page runs no inline script."""

from __future__ import annotations

import pytest
from django.test import Client

from mchis.accounts.services import api_client_create


@pytest.fixture
def leader_client(tree, make_user):
    client = Client()
    client.force_login(make_user("leader", tree.tyt_a1))
    return client


def test_every_page_and_api_answer_is_no_store(leader_client):
    for url in ("/", "/children/", "/api/v1/children", "/api/v1/accounts/me", "/reports/"):
        response = leader_client.get(url)
        assert response.status_code in (200, 302), url
        assert "no-store" in response["Cache-Control"], url


def test_health_hides_the_vendor_from_anonymous_callers(client, leader_client):
    anonymous = client.get("/health").json()
    assert anonymous == {"status": "ok", "database": "ok"}
    assert "vendor" in leader_client.get("/health").json()


def test_openapi_and_docs_need_a_session_or_token(client, leader_client, tree, settings):
    settings.API_DOCS_PUBLIC = False
    assert client.get("/api/v1/openapi.json").status_code == 401
    assert client.get("/api/v1/docs").status_code == 401
    assert leader_client.get("/api/v1/openapi.json").status_code == 200
    _, token = api_client_create(actor=None, name="his", unit=tree.ttyt_a, scopes=["child.view"])
    assert client.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    assert client.get("/api/v1/openapi.json", headers={"Authorization": "Bearer nope"}).status_code == 401


def test_docs_page_csp_has_no_inline_scripts(leader_client):
    response = leader_client.get("/api/v1/docs")
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    body = response.content.decode()
    assert "<script>" not in body  # every script tag has a src or is JSON data
