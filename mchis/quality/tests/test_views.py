"""UI end to end through the Django test client: campaign create → sample → record → close → sign → PDF
(R-DQ-04..08), the dashboard/chart JSON (R-DQ-01), the scan report and its audited Excel export (R-DQ-03),
and scoping (another province sees 404)."""

from __future__ import annotations

import io
import time
from datetime import date

import pytest
from django.test import Client

from mchis.accounts.middleware import STEP_UP_KEY
from mchis.accounts.testing import enrol_totp
from mchis.core.models import AuditEvent
from mchis.quality import engine
from mchis.quality.models import AuditCampaign, CampaignStatus, DuplicateCandidate
from mchis.quality.services import duplicate_candidates_store

pytestmark = pytest.mark.django_db


def login(user, *, step_up: bool = False) -> Client:
    client = Client()
    client.force_login(user)
    device, _ = enrol_totp(user)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    if step_up:
        session[STEP_UP_KEY] = time.time()
    session.save()
    return client


def test_r_dq_08_campaign_end_to_end_in_the_ui(child, tree, make_user):
    for _ in range(5):
        child()
    kid = child(full_name="Phạm Thị Thùy Dương")
    auditor = make_user("auditor", tree.doh_a)
    web = login(auditor)
    page = web.get("/quality/audits/")
    assert page.status_code == 200 and "Trạm Y tế phường Minh Xuân" in page.content.decode()
    r = web.post(
        "/quality/audits/",
        {"audited_unit": tree.tyt_a1.pk, "kind": "desk", "sample_rate": "5", "minimum_sample": "30"},
    )
    assert r.status_code == 302
    c = AuditCampaign.objects.get()
    assert web.post(f"/quality/audits/{c.pk}/sample/").status_code == 302
    assert c.samples.count() == 6
    for s in c.samples.all():
        form = {f"{f}__matches": "1" for f in ("full_name", "date_of_birth", "sex")}
        if s.child_id == kid.pk:
            form |= {"full_name__matches": "0", "full_name__observed": "Phạm Thị Thùy Dung"}
            bad = web.post(f"/quality/audits/{c.pk}/samples/{s.pk}/", form)
            assert "Họ và tên: chọn nguyên nhân sai lệch." in bad.content.decode()
            form |= {"full_name__cause": "entry_error", "full_name__class": "technical"}
        assert web.post(f"/quality/audits/{c.pk}/samples/{s.pk}/", form).status_code == 302
    assert (
        web.post(f"/quality/audits/{c.pk}/close/", {"corrective_actions": "Tập huấn lại."}).status_code == 302
    )
    # signing without a fresh OTP check is refused (step-up)
    web.post(f"/quality/audits/{c.pk}/sign/")
    assert AuditCampaign.objects.get(pk=c.pk).status == CampaignStatus.CLOSED
    session = web.session
    session[STEP_UP_KEY] = time.time()
    session.save()
    assert web.post(f"/quality/audits/{c.pk}/sign/").status_code == 302
    c.refresh_from_db()
    assert c.status == CampaignStatus.SIGNED
    pdf = web.get(f"/quality/audits/{c.pk}/minutes.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content == bytes(c.minutes_pdf or b"")
    detail = web.get(f"/quality/audits/{c.pk}/").content.decode()
    # the signed minutes are a download; their checksum stays in the audit log, not on the page (issue 13)
    assert (
        'id="minutes-link"' in detail and "Phạm Thị Thùy Dương" in detail and c.minutes_sha256 not in detail
    )
    # another province's auditor: 404, not 403
    other = login(make_user("auditor", tree.doh_b))
    assert other.get(f"/quality/audits/{c.pk}/").status_code == 404
    assert other.get(f"/quality/audits/{c.pk}/minutes.pdf").status_code == 404


def test_r_dq_01_dashboard_scores_and_trend_json(child, tree, make_user):
    child(sex="")
    child()
    engine.scan_run()
    leader = make_user("leader", tree.tyt_a1)
    web = login(leader)
    page = web.get("/quality/").content.decode()
    assert "Trạm Y tế phường Minh Xuân" in page and "50,0" in page and "data-dq-chart" in page
    data = web.get(f"/quality/scores.json?unit={tree.tyt_a1.pk}").json()
    assert data["months"] and {s["name"] for s in data["series"]} == {
        "Đúng",
        "Đủ",
        "Sạch",
        "Sống",
        "Thống nhất",
        "Dùng chung",
    }
    du = next(s for s in data["series"] if s["criterion"] == "du")
    assert du["data"][-1] == 50.0
    assert (
        login(make_user("leader", tree.tyt_b1)).get(f"/quality/scores.json?unit={tree.tyt_a1.pk}").status_code
        == 404
    )
    findings = web.get(f"/quality/findings/?unit={tree.tyt_a1.pk}&rule=DQ_MISSING").content.decode()
    assert "Thiếu trường bắt buộc: Giới tính." in findings


def test_r_dq_03_scan_report_page_and_excel_export_is_audited(child, tree, make_user):
    from openpyxl import load_workbook

    a = child(sex="", date_of_birth=date(2009, 1, 1))
    b = child(full_name=a.full_name)
    duplicate_candidates_store(actor=None, pairs=[(a.pk, b.pk, 0.97, a.unit_id)])
    engine.scan_run()
    web = login(make_user("leader", tree.tyt_a1))
    page = web.get(f"/quality/report/?unit={tree.tyt_a1.pk}").content.decode()
    assert "Nghi trùng hồ sơ" in page and "Thiếu trường bắt buộc" in page and "Dữ liệu không logic" in page
    before = AuditEvent.objects.filter(object_type="quality_scan_report.xlsx").count()
    resp = web.get(f"/quality/report.xlsx?unit={tree.tyt_a1.pk}")
    wb = load_workbook(io.BytesIO(resp.content))
    summary = {row[0]: row[1] for row in wb["Tổng hợp"].iter_rows(min_row=2, values_only=True)}
    assert summary["Nghi trùng hồ sơ"] == 1 and summary["Thiếu trường bắt buộc"] >= 1
    assert AuditEvent.objects.filter(object_type="quality_scan_report.xlsx").count() == before + 1


def test_r_dq_02_review_queue_not_duplicate_via_ui(child, tree, make_user):
    a = child(full_name="Vũ Minh Khang")
    b = child(full_name="Võ Minh Khang")
    duplicate_candidates_store(actor=None, pairs=[(a.pk, b.pk, 0.95, a.unit_id)])
    cand = DuplicateCandidate.objects.get()
    web = login(make_user("leader", tree.tyt_a1))
    assert "Võ Minh Khang" in web.get("/quality/duplicates/").content.decode()
    web.post(f"/quality/duplicates/{cand.pk}/reject/", {"reason": "Hai trẻ khác nhau"})
    cand.refresh_from_db()
    assert cand.status == "not_duplicate"
    assert "Võ Minh Khang" not in web.get("/quality/duplicates/").content.decode()


def test_r_dq_02_api_check_child_returns_warnings_and_candidates(child, tree, make_user):
    existing = child(
        full_name="Hoàng Thị Ngọc Ánh", date_of_birth=date(2019, 3, 7), sex="F", mother_name="Nguyễn Thị Hạnh"
    )
    web = login(make_user("collector", tree.tyt_a1))
    resp = web.post("/api/v1/quality/check-child", {"full_name": "Huỳnh Thi Ngoc Anh", "date_of_birth": "2019-03-07",
                    "sex": "F", "mother_name": "Nguyễn Thị Hạnh", "village_id": child.village.pk}, content_type="application/json")  # fmt: skip
    assert resp.status_code == 200, resp.content
    body = resp.json()
    assert body["possible_duplicates"][0]["child_id"] == str(existing.public_id)
    assert any(f["field"] == "ethnicity_code" for f in body["findings"])


def test_r_dq_02_entry_form_fragment_shows_candidates_and_warnings(child, tree, make_user):
    child(
        full_name="Hoàng Thị Ngọc Ánh", date_of_birth=date(2019, 3, 7), sex="F", mother_name="Nguyễn Thị Hạnh"
    )
    web = login(make_user("collector", tree.tyt_a1))
    html = web.get("/quality/check-child/", {"full_name": "Hoang Thi Ngoc Anh", "date_of_birth": "2019-07-03", "sex": "F",
                   "mother_name": "Nguyễn Thị Hạnh", "village": child.village.pk}).content.decode()  # fmt: skip
    assert "Trẻ này có thể đã có trong hệ thống" in html and "Hoàng Thị Ngọc Ánh" in html
    assert "Thiếu trường bắt buộc: Dân tộc." in html


def test_r_dq_07_home_card_counts_overdue_corrective_tasks(child, tree, make_user):
    from datetime import timedelta

    from django.utils import timezone

    from mchis.quality.home import quality_cards
    from mchis.quality.models import AuditCampaign, AuditSample, CorrectiveTask

    kid = child()
    auditor = make_user("auditor", tree.doh_a)
    c = AuditCampaign.objects.create(code="PT-X", audited_unit=tree.tyt_a1, auditor_unit=tree.doh_a, seed=1,
                                     created_by=auditor, started_on=date(2026, 1, 1), status="closed")  # fmt: skip
    s = AuditSample.objects.create(campaign=c, child=kid, stratum="-", checked=True)
    CorrectiveTask.objects.create(campaign=c, sample=s, child=kid, unit=tree.tyt_a1, kind="fix", description="x",
                                  due_at=timezone.now() - timedelta(hours=2))  # fmt: skip
    leader = make_user("leader", tree.tyt_a1)
    cards = {card.title: card.value for card in quality_cards(leader)}
    assert cards["Nhiệm vụ khắc phục quá hạn"] == 1
    assert quality_cards(make_user("leader", tree.tyt_b1))[0].value == 0
    page = login(leader).get("/quality/tasks/").content.decode()
    assert "QUÁ HẠN" in page


# --- the entry-time check answers within the collector's own area (issue 10 item 7) ------------------------


def test_r_sec_01_entry_check_shows_no_details_of_another_communes_child(child, tree, make_user):
    # given a child of commune A2 (same province, another commune) matching the draft exactly
    other = child(unit=tree.tyt_a2, commune=tree.commune_a2, full_name="Hoàng Thị Ngọc Ánh",
                  date_of_birth=date(2019, 3, 7), sex="F", mother_name="Nguyễn Thị Hạnh", personal_id="008319777777")  # fmt: skip
    web = login(make_user("collector", tree.tyt_a1))
    draft = {"full_name": "Hoàng Thị Ngọc Ánh", "date_of_birth": "2019-03-07", "sex": "F",
             "mother_name": "Nguyễn Thị Hạnh"}  # fmt: skip
    # when the collector of commune A1 checks it in the entry form and through the API
    html = web.get("/quality/check-child/", draft).content.decode()
    body = web.post("/api/v1/quality/check-child", draft, content_type="application/json").json()
    # then nothing personal of the other commune's child comes back, only the notice to ask the district
    notice = "có thể có hồ sơ trùng ở xã khác — hãy liên hệ tuyến huyện"
    for text in (html, str(body)):
        assert (
            str(other.public_id) not in text and tree.tyt_a2.name not in text and "008319777777" not in text
        )
    assert notice in html.lower()
    assert body["possible_duplicates"] == [] and body["match_elsewhere"] is True
    assert notice in body["notice"].lower()


def test_r_sec_01_entry_check_shows_own_communes_child_in_full(child, tree, make_user):
    mine = child(full_name="Hoàng Thị Ngọc Ánh", date_of_birth=date(2019, 3, 7), sex="F",
                 mother_name="Nguyễn Thị Hạnh")  # fmt: skip
    web = login(make_user("collector", tree.tyt_a1))
    body = web.post("/api/v1/quality/check-child", {"full_name": "Hoàng Thị Ngọc Ánh", "date_of_birth": "2019-03-07",
                    "sex": "F", "mother_name": "Nguyễn Thị Hạnh"}, content_type="application/json").json()  # fmt: skip
    assert [c["child_id"] for c in body["possible_duplicates"]] == [str(mine.public_id)]
    assert body["match_elsewhere"] is False and body["notice"] == ""
