"""GET /api/v1/admin-units (Contract): public, counted, paginated; bad parameters are 422."""

from __future__ import annotations

import pytest
from django.test import Client

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("admin_units")]


def get(url: str) -> tuple[int, dict]:
    response = Client().get(url)
    return response.status_code, response.json()


def test_r_org_01_provinces_2025_without_login() -> None:
    status, body = get("/api/v1/admin-units?version=2025&level=province&limit=100")
    assert status == 200
    assert body["count"] == 34
    assert len(body["items"]) == 34
    hanoi = body["items"][0]
    assert hanoi == {
        "code": "01",
        "name": "Thành phố Hà Nội",
        "level": "province",
        "version": "2025",
        "parent": None,
    }


def test_r_org_01_communes_of_a_province_are_paginated() -> None:
    status, first = get("/api/v1/admin-units?version=2025&level=commune&parent=01&limit=50")
    _, second = get("/api/v1/admin-units?version=2025&level=commune&parent=01&limit=50&offset=50")
    assert status == 200
    assert first["count"] == second["count"] == 126
    codes = [i["code"] for i in first["items"] + second["items"]]
    assert len(codes) == len(set(codes)) == 100
    assert {i["parent"] for i in first["items"]} == {"01"}


def test_r_org_01_pre2025_districts_and_name_search() -> None:
    _, districts = get("/api/v1/admin-units?version=pre2025&level=district&parent=01&limit=100")
    assert districts["count"] == 30
    _, found = get("/api/v1/admin-units?version=pre2025&level=district&q=ba%20dinh")
    assert [i["name"] for i in found["items"]] == ["Quận Ba Đình"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("version=2024", "version"),
        ("version=2025&level=district", "level"),
        ("limit=0", "limit"),
        ("offset=-1", "offset"),
    ],
)
def test_bad_parameters_are_422_naming_the_field(query: str, field: str) -> None:
    status, body = get(f"/api/v1/admin-units?{query}")
    assert status == 422
    assert [e["field"] for e in body["errors"]] == [field]


def test_r_org_01_mapping_old_to_new_and_new_from_old() -> None:
    status, old = get("/api/v1/admin-units/pre2025/00016/mapping")
    assert status == 200
    assert old["direction"] == "old_to_new"
    assert [(i["new"]["code"], i["kind"], i["is_default"]) for i in old["items"]] == [
        ("00004", "partial", True),
        ("00008", "partial", False),
    ]
    _, new = get("/api/v1/admin-units/2025/00004/mapping")
    assert new["direction"] == "new_from_old"
    assert {"00004", "00013", "00016", "00019"} <= {i["old"]["code"] for i in new["items"]}


def test_unknown_unit_mapping_is_404() -> None:
    status, _ = get("/api/v1/admin-units/2025/99999/mapping")
    assert status == 404


def test_list_uses_a_fixed_number_of_queries(django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(3):
        Client().get("/api/v1/admin-units?version=2025&level=commune&limit=500")


def test_admin_units_are_public_in_the_openapi_schema() -> None:
    from config.api import api

    schema = api.get_openapi_schema()
    listing = schema["paths"]["/api/v1/admin-units"]["get"]
    mapping = schema["paths"]["/api/v1/admin-units/{version}/{code}/mapping"]["get"]
    assert "security" not in listing and "security" not in mapping
    assert {p["name"] for p in listing["parameters"]} >= {
        "version",
        "level",
        "parent",
        "q",
        "limit",
        "offset",
    }
