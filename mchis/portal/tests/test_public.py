"""The public pages and downloads: no login, published figures only, Vietnamese 404s, cache, open data."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from django.test import Client
from lxml import etree

from mchis.portal import services
from mchis.portal.models import PublishedFigure

XSD = Path(__file__).resolve().parents[2] / "reports" / "fixtures" / "adx" / "adx_loose.xsd"

PAGES = [
    "/public/",
    "/public/indicators/",
    "/public/indicators/deliveries/",
    "/public/indicators/anc4/?period=2026",
    "/public/provinces/08/",
    "/public/provinces/08/?period=2026-02",
    "/public/methods/",
    "/public/bulletins/",
    "/public/data/",
]


@pytest.fixture
def anon() -> Client:
    return Client()


def test_pages_need_no_login_and_show_published_figures(anon, published):
    for url in PAGES:
        response = anon.get(url)
        assert response.status_code == 200, url
        assert response["Cache-Control"].startswith("public"), url
    home = anon.get("/public/").content.decode()
    assert "Số phụ nữ đẻ" in home and "Tuyên Quang" in home and "Cao Bằng" in home


def test_district_small_counts_are_suppressed_with_complements(anon, published):
    """TTYT Yên Sơn's 3 and 2 deliveries are hidden; the other district's figures of those months too (else
    the province total minus it gives them back); the province keeps its totals."""
    small = PublishedFigure.objects.get(statistic="deliveries", period="2026-01", area_code="TTYT08-02")
    other = PublishedFigure.objects.get(statistic="deliveries", period="2026-01", area_code="TTYT08-01")
    province = PublishedFigure.objects.get(statistic="deliveries", period="2026-01", area_code="08")
    assert small.suppressed and small.value is None and small.suppression == "primary"
    assert other.suppressed and other.suppression == "complementary"
    assert not province.suppressed and province.value == 33
    page = anon.get("/public/provinces/08/?period=2026-01").content.decode()
    assert "TTYT khu vực Yên Sơn" in page and 'class="suppressed"' in page
    rows = list(
        csv.DictReader(io.StringIO(anon.get("/public/data/deliveries.csv").content.decode("utf-8-sig")))
    )
    hidden = [r for r in rows if r["area_code"] == "TTYT08-02" and r["period"] == "2026-01"]
    assert hidden == [{**hidden[0], "value": "", "numerator": "", "suppressed": "true"}]


@pytest.mark.parametrize(
    "url",
    [
        "/public/indicators/unknown/",
        "/public/provinces/99/",
        "/public/provinces/04/?period=2025-12",
        "/public/indicators/deliveries/?period=2026-04",
        "/public/indicators/deliveries/?period=2025",
        "/public/bulletins/2026-04.pdf",
        "/public/data/unknown.csv",
        "/public/data/unknown.json",
        "/public/nothing-here/",
    ],
)
def test_unknown_or_unpublished_is_a_vietnamese_404(anon, published, url):
    response = anon.get(url)
    assert response.status_code == 404
    assert "Không tìm thấy trang" in response.content.decode()


def test_query_strings_reach_nothing_unpublished(anon, published, tree, report):
    report(tree.tyt_a1, "2026-04", {"AN.DLV:total": 777})  # approved but never published
    for url in (
        "/public/indicators/deliveries/?period=2026-04",
        "/public/data/statistics.json?period=2026-04",
    ):
        assert "777" not in anon.get(url).content.decode()


def test_publishing_invalidates_the_cached_pages(anon, published, ministry_leader):
    assert "Số phụ nữ đẻ" in anon.get("/public/indicators/").content.decode()
    services.publication_unpublish(actor=ministry_leader, publication_id=published.pk, reason="Rút lại")
    assert "Số phụ nữ đẻ" not in anon.get("/public/indicators/").content.decode()
    assert anon.get("/public/indicators/deliveries/").status_code == 404


def test_open_data_downloads(anon, published):
    data = json.loads(anon.get("/public/data/statistics.json").content)
    assert {s["code"] for s in data["statistics"]} == {"deliveries", "anc4"}
    assert all(set(f) >= {"statistic", "period", "area_code", "value", "suppressed"} for f in data["figures"])
    dictionary = json.loads(anon.get("/public/data/dictionary.json").content)
    assert [f["name"] for f in dictionary["fields"]] == list(csv.DictReader(io.StringIO(
        anon.get("/public/data/statistics.csv").content.decode("utf-8-sig"))).fieldnames or [])  # fmt: skip
    adx = anon.get("/public/data/statistics.adx.xml").content
    etree.XMLSchema(etree.parse(str(XSD))).assertValid(etree.fromstring(adx))
    assert b'orgUnit="TTYT08-02"' not in adx or b'value="3"' not in adx  # suppressed values never exported


def test_bulletin_pdf(anon, published):
    response = anon.get("/public/bulletins/2026-01.pdf")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_language_switch_stays_in_the_portal(anon, published):
    response = anon.get("/public/lang/en/?next=https://evil.example/")
    assert response.status_code == 302 and response["Location"] == "/public/"
    page = anon.get("/public/").content.decode()
    assert "Women who gave birth" in page


def test_portal_process_serves_only_public(anon, published, settings):
    """config.urls_portal (the separate portal process, docs/portal.md): /public/ and nothing else."""
    settings.ROOT_URLCONF = "config.urls_portal"
    assert anon.get("/public/").status_code == 200
    for url in ("/children/", "/api/v1/version", "/reports/", "/accounts/login/", "/portal/"):
        response = anon.get(url)
        assert response.status_code == 404 and "Không tìm thấy trang" in response.content.decode(), url
