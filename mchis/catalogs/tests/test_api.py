"""GET /api/v1/catalogs and /items?on=: signed-in users read catalogs as they were on a date."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from mchis.catalogs.models import CatalogItem
from mchis.catalogs.services import catalog_item_update

pytestmark = pytest.mark.usefixtures("catalogs")


@pytest.fixture
def client(tree, make_user) -> Client:
    c = Client()
    c.force_login(make_user("collector", tree.tyt_a1))
    return c


def test_catalogs_need_login() -> None:
    assert Client().get("/api/v1/catalogs").status_code == 401


def test_r_org_03_catalog_list(client) -> None:
    body = client.get("/api/v1/catalogs").json()
    by_code = {c["code"]: c for c in body}
    assert by_code["ethnic_group"]["item_count"] == 55
    assert by_code["cause_of_death"]["code_system"].startswith("ICD-10")


def test_r_org_03_items_on_a_date_show_the_version_of_that_date(client) -> None:
    current = CatalogItem.objects.get(catalog__code="sex", code="3", valid_to__isnull=True)
    catalog_item_update(
        actor=None, item=current, name_vi="Không xác định", name_en="Unknown", valid_from=date(2024, 1, 1)
    )
    before = client.get("/api/v1/catalogs/sex/items?on=2023-06-01").json()
    after = client.get("/api/v1/catalogs/sex/items?on=2024-06-01").json()
    assert [(i["code"], i["name_vi"], i["version"]) for i in before["items"]][-1] == ("3", "Chưa xác định", 1)
    assert [(i["code"], i["name_vi"], i["version"]) for i in after["items"]][-1] == ("3", "Không xác định", 2)
    assert before["count"] == after["count"] == 3


def test_bad_date_is_422_and_unknown_catalog_404(client) -> None:
    response = client.get("/api/v1/catalogs/sex/items?on=01/06/2024")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "on"
    assert client.get("/api/v1/catalogs/nope/items").status_code == 404


def test_items_query_count_is_fixed(client, django_assert_max_num_queries) -> None:
    client.get("/api/v1/catalogs")
    with django_assert_max_num_queries(5):
        assert client.get("/api/v1/catalogs/cause_of_death/items").json()["count"] > 100
