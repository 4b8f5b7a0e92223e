"""Publish / revise / unpublish, the approved-only rule, who may publish, and figures following approvals."""

from __future__ import annotations

from decimal import Decimal

import pytest

from mchis.core.errors import Conflict, DomainError, PermissionDeniedError
from mchis.core.models import AuditEvent
from mchis.portal import services
from mchis.portal.models import PublicationStatus, PublishedFigure
from mchis.portal.public import selectors as public

from .conftest import publish

D, ANC4 = "AN.DLV:total", "AN.DLV_ANC4:total"


def fig(statistic: str, period: str, area: str) -> PublishedFigure:
    return PublishedFigure.objects.get(statistic=statistic, period=period, area_code=area)


def test_only_approved_reports_are_published(tree, report, ministry_leader):
    report(tree.tyt_a1, "2026-01", {D: 30, ANC4: 21})
    report(tree.tyt_a2, "2026-01", {D: 500, ANC4: 400}, status="submitted")  # not approved: never counted
    report(tree.tyt_b1, "2026-01", {D: 900}, status="draft")
    report(tree.tyt_b1, "2026-02", {D: 25, ANC4: 5})
    publish(ministry_leader, ["2026-01", "2026-02"])
    assert fig("deliveries", "2026-01", "VN").value == 30
    assert fig("deliveries", "2026-01", "08").value == 30
    assert fig("deliveries", "2026-01", "08").reports_approved == 1
    assert fig("deliveries", "2026-01", "08").reports_expected == 2
    assert fig("anc4", "2026-01", "08").value == Decimal("70.0")
    assert not PublishedFigure.objects.filter(
        area_code="04", period="2026-01"
    ).exists()  # nothing approved in B
    assert fig("deliveries", "2026-02", "04").value == 25
    assert fig("deliveries", "2026", "VN").value == 55 and fig("deliveries", "2026", "VN").months == 2


def test_nothing_approved_nothing_published(tree, report, ministry_leader):
    report(tree.tyt_a1, "2026-01", {D: 30}, status="submitted")
    with pytest.raises(DomainError, match="Chưa có báo cáo nào được duyệt"):
        publish(ministry_leader, ["2026-01"])


def test_who_may_publish(tree, report, make_user, ministry_leader, province_leader):
    report(tree.tyt_a1, "2026-01", {D: 30})
    report(tree.tyt_b1, "2026-01", {D: 40})
    for who in (make_user("leader", tree.ttyt_a), make_user("reporter", tree.doh_a)):
        with pytest.raises(PermissionDeniedError, match="không có quyền|Chỉ Bộ Y tế"):
            publish(who, ["2026-01"])
    with pytest.raises(DomainError, match="Không được công bố ở cấp: national"):
        publish(province_leader, ["2026-01"])
    publication = publish(province_leader, ["2026-01"], levels=["province", "district"])
    areas = set(publication.figures.values_list("area_code", flat=True))
    assert "08" in areas and "04" not in areas and "VN" not in areas  # its own province only
    with pytest.raises(
        Conflict, match="đã được công bố"
    ):  # the Ministry cannot publish the same figures twice
        publish(ministry_leader, ["2026-01"])


def test_bad_input_is_refused_with_a_clear_message(tree, report, ministry_leader):
    report(tree.tyt_a1, "2026-01", {D: 30})
    with pytest.raises(DomainError, match="Chỉ tiêu không có trong danh mục: nope"):
        publish(ministry_leader, ["2026-01"], statistics=["nope"])
    with pytest.raises(DomainError, match="chưa kết thúc"):
        publish(ministry_leader, ["2099-01"])
    with pytest.raises(DomainError, match="không hợp lệ"):
        publish(ministry_leader, ["2026-13"])
    with pytest.raises(DomainError, match="Không được công bố ở cấp: commune"):
        publish(ministry_leader, ["2026-01"], levels=["commune"])
    assert not PublishedFigure.objects.exists()


def test_publish_revise_unpublish_are_audited_and_revisions_dated(tree, report, ministry_leader):
    report(tree.tyt_a1, "2026-01", {D: 30, ANC4: 21})
    publication = publish(ministry_leader, ["2026-01"])
    assert AuditEvent.objects.filter(action="portal.publish", object_id=str(publication.pk)).exists()
    report(tree.tyt_a1, "2026-01", {D: 32, ANC4: 21})  # corrected and approved again
    report(tree.tyt_b1, "2026-01", {D: 10, ANC4: 8})
    services.publication_revise(actor=ministry_leader, publication_id=publication.pk)
    f = fig("deliveries", "2026-01", "VN")
    assert f.value == 42 and f.previous_value == 30 and f.revised_on is not None
    assert fig("deliveries", "2026-01", "04").revised_on is None  # new, not revised
    assert AuditEvent.objects.filter(action="portal.revise").exists()
    assert [x.value for x in public.series("deliveries", "VN")] == [42]
    with pytest.raises(DomainError, match="lý do"):
        services.publication_unpublish(actor=ministry_leader, publication_id=publication.pk, reason=" ")
    services.publication_unpublish(actor=ministry_leader, publication_id=publication.pk, reason="Sai nguồn")
    publication.refresh_from_db()
    assert publication.status == PublicationStatus.WITHDRAWN
    assert public.series("deliveries", "VN") == [] and public.statistics() == []
    assert AuditEvent.objects.filter(action="portal.unpublish", reason="Sai nguồn").exists()


def test_r_an_03_unapproval_marks_review_and_reapproval_revises(
    tree, forms, make_user, django_capture_on_commit_callbacks
):
    """The real workflow: a published figure whose report is un-approved is shown under review; the report
    approved again with another value makes the figure a revision with its date and previous value."""
    from datetime import date

    from mchis.accounts.testing import stepped_up
    from mchis.registers.models import Delivery
    from mchis.reports import services as reports
    from mchis.reports.tests.registerdata import submit

    reporter = make_user("reporter", tree.tyt_a1)
    approver = make_user("leader", tree.ttyt_a)
    for i in range(6):
        Delivery.objects.create(
            facility=tree.tyt_a1,
            event_date=date(2026, 1, 9),
            month=date(2026, 1, 1),
            source_record_id=f"p{i}",
        )
    args = {"form_code": "BCX3", "unit_code": tree.tyt_a1.code, "period": "2026-01"}
    with stepped_up(), django_capture_on_commit_callbacks(execute=True):
        submit(actor=reporter, warning_comment="kiểm tra", **args)
        reports.report_approve(actor=approver, **args)
    publish(make_user("leader", tree.ministry_dept), ["2026-01"], statistics=["deliveries"])
    assert fig("deliveries", "2026-01", "08").value == 6
    with stepped_up(), django_capture_on_commit_callbacks(execute=True):
        reports.report_request_unapproval(actor=reporter, reason="Thiếu một ca đẻ", **args)
        reports.report_unapprove(actor=approver, reason="Thiếu một ca đẻ", **args)
    f = fig("deliveries", "2026-01", "08")
    assert f.under_review_since is not None and f.value == 6
    assert fig("deliveries", "2026", "VN").under_review_since is not None
    Delivery.objects.create(
        facility=tree.tyt_a1, event_date=date(2026, 1, 20), month=date(2026, 1, 1), source_record_id="p9"
    )
    with stepped_up(), django_capture_on_commit_callbacks(execute=True):
        submit(actor=reporter, warning_comment="kiểm tra", **args)
        reports.report_approve(actor=approver, **args)
    f = fig("deliveries", "2026-01", "08")
    assert (f.value, f.previous_value, f.under_review_since) == (7, 6, None)
    assert f.revised_on is not None
    assert AuditEvent.objects.filter(action="portal.follow_unapprove").exists()
    assert AuditEvent.objects.filter(action="portal.follow_approve").exists()


def test_publishing_page(tree, report, make_user, ministry_leader, client):
    report(tree.tyt_a1, "2026-01", {D: 30, ANC4: 21})
    client.force_login(ministry_leader)
    assert "Đợt công bố mới" in client.get("/portal/").content.decode()
    form = {"title": "Tháng 1", "statistics": ["deliveries"], "levels": ["national"], "start": "2026-01"}
    response = client.post("/portal/publish/", {**form, "end": "2025-12"}, follow=True)
    assert "Tháng kết thúc phải sau tháng bắt đầu" in response.content.decode()
    response = client.post("/portal/publish/", {**form, "end": "2026-01"}, follow=True)
    assert "Đã công bố «Tháng 1»" in response.content.decode()
    publication = PublishedFigure.objects.get(
        statistic="deliveries", period="2026-01", area_code="VN"
    ).publication
    response = client.post(f"/portal/{publication.pk}/unpublish/", {"reason": ""}, follow=True)
    assert "Vui lòng nhập lý do" in response.content.decode()
    station = make_user("leader", tree.tyt_a1)
    client.force_login(station)
    assert "Chỉ lãnh đạo của Bộ Y tế" in client.get("/portal/").content.decode()
    assert client.post("/portal/publish/", {**form, "end": "2026-01"}).status_code == 403
    assert client.post(f"/portal/{publication.pk}/revise/").status_code in (403, 404)
