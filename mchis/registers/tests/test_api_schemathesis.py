"""schemathesis against the registers API (R-INT-01): generated requests never get a 500, and every answer
is JSON. Runs through the Django test client, signed in as a collector who may read and write."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from config.api import api

schema = schemathesis.openapi.from_dict(api.get_openapi_schema()).include(path_regex=r"^/api/v1/registers")

pytestmark = pytest.mark.urls("mchis.registers.tests.urls")


@pytest.fixture
def signed_in(client, tree, make_user):
    client.force_login(make_user("collector", tree.tyt_a1))
    return client


@pytest.mark.slow
@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_r_int_01_registers_api_never_500(case, signed_in):
    kwargs = case.as_transport_kwargs(base_url="")
    method = kwargs["method"].lower()
    if method not in {"get", "post", "put", "patch", "delete"}:
        return
    url = kwargs["url"]
    params = kwargs.get("params") or {}
    headers = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (kwargs.get("headers") or {}).items()
               if k.lower() not in {"content-type", "content-length", "user-agent"}}  # fmt: skip
    if method == "get":
        response = signed_in.get(url, params, **headers)
    else:
        body = json.dumps(kwargs["json"]) if "json" in kwargs else kwargs.get("data") or b""
        query = "&".join(f"{k}={v}" for k, v in params.items())
        response = getattr(signed_in, method)(
            url + (f"?{query}" if query else ""), data=body, content_type="application/json", **headers
        )
    assert response.status_code < 500, (case.method, url, response.content[:500])
    if response.status_code in {200, 202, 400, 403, 409, 413, 422}:
        assert response["Content-Type"].startswith("application/json"), (
            url,
            response.status_code,
            response.content[:300],
        )
        json.loads(response.content)
