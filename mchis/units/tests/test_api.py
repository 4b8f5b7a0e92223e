"""GET /api/v1/units: scoped to the caller's subtree, by date; one unit with its history."""

from __future__ import annotations

import pytest
from django.test import Client

from mchis.units.services import unit_move


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_r_sec_01_units_list_is_scoped(tree, make_user) -> None:
    body = client_for(make_user("collector", tree.ttyt_a)).get("/api/v1/units").json()
    assert body["count"] == 3
    assert {i["code"] for i in body["items"]} == {"TTYT08-01", "TYT02269", "TYT02296"}
    assert body["items"][1]["admin_unit"] in {"02269", "02296"}


def test_r_sec_01_unit_outside_jurisdiction_is_404(tree, make_user) -> None:
    client = client_for(make_user("collector", tree.ttyt_a))
    assert client.get("/api/v1/units/TYT01273").status_code == 404
    assert client.get("/api/v1/units?under=CDC04").status_code == 404
    assert client.get("/api/v1/units/NOPE").status_code == 404


def test_units_api_needs_login(tree) -> None:
    assert Client().get("/api/v1/units").status_code == 401


def test_r_org_02_units_under_on_past_date(tree, make_user) -> None:
    from datetime import date

    unit_move(actor=None, unit=tree.ttyt_a, new_parent=tree.cdc_b, on=date(2025, 7, 1), reason="Sáp nhập")
    client = client_for(make_user("system_admin", tree.ministry))
    past = client.get("/api/v1/units?under=CDC08&on=2025-06-30").json()
    now = client.get("/api/v1/units?under=CDC08").json()
    assert {i["code"] for i in past["items"]} == {"CDC08", "TTYT08-01", "TYT02269", "TYT02296"}
    assert {i["code"] for i in now["items"]} == {"CDC08"}
    detail = client.get("/api/v1/units/TYT02269").json()
    assert [(p["valid_from"], p["valid_to"]) for p in detail["placements"]] == [
        ("2000-01-01", "2025-07-01"),
        ("2025-07-01", None),
    ]


@pytest.mark.parametrize("query", ["on=30-06-2025", "limit=0", "offset=-5"])
def test_bad_unit_parameters_are_422(tree, make_user, query: str) -> None:
    response = client_for(make_user("system_admin", tree.ministry)).get(f"/api/v1/units?{query}")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] in {"on", "limit", "offset"}


def test_r_sec_02_system_admin_sees_the_whole_tree_wherever_its_unit_is(tree, make_user) -> None:
    body = client_for(make_user("system_admin", tree.doh_a)).get("/api/v1/units?limit=100").json()
    assert body["count"] == 11
    assert client_for(make_user("unit_admin", tree.doh_a)).get("/api/v1/units").json()["count"] == 5


def test_units_list_query_count_does_not_grow_with_the_tree(
    tree, make_user, django_assert_max_num_queries
) -> None:
    client = client_for(make_user("system_admin", tree.ministry))
    client.get("/api/v1/units")  # warm the session
    with django_assert_max_num_queries(6):
        assert client.get("/api/v1/units?under=BYT&on=2024-01-01").json()["count"] == 11
