"""GET /api/v1/indicators and GET /api/v1/analytics (issue 15 contract): DHIS2 shape, keywords, bad input,
scoping (R-MCH-07) for people and machine tokens."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.test import Client

from mchis.accounts.models import ApiClient
from mchis.accounts.services import api_client_create


def client_for(user) -> Client:
    c = Client()
    c.force_login(user)
    return c


def get(c, **params):
    return c.get("/api/v1/analytics", {"approved": "false", **params})


def test_indicator_list_has_the_contract_fields(tree, make_user):
    r = client_for(make_user("viewer", tree.ttyt_a)).get("/api/v1/indicators")
    assert r.status_code == 200
    anc4 = next(i for i in r.json() if i["id"] == "ANC4")
    assert {"id", "name", "definition", "numerator", "denominator", "factor"} <= set(anc4)
    assert anc4["factor"] == 100 and anc4["numerator"] == "AN.DLV_ANC4:{col}"


def test_analytics_answers_in_dhis2_shape(data, make_user):
    c = client_for(make_user("viewer", data.ttyt_a))
    r = get(c, dx="ANC4;AN.DLV:total", pe="202601", ou="USER_ORGUNIT;USER_ORGUNIT_CHILDREN")
    assert r.status_code == 200, r.content
    body = r.json()
    assert [h["name"] for h in body["headers"]][:4] == ["dx", "pe", "ou", "value"]
    assert body["metaData"]["dimensions"]["ou"] == ["TTYT08-01", "TYT02269", "TYT02296"]
    rows = {(row[0], row[2]): row for row in body["rows"]}
    assert rows[("ANC4", "TYT02269")][3] == "50"
    assert rows[("ANC4", "TYT02296")][3] == ""  # zero denominator: không xác định
    assert rows[("AN.DLV:total", "TTYT08-01")][3] == "2"
    assert body["metaData"]["items"]["ANC4"]["definition"]
    assert body["metaData"]["dataSource"] == "provisional"
    assert body["height"] == len(body["rows"]) == 6


def test_r_mch_07_district_analyst_sees_only_its_subtree(data, make_user):
    c = client_for(make_user("viewer", data.ttyt_a))
    r = get(c, dx="AN.DLV:total", pe="202601", ou="LEVEL-1;LEVEL-2;LEVEL-6")
    assert r.status_code == 200
    assert r.json()["metaData"]["dimensions"]["ou"] == ["TYT02269", "TYT02296"]  # levels under its own unit
    for ou in ("TYT01273", "SYT04", "BYT"):
        r = get(c, dx="AN.DLV:total", pe="202601", ou=ou)
        assert r.status_code == 400
        assert (
            r.json()["message"] == f"Không có đơn vị '{ou}' trong phạm vi bạn được xem (kiểm tra mã đơn vị)."
        )
    r = get(c, dx="AN.DLV:total", pe="202601", ou="NOSUCHUNIT")
    assert r.status_code == 400 and "NOSUCHUNIT" in r.json()["message"]


def test_r_mch_07_ministry_sees_the_nation_and_provinces(data, make_user):
    c = client_for(make_user("viewer", data.ministry_dept))
    r = get(c, dx="AN.DLV:total", pe="202601", ou="OU_GROUP-doh")
    rows = {row[2]: row[3] for row in r.json()["rows"]}
    assert rows == {"SYT08": "2", "SYT04": "1"}


def test_bad_input_is_a_specific_400(data, make_user):
    c = client_for(make_user("viewer", data.ttyt_a))
    r = get(c, dx="NOPE", pe="202601")
    assert (
        r.status_code == 400 and "'NOPE'" in r.json()["message"] and r.json()["code"] == "unknown_indicator"
    )
    future = f"{date.today().year + 1}"
    r = get(c, dx="ANC4", pe=future)
    assert r.status_code == 400 and "tương lai" in r.json()["message"]
    r = get(
        c, dx=";".join(["ANC4", "CS", "SBA", "LBW"] * 1), pe="LAST_5_YEARS;LAST_12_MONTHS", ou="OU_GROUP-tyt"
    )
    assert r.status_code == 200
    r = get(c, dx="ANC4", pe="LAST_12_MONTHS", ou="LEVEL-99")
    assert r.status_code == 400 and "LEVEL-" in r.json()["message"]


def test_selection_too_large_states_the_limit(data, make_user, monkeypatch):
    from mchis.analytics import selectors

    monkeypatch.setattr(selectors, "MAX_CELLS", 10)
    c = client_for(make_user("viewer", data.ttyt_a))
    r = get(c, dx="ANC4;CS", pe="LAST_12_MONTHS")
    assert r.status_code == 400 and "tối đa 10 ô" in r.json()["message"]


def test_approved_is_the_default(data, make_user):
    c = client_for(make_user("viewer", data.ttyt_a))
    body = c.get("/api/v1/analytics", {"dx": "ANC4", "pe": "202601", "ou": "TYT02269"}).json()
    assert body["metaData"]["dataSource"] == "approved" and body["rows"][0][3] == ""


def test_machine_token_needs_the_scope_and_stays_in_its_subtree(data):
    client, token = api_client_create(
        actor=None, name="dhis2-reader", unit=data.ttyt_a, scopes=["report.view"]
    )
    auth: dict[str, Any] = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    c = Client()
    assert c.get("/api/v1/analytics", {"dx": "ANC4", "pe": "202601"}, **auth).status_code == 403
    ApiClient.objects.filter(pk=client.pk).update(scopes=["analytics.view"])
    r = c.get("/api/v1/analytics", {"dx": "ANC4", "pe": "202601", "approved": "false"}, **auth)
    assert r.status_code == 200 and r.json()["metaData"]["dimensions"]["ou"] == ["TTYT08-01"]
    r = c.get("/api/v1/analytics", {"dx": "ANC4", "pe": "202601", "ou": "TYT01273"}, **auth)
    assert r.status_code == 400
