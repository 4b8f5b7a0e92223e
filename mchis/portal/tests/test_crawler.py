"""No personal data leaves through the portal (R-AN-03, issue 16): every public URL and every download is
fetched, following every link and every published period from /public/, and searched for the names, personal
IDs, dates of birth and free texts of the children, mothers and staff behind the published figures."""

from __future__ import annotations

import re
import zlib
from datetime import date
from html import escape, unescape
from urllib.parse import urljoin, urlsplit

from django.test import Client

from mchis.core.text import fold

from .conftest import publish

CHILD = "Zzcrawl Thị Bímật"
CHILD_ID = "008777666555"
CHILD_DOB = date(2021, 2, 13)
MOTHER = "Zzmother Văn Riêngtư"
MOTHER_ID = "008111222333"
MOTHER_DOB = date(1990, 11, 27)
NOTE = "Zzghi chú cá nhân sinh tại nhà hàng xóm"
ADDRESS = "Zzsố 17 ngõ Bí Mật"
REASON = "Zzlý do hủy duyệt riêng tư"
STAFF = "Zzcanbo Duyệt"


def secrets() -> list[str]:
    values = [CHILD, CHILD_ID, MOTHER, MOTHER_ID, NOTE, ADDRESS, REASON, STAFF]
    for d in (CHILD_DOB, MOTHER_DOB):
        values += [d.isoformat(), d.strftime("%d/%m/%Y"), d.strftime("%d-%m-%Y")]
    values += [fold(v) for v in values]
    values += [escape(v) for v in values]
    return sorted(set(values))


def seed_people(tree) -> None:
    """A child in the registry and register rows whose events feed the published counts."""
    from mchis.registers.models import Delivery, Newborn
    from mchis.registry.models import Child

    Child.objects.create(
        unit=tree.tyt_a1, commune=tree.commune_a1, full_name=CHILD, name_folded=fold(CHILD),
        date_of_birth=CHILD_DOB, sex="F", personal_id=CHILD_ID, mother_name=MOTHER, mother_dob=MOTHER_DOB,
        mother_personal_id=MOTHER_ID, address_detail=ADDRESS,
    )  # fmt: skip
    for i, unit in enumerate((tree.tyt_a1, tree.tyt_a1, tree.tyt_a2, tree.tyt_b1) * 3):
        d = Delivery.objects.create(
            facility=unit, event_date=date(2026, 1, 5 + i), month=date(2026, 1, 1), source_record_id=f"c{i}",
            full_name=MOTHER, full_name_folded=fold(MOTHER), dob=MOTHER_DOB, note=NOTE,
        )  # fmt: skip
        Newborn.objects.create(
            delivery=d, facility=unit, month=d.month, event_date=d.event_date, outcome="live", full_name=CHILD,
            personal_id=CHILD_ID,
        )  # fmt: skip


def approve_january(tree, make_user) -> None:
    from mchis.accounts.testing import stepped_up
    from mchis.reports import services as reports
    from mchis.reports.tests.registerdata import submit

    approver = make_user("leader", tree.ttyt_a, "zz.ld.ttyt.a")
    type(approver).objects.filter(pk=approver.pk).update(first_name=STAFF)
    other = make_user("leader", tree.ttyt_b)
    for unit, leader in ((tree.tyt_a1, approver), (tree.tyt_a2, approver), (tree.tyt_b1, other)):
        args = {"form_code": "BCX3", "unit_code": unit.code, "period": "2026-01"}
        reporter = make_user("reporter", unit)
        with stepped_up():
            submit(actor=reporter, warning_comment=NOTE, **args)
            reports.report_approve(actor=leader, reason=REASON, **args)
    with stepped_up():  # a report un-approved with a personal reason, then approved again
        args = {"form_code": "BCX3", "unit_code": tree.tyt_a2.code, "period": "2026-01"}
        reports.report_request_unapproval(actor=make_user("reporter", tree.tyt_a2), reason=REASON, **args)
        reports.report_unapprove(actor=approver, reason=REASON, **args)


def crawl(client: Client) -> dict[str, bytes]:
    seen: dict[str, bytes] = {}
    queue = ["/public/"]
    while queue:
        url = queue.pop()
        if url in seen or len(seen) > 500:
            continue
        response = client.get(url)
        assert response.status_code in (200, 302), f"{url}: {response.status_code}"
        body = response.content
        seen[url] = body
        if response.status_code == 302:
            continue
        if "text/html" not in response["Content-Type"]:
            continue
        html = body.decode()
        links = [unescape(h) for h in re.findall(r'href="([^"#]+)"', html)]
        # every published period a page offers in its period form
        periods = re.findall(r'<option value="([0-9-]+)"', html)
        links += [f"{urlsplit(url).path}?period={p}" for p in periods]
        for link in links:
            target = urljoin(url, link)
            if target.startswith("/public/") and "/lang/" not in target and target not in seen:
                queue.append(target)
    return seen


def pdf_text(data: bytes) -> bytes:
    """The PDF's streams decompressed (text, metadata), to search them too."""
    out = [data]
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            out.append(zlib.decompress(stream))
        except zlib.error:
            continue
    return b"\n".join(out)


def test_r_an_03_no_personal_data_on_any_public_url_or_download(
    tree, forms, make_user, django_capture_on_commit_callbacks
):
    seed_people(tree)
    with django_capture_on_commit_callbacks(execute=True):
        approve_january(tree, make_user)
    with django_capture_on_commit_callbacks(execute=True):
        publish(
            make_user("leader", tree.ministry_dept),
            ["2026-01"],
            statistics=["deliveries", "live-births", "anc4"],
        )
    client = Client()
    pages = {}
    for language in ("vi", "en"):
        client.cookies["django_language"] = language
        pages.update({f"{language} {u}": b for u, b in crawl(client).items()})
    urls = {u.split(" ", 1)[1] for u in pages}
    assert {"/public/data/statistics.csv", "/public/data/statistics.json", "/public/data/statistics.adx.xml",
            "/public/data/dictionary.csv", "/public/data/deliveries.csv", "/public/methods/",
            "/public/indicators/deliveries/", "/public/provinces/08/"} <= urls  # fmt: skip
    assert any(u.endswith(".pdf") for u in urls) and any("?period=" in u for u in urls)
    print(f"crawled {len(pages)} answers")

    def where(needle: str) -> list[str]:
        forms = {needle.encode(), needle.encode("unicode_escape"), needle.encode("utf-16-be")}
        return [
            u for u, b in pages.items() if any(f in (pdf_text(b) if u.endswith(".pdf") else b) for f in forms)
        ]

    # positive control: the search finds what is published (a province name, in pages and downloads)
    assert "vi /public/" in where("Tuyên Quang") and "vi /public/data/statistics.csv" in where("Tuyên Quang")
    leaks = {secret: where(secret) for secret in secrets()}
    assert not {k: v for k, v in leaks.items() if v}
    # the bulletin's source text too (a PDF's glyphs are not searchable text)
    from mchis.portal.public.bulletins import bulletin_html

    source = bulletin_html("2026-01")
    assert "Tuyên Quang" in source
    assert not [s for s in secrets() if s in source]
