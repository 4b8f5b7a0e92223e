"""Words, not codes (issue 13 item 2, "Done when"): the main pages of each role, rendered with real data,
show no raw code, no ISO date, no checksum, no endpoint path and no Python repr where a person reads.

Each page has the generic patterns (ISO dates, sha256, seeds, API paths, `extra.kind=`, dict reprs, None) and
its own (the child's sex code, ethnicity code and village id in a cell). What a person reads = the text of
the page plus the values of visible inputs; attributes such as `<time datetime>` or `data-*` are not read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

pytestmark = pytest.mark.django_db

GENERIC = {
    "ISO date": re.compile(r"\b(?:19|20)\d{2}-\d{2}-\d{2}\b"),
    "checksum": re.compile(r"sha-?256", re.I),
    "random seed": re.compile(r"\bseed\b|hạt giống", re.I),
    "API path": re.compile(r"/api/v\d"),
    "catalog internals": re.compile(r"extra\.kind="),
    "Python repr": re.compile(r"\{'|'\w+':|\bNone\b"),
}


class _Reader(HTMLParser):
    """The words a person reads: text outside <script>/<style>/<head>, and the values of visible inputs."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "head", "template"):
            self._skip += 1
        a = dict(attrs)
        if (
            tag == "input"
            and a.get("type") not in ("hidden", "checkbox", "radio", "submit")
            and a.get("value")
        ):
            self.parts.append(a["value"] or "")
        if tag == "input" and a.get("placeholder"):
            self.parts.append(a["placeholder"] or "")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "head", "template") and self._skip:
            self._skip -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.parts.append(data)


def readable(html: str) -> str:
    reader = _Reader()
    reader.feed(html)
    return " ".join(" ".join(reader.parts).split())


@dataclass
class World:
    child: Any
    request: Any
    village: Any
    people: dict[str, Any]


@pytest.fixture
def world(tree, make_user) -> World:
    from mchis.core.context import RequestMeta, reset_meta, set_meta
    from mchis.places.models import Village
    from mchis.registry.services import change_request_approve, child_propose_change, child_propose_create

    call_command("load_catalogs", verbosity=0)
    unit = tree.tyt_a1
    village = Village.objects.create(pk=4321, commune=unit.admin_unit, code="T6", name="Nà Pài", kind="thon")
    people = {
        "collector": make_user("collector", unit),
        "leader": make_user("leader", unit),
        "reporter": make_user("reporter", tree.ttyt_a),
        "auditor": make_user("auditor", tree.doh_a),
        "unit_admin": make_user("unit_admin", tree.doh_a),
        "viewer": make_user("viewer", unit),
    }
    data = {
        "full_name": "Lò Thị Mai",
        "date_of_birth": "05/03/2019",
        "sex": "F",
        "ethnicity_code": "08",
        "village": str(village.pk),
        "mother_name": "Lò Thị Hoa",
        "mother_dob": "14/07/1994",
        "circumstances": [{"group_code": "G06", "start_date": "01/02/2024", "end_date": ""}],
    }
    created = child_propose_create(
        actor=people["collector"], unit=unit, data=data, reason="Sổ theo dõi", acknowledge_warnings=True
    )
    child = change_request_approve(actor=people["leader"], request=created).child
    assert child is not None
    token = set_meta(RequestMeta(step_up_at=timezone.now()))
    try:
        pending = child_propose_change(
            actor=people["collector"],
            child=child,
            changes={"sex": "M", "mother_dob": "15/07/1994"},
            reason="Sửa theo giấy khai sinh",
            acknowledge_warnings=True,
        )
    finally:
        reset_meta(token)
    return World(child=child, request=pending, village=village, people=people)


def _pages(w: World) -> list[tuple[str, str, dict[str, re.Pattern[str]]]]:
    """(role, url, page-specific patterns) for the main pages of each role."""
    cid, rid = w.child.public_id, w.request.public_id
    today = date.today().strftime("%d/%m/%Y")
    in_cell = {
        "sex code": re.compile(r"<td>\s*[MF]\s*</td>"),
        "ethnicity code": re.compile(r"<td>\s*08\s*</td>"),
        "village id": re.compile(rf"<td>\s*{w.village.pk}\s*</td>"),
        "circumstance code": re.compile(r"\bG06\b"),
    }
    diff = {"sex code": re.compile(r"<(del|ins)>\s*[MF]\s*</(del|ins)>")}
    return [
        ("collector", "/", {}),
        ("collector", "/children/", in_cell),
        ("collector", f"/children/{cid}/", in_cell),
        ("collector", f"/children/{cid}/?as_of={today}", in_cell),
        ("collector", "/children/requests/", {}),
        ("collector", "/children/new/", {}),
        ("collector", "/registers/", {}),
        ("collector", "/reports/", {}),
        ("collector", "/quality/", {}),
        ("leader", "/", {}),
        ("leader", "/children/requests/", {}),
        ("leader", f"/children/requests/{rid}/", {**in_cell, **diff}),
        ("leader", "/children/review/", in_cell),
        ("leader", "/reports/", {}),
        ("reporter", "/reports/", {}),
        ("reporter", "/registers/", {}),
        ("auditor", "/quality/audits/", {}),
        ("auditor", "/audit/", {}),
        ("unit_admin", "/accounts/users/", {}),
        ("unit_admin", "/units/", {}),
        ("viewer", "/reports/", {}),
    ]


def test_main_pages_show_words_and_dd_mm_yyyy_never_codes_or_iso_dates(world):
    failures = []
    for role, url, own in _pages(world):
        client = Client()
        client.force_login(world.people[role])
        response = client.get(url)
        assert response.status_code == 200, f"{role} {url}: {response.status_code}"
        html = response.content.decode()
        text = readable(html)
        for what, pattern in GENERIC.items():
            if m := pattern.search(text):
                failures.append(
                    f"{role} {url}: {what} {m.group(0)!r} in …{text[max(0, m.start() - 60) : m.end() + 40]}…"
                )
        for what, pattern in own.items():
            if m := pattern.search(html):
                failures.append(f"{role} {url}: {what} {m.group(0)!r}")
    assert not failures, "\n".join(failures)


def test_the_child_record_reads_in_words(world):
    # given the leader opening the child's record
    client = Client()
    client.force_login(world.people["leader"])
    text = readable(client.get(f"/children/{world.child.public_id}/").content.decode())
    # then sex, ethnicity, village and the circumstance group with its date are words and dd/mm/yyyy
    assert "Nữ" in text
    assert "H'Mông" in text  # ethnic group 08 (QĐ 121)
    assert "Thôn Nà Pài" in text
    assert "Trẻ em vi phạm pháp luật (từ 01/02/2024)" in text
    assert "14/07/1994" in text


def test_the_reader_ignores_attributes_but_reads_inputs():
    html = '<head><title>2026-01-01</title></head><time datetime="2026-01-01">01/01/2026</time><input value="2026-02-03">'
    assert readable(html) == "01/01/2026 2026-02-03"


# --- the whole class: no stored choice code as a word on any page that shows coded data (issue 13 item 2) ----

WORDLIKE_CODE = re.compile(r"^[a-z][a-z0-9_]{2,}$")


def _choice_codes() -> set[str]:
    """Every stored choice value of the project's models that looks like a word ("submitted", "at_facility",
    "open", "caesarean"…): on a page such a token is a code that escaped its label."""
    from django.apps import apps

    codes: set[str] = set()
    words_of_labels: set[str] = set()  # "web" is a code and also a word of "Nhập trên web"
    for model in apps.get_models():
        if model.__module__.startswith("mchis."):
            for f in model._meta.get_fields():
                for value, label in getattr(f, "flatchoices", None) or ():
                    words_of_labels |= set(re.findall(r"\w+", str(label)))
                    if isinstance(value, str) and WORDLIKE_CODE.match(value):
                        codes.add(value)
    return codes - words_of_labels


@pytest.fixture
def coded_data(world, tree, make_user):
    """Rows whose coded fields are all set: registers, a returned report with its timeline, findings, an
    audit campaign with its sample."""
    from mchis.accounts.testing import stepped_up
    from mchis.quality import services as quality
    from mchis.registers import models as R
    from mchis.reports import services as reports

    unit = tree.tyt_a1
    day = date(2026, 1, 9)
    month = day.replace(day=1)
    common = {"facility": unit, "event_date": day, "month": month}
    R.AncVisit.objects.create(**common, source_record_id="w1", full_name="Lò Thị Dung", place="outside",
                              hiv_result="negative", syphilis_result="positive", hepb_result="negative")  # fmt: skip
    d = R.Delivery.objects.create(**common, source_record_id="w2", full_name="Lò Thị Hoa",
                                  delivery_mode="caesarean", attendant="village_midwife", place="other_facility")  # fmt: skip
    R.Newborn.objects.create(
        delivery=d, facility=unit, month=month, event_date=day, outcome="stillbirth", sex="F"
    )
    R.Abortion.objects.create(**common, source_record_id="w3", full_name="Hà Thị Nga", gestational_band="w8_12",
                              gestational_age_weeks=10, method="medical")  # fmt: skip
    R.GynExam.objects.create(**common, source_record_id="w4", full_name="Vi Thị Lan", purpose="screening",
                             via_result="suspect_cancer")  # fmt: skip
    reports.forms_load(actor=None, paths=reports.shipped_form_files())
    commune_reporter = make_user("reporter", unit)
    reports.report_set_manual_values(actor=commune_reporter, form_code="BCX3", unit_code=unit.code,
                                     period="2026-01", values={"I.1:total": 1, "I.1.1:total": 0})  # fmt: skip
    reports.report_submit(actor=commune_reporter, form_code="BCX3", unit_code=unit.code, period="2026-01",
                          warning_comment="Đã kiểm tra")  # fmt: skip
    reports.report_return(actor=make_user("leader", tree.ttyt_a), form_code="BCX3", unit_code=unit.code,
                          period="2026-01", reason="Thiếu số đẻ tại nhà")  # fmt: skip
    with stepped_up():
        campaign = quality.campaign_create(
            actor=world.people["auditor"], audited_unit=unit, minimum_sample=30
        )
        quality.campaign_draw_sample(actor=world.people["auditor"], campaign=campaign)
    call_command("dq_scan", verbosity=0)
    return world


def _coded_pages(w: World, tree) -> list[tuple[str, str]]:
    from mchis.quality.models import AuditCampaign

    unit = tree.tyt_a1
    campaign = AuditCampaign.objects.get()
    pages = [
        ("collector", f"/registers/{key}/?month=2026-01")
        for key in ("anc", "delivery", "abortion", "gyn", "death")
    ]
    pages += [
        ("leader", "/registers/sync/"),
        ("leader", "/quality/"),
        ("leader", "/quality/findings/"),
        ("leader", "/quality/duplicates/"),
        ("auditor", "/quality/audits/"),
        ("auditor", f"/quality/audits/{campaign.pk}/"),
        ("leader", f"/reports/BCX3/{unit.code}/2026-01/"),
        ("reporter", "/reports/"),
        ("auditor", "/audit/"),
    ]
    return pages


def test_no_page_with_coded_data_shows_a_stored_choice_code(coded_data, tree):
    codes = _choice_codes()
    assert {"submitted", "at_facility", "caesarean", "village_midwife"} <= codes
    token = re.compile(r"(?<![\w/.:=-])([a-z][a-z0-9_]{2,})(?![\w/.:=-])")
    failures = []
    for role, url in _coded_pages(coded_data, tree):
        client = Client()
        client.force_login(coded_data.people[role])
        response = client.get(url)
        assert response.status_code == 200, f"{role} {url}: {response.status_code}"
        text = readable(response.content.decode())
        failures += [
            f"{role} {url}: {m.group(1)!r} in …{text[max(0, m.start() - 50) : m.end() + 30]}…"
            for m in token.finditer(text)
            if m.group(1) in codes
        ]
    assert not failures, "\n".join(failures)
