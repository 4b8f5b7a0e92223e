"""Phúc tra in fewer clicks (R-DQ-04/07): "all fields match" per record and straight on to the next, the list
shows which records mismatched, the audit log records a match as a match, the minutes keep the signature block
with the closing text, name people, state the typed deadline and never double a task's text."""

from __future__ import annotations

import shutil
import subprocess
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from mchis.core.models import AuditEvent
from mchis.quality import services
from mchis.quality.models import AuditFieldResult
from mchis.quality.tests.test_audits import _children, _run_campaign
from mchis.quality.tests.test_audits import province_auditor as province_auditor
from mchis.quality.tests.test_audits import step_up as step_up

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_login_2fa(settings):
    settings.ROLES_REQUIRING_2FA = []


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_r_dq_04_all_fields_match_saves_and_goes_to_the_next_record(child, tree, province_auditor):
    _children(child, tree, {"T1": 3})
    c = services.campaign_create(actor=province_auditor, audited_unit=tree.tyt_a1, minimum_sample=30)
    services.campaign_draw_sample(actor=province_auditor, campaign=c)
    first, second = list(c.samples.order_by("stratum", "id"))[:2]
    client = _client(province_auditor)
    page = client.get(f"/quality/audits/{c.pk}/samples/{first.pk}/").content.decode()
    assert 'data-key="a"' in page and 'rel="next"' in page and "quality/sample.js" in page
    # one click: every field recorded as matching, and on to the next record
    response = client.post(f"/quality/audits/{c.pk}/samples/{first.pk}/", {"all_match": "1"})
    assert response.status_code == 302 and response["Location"].endswith(f"/samples/{second.pk}/")
    assert set(AuditFieldResult.objects.filter(sample=first).values_list("matches", flat=True)) == {True}
    assert AuditFieldResult.objects.filter(sample=first).count() == len(services.AUDIT_FIELDS)


def test_r_dq_04_audit_log_shows_a_match_as_a_match(child, tree, province_auditor):
    c, kid = _run_campaign(child, tree, province_auditor)
    sample = c.samples.get(child=kid)
    event = AuditEvent.objects.filter(action="audit_sample.record", object_id=str(sample.pk)).get()
    assert "Giới tính" in event.changes["khớp"][1], "matching fields are listed as matching"
    assert event.changes["full_name"] == [kid.full_name, "Đặng Thị Ngọc Ánh Hồng"]
    assert "sex" not in event.changes, "a matching field is not logged as a value removed"
    assert all(pair[1] is not None for key, pair in event.changes.items() if key not in ("is_junk",))


def test_r_dq_04_campaign_list_names_the_mismatched_fields(child, tree, province_auditor):
    c, kid = _run_campaign(child, tree, province_auditor)
    html = _client(province_auditor).get(f"/quality/audits/{c.pk}/").content.decode()
    assert "Không khớp: Họ và tên, Ngày sinh" in html
    assert "Khớp tất cả" in html


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) missing")
def test_r_dq_07_minutes_state_the_deadline_name_people_and_keep_the_signatures_with_the_text(
    child, tree, province_auditor, step_up, tmp_path
):
    province_auditor.first_name, province_auditor.last_name = "Lan", "Nguyễn Thị"
    province_auditor.save(update_fields=["first_name", "last_name"])
    c, kid = _run_campaign(child, tree, province_auditor)
    deadline = timezone.localdate() + timedelta(days=10)
    services.campaign_close(actor=province_auditor, campaign=c, corrective_actions="Rà soát lại sổ thôn T1.",
                            fix_deadline=deadline.strftime("%d/%m/%Y"))  # fmt: skip
    c = services.campaign_sign(actor=province_auditor, campaign=c)
    pdf = tmp_path / "m.pdf"
    pdf.write_bytes(bytes(c.minutes_pdf or b""))
    pages = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode()
    text = " ".join(pages.split())
    assert f"ngày {deadline:%d/%m/%Y}" in text
    assert "Nguyễn Thị Lan" in text, "people by name"
    assert "Sửa trong 24 giờ: Sửa trong 24 giờ" not in text and "Sửa trong 24 giờ" in text, "no doubled text"
    assert "T1" in text and "-03-" not in text, "dates as dd/mm/yyyy"
    # the closing text and both signature headings are on the same page
    last = pages.split("\f")
    page_of = {key: next(i for i, p in enumerate(last) if key in p) for key in
               ("Rà soát lại sổ thôn T1.", "TRƯỞNG ĐOÀN PHÚC TRA", "ĐẠI DIỆN ĐƠN VỊ ĐƯỢC PHÚC TRA")}  # fmt: skip
    assert len(set(page_of.values())) == 1, page_of


def test_r_dq_07_a_past_deadline_is_refused(child, tree, province_auditor):
    c, _ = _run_campaign(child, tree, province_auditor)
    with pytest.raises(Exception, match="Hạn khắc phục: không được trước"):
        services.campaign_close(actor=province_auditor, campaign=c, fix_deadline="01/01/2020")


def test_r_dq_07_minutes_read_in_words_without_the_seed_or_internal_codes(child, tree, province_auditor):
    # given a sampled child whose ethnic group and circumstance group did not match the paper
    from html import unescape

    from django.core.management import call_command

    from mchis.quality.minutes import render_minutes_html
    from mchis.registry.models import CircumstanceMembership

    call_command("load_catalogs", verbosity=0)
    kid = child(full_name="Lò Văn Páo", ethnicity_code="08")
    CircumstanceMembership.objects.create(child=kid, group_code="G06", start_date="2024-02-01")
    c = services.campaign_create(
        actor=province_auditor, audited_unit=tree.tyt_a1, minimum_sample=30, seed=4242
    )
    services.campaign_draw_sample(actor=province_auditor, campaign=c)
    sample = c.samples.get(child=kid)
    wrong = {"matches": False, "observed_value": "Kinh", "cause": "entry_error", "error_class": "technical"}
    services.sample_record_result(
        actor=province_auditor,
        sample=sample,
        results=[{"field": "ethnicity_code", **wrong}, {"field": "circumstances", **wrong}],
    )
    # when the minutes are rendered
    html = unescape(render_minutes_html(c))
    # then the system's values are words with dd/mm/yyyy, and no seed, unit code or catalog code is printed
    assert "H'Mông" in html and "(từ 01/02/2024)" in html
    assert "4242" not in html and "tái lập" not in html
    assert tree.tyt_a1.code not in html
    assert ">08<" not in html and "G06" not in html
