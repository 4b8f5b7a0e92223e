"""Audit campaigns (phúc tra): R-DQ-04 sampling, R-DQ-05 field audit, R-DQ-06 levels, R-DQ-07 minutes and
corrective tasks, R-DQ-08 immutability after signing."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from datetime import timedelta

import pytest
from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone

from mchis.core.context import RequestMeta, reset_meta, set_meta
from mchis.core.errors import Conflict, DomainError, PermissionDeniedError, StepUpRequired, ValidationFailed
from mchis.places.models import Village
from mchis.quality import services
from mchis.quality.models import (
    AuditCampaign,
    AuditFieldResult,
    AuditSample,
    CampaignStatus,
    CorrectiveTask,
    TaskKind,
)
from mchis.units.models import UnitKind
from mchis.units.services import unit_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def step_up():
    token = set_meta(RequestMeta(step_up_at=timezone.now()))
    yield
    reset_meta(token)


@pytest.fixture
def province_auditor(tree, make_user):
    return make_user("auditor", tree.doh_a)


def _children(child, tree, n_by_village: dict[str, int]) -> None:
    for code, n in n_by_village.items():
        v, _ = Village.objects.get_or_create(
            commune=tree.commune_a1, code=code, defaults={"name": f"Thôn {code}"}
        )
        for _ in range(n):
            child(village=v)


def test_r_dq_06_who_may_audit_whom(tree, make_user):
    cp = unit_create(actor=None, code="BTTE08", name="Cơ sở bảo trợ trẻ em", kind=UnitKind.CHILD_PROTECTION,
                     admin_unit=tree.province_a, parent=tree.doh_a)  # fmt: skip
    ubnd = unit_create(actor=None, code="UBND02269", name="UBND phường Minh Xuân", kind=UnitKind.COMMUNE_COMMITTEE,
                       admin_unit=tree.commune_a1, parent=tree.doh_a)  # fmt: skip
    assert services.can_audit(tree.ministry_dept, tree.doh_a)
    assert not services.can_audit(tree.ministry_dept, tree.tyt_a1)
    assert services.can_audit(tree.doh_a, tree.tyt_a1) and services.can_audit(tree.doh_a, cp)
    assert not services.can_audit(tree.doh_a, tree.tyt_b1)  # another province
    assert not services.can_audit(tree.doh_a, tree.doh_b)
    assert services.can_audit(ubnd, ubnd) and services.can_audit(ubnd, tree.tyt_a1)
    assert not services.can_audit(ubnd, tree.tyt_a2)
    assert not services.can_audit(tree.tyt_a1, tree.tyt_a1)
    with pytest.raises(
        PermissionDeniedError,
        match=r"Đơn vị của bạn không có thẩm quyền phúc tra đơn vị này \(Điều 15\.2\)\.",
    ):
        services.campaign_create(actor=make_user("auditor", tree.doh_b), audited_unit=tree.tyt_a1)
    with pytest.raises(PermissionDeniedError, match=r"Bạn không có quyền thực hiện thao tác này\."):
        services.campaign_create(actor=make_user("leader", tree.doh_a), audited_unit=tree.tyt_a1)


def test_r_dq_04_sample_at_least_5_percent_stratified_and_reproducible(child, tree, province_auditor):
    _children(child, tree, {"T1": 500, "T2": 300, "T3": 200})
    c1 = services.campaign_create(
        actor=province_auditor, audited_unit=tree.tyt_a1, seed=1234, minimum_sample=30
    )
    services.campaign_draw_sample(actor=province_auditor, campaign=c1)
    s1 = list(AuditSample.objects.filter(campaign=c1).values_list("child_id", flat=True))
    assert len(s1) >= 0.05 * 1000 and len(s1) == 50
    strata = Counter(AuditSample.objects.filter(campaign=c1).values_list("child__village__code", flat=True))
    assert strata == {"T1": 25, "T2": 15, "T3": 10}  # proportional to the villages
    c2 = services.campaign_create(actor=province_auditor, audited_unit=tree.tyt_a1, seed=1234)
    services.campaign_draw_sample(actor=province_auditor, campaign=c2)
    assert sorted(s1) == sorted(AuditSample.objects.filter(campaign=c2).values_list("child_id", flat=True))
    c3 = services.campaign_create(actor=province_auditor, audited_unit=tree.tyt_a1, seed=99)
    services.campaign_draw_sample(actor=province_auditor, campaign=c3)
    assert sorted(s1) != sorted(AuditSample.objects.filter(campaign=c3).values_list("child_id", flat=True))


def test_r_dq_04_minimum_sample_or_all_and_rate_below_5_percent_refused(child, tree, province_auditor):
    _children(child, tree, {"T1": 40})
    c = services.campaign_create(actor=province_auditor, audited_unit=tree.tyt_a1, minimum_sample=30)
    services.campaign_draw_sample(actor=province_auditor, campaign=c)
    assert c.samples.count() == 30  # 5% of 40 = 2 < minimum
    assert services.sample_size(10, 0.05, 30) == 10  # all when fewer
    with pytest.raises(DomainError, match=r"Tỷ lệ chọn mẫu phải từ 5% đến 100%\."):
        services.campaign_create(actor=province_auditor, audited_unit=tree.tyt_a1, sample_rate=0.04)


def _run_campaign(child, tree, auditor, kind="desk"):
    _children(child, tree, {"T1": 3})
    kid = child(full_name="Đặng Thị Ngọc Ánh")
    c = services.campaign_create(actor=auditor, audited_unit=tree.tyt_a1, minimum_sample=30, kind=kind)
    services.campaign_draw_sample(actor=auditor, campaign=c)
    for s in c.samples.select_related("child"):
        results = [{"field": f, "matches": True} for f in services.AUDIT_FIELDS]
        junk = False
        if s.child_id == kid.pk:
            results[0] = {"field": "full_name", "matches": False, "observed_value": "Đặng Thị Ngọc Ánh Hồng",
                          "cause": "entry_error", "error_class": "technical"}  # fmt: skip
            results[1] = {"field": "date_of_birth", "matches": False, "observed_value": "2018-03-05",
                          "cause": "altered_paper", "error_class": "intentional"}  # fmt: skip
        elif junk is False and s.child.full_name.endswith("1"):
            junk = True
        services.sample_record_result(actor=auditor, sample=s, results=results, is_junk=junk)
    return c, kid


def test_r_dq_04_mismatch_needs_cause_and_class(child, tree, province_auditor):
    _children(child, tree, {"T1": 2})
    c = services.campaign_create(actor=province_auditor, audited_unit=tree.tyt_a1)
    services.campaign_draw_sample(actor=province_auditor, campaign=c)
    s = c.samples.get(pk=c.samples.values_list("pk", flat=True)[0])
    with pytest.raises(ValidationFailed, match=r"Dữ liệu không hợp lệ\.") as err:
        services.sample_record_result(
            actor=province_auditor, sample=s, results=[{"field": "sex", "matches": False}]
        )
    assert "Giới tính" in str(err.value.errors)


def test_r_dq_07_close_creates_corrective_tasks_by_class(child, tree, province_auditor):
    c, kid = _run_campaign(child, tree, province_auditor)
    with pytest.raises(
        (Conflict, StepUpRequired), match=r"Thao tác quan trọng: vui lòng xác thực lại bằng mã hai lớp"
    ):
        services.campaign_sign(actor=province_auditor, campaign=c)  # not closed yet
    services.campaign_close(
        actor=province_auditor, campaign=c, corrective_actions="Tập huấn lại cán bộ nhập liệu."
    )
    kinds = {t.kind: t for t in CorrectiveTask.objects.filter(child=kid)}
    assert set(kinds) == {TaskKind.FIX, TaskKind.ESCALATE}
    fix = kinds[TaskKind.FIX]
    assert timedelta(hours=23) < fix.due_at - timezone.now() <= timedelta(hours=24)
    junk = CorrectiveTask.objects.filter(kind=TaskKind.CANCEL)
    assert all(t.due_at <= timezone.now() for t in junk)
    # overdue flag
    from mchis.quality.selectors import overdue_tasks

    CorrectiveTask.objects.filter(pk=fix.pk).update(due_at=timezone.now() - timedelta(hours=1))
    assert fix.pk in set(overdue_tasks(province_auditor).values_list("id", flat=True))


def test_r_dq_05_field_audit_runs_the_same_flow(child, tree, province_auditor):
    c, _ = _run_campaign(child, tree, province_auditor, kind="field")
    services.campaign_close(actor=province_auditor, campaign=c)
    assert AuditCampaign.objects.get(pk=c.pk).get_kind_display().startswith("Phúc tra thực địa")


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) missing")
def test_r_dq_07_minutes_pdf_has_vietnamese_text(child, tree, province_auditor, step_up, tmp_path):
    c, kid = _run_campaign(child, tree, province_auditor)
    services.campaign_close(actor=province_auditor, campaign=c)
    c = services.campaign_sign(actor=province_auditor, campaign=c)
    pdf = tmp_path / "m.pdf"
    pdf.write_bytes(bytes(c.minutes_pdf or b""))
    raw = subprocess.run(
        ["pdftotext", "-raw", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode()
    text = " ".join(raw.split())  # table cells wrap: compare with whitespace normalised
    assert "BIÊN BẢN PHÚC TRA" in text
    assert "Đặng Thị Ngọc Ánh" in text
    assert "Cố ý làm sai lệch" in text and "Lỗi kỹ thuật" in text
    assert "Trạm Y tế phường Minh Xuân" in text and "Họ và tên" in text


def test_r_dq_08_signing_needs_step_up_and_makes_results_immutable(child, tree, province_auditor, step_up):
    c, kid = _run_campaign(child, tree, province_auditor)
    services.campaign_close(actor=province_auditor, campaign=c)
    token = set_meta(RequestMeta())
    try:
        with pytest.raises(
            StepUpRequired, match=r"Thao tác quan trọng: vui lòng xác thực lại bằng mã hai lớp"
        ):
            services.campaign_sign(actor=province_auditor, campaign=c)
    finally:
        reset_meta(token)
    c = services.campaign_sign(actor=province_auditor, campaign=c)
    assert c.status == CampaignStatus.SIGNED and len(c.minutes_sha256) == 64
    sample = c.samples.all()[0]
    with pytest.raises(Conflict, match=r"Biên bản đã ký: kết quả phúc tra không thể thay đổi\."):
        services.sample_record_result(actor=province_auditor, sample=sample, results=[])
    with pytest.raises(Conflict, match=r"Biên bản đã ký: kết quả phúc tra không thể thay đổi\."):
        services.campaign_close(actor=province_auditor, campaign=c)
    # database level: even a raw update is refused
    with (
        pytest.raises(
            (IntegrityError, DatabaseError), match=r"signed audit campaign is immutable \(R\-DQ\-08\)"
        ),
        transaction.atomic(),
    ):
        AuditCampaign.objects.filter(pk=c.pk).update(corrective_actions="sửa lén")
    with (
        pytest.raises(
            (IntegrityError, DatabaseError), match=r"signed audit campaign is immutable \(R\-DQ\-08\)"
        ),
        transaction.atomic(),
    ):
        AuditFieldResult.objects.filter(sample__campaign=c).update(matches=True)
    with (
        pytest.raises(
            (IntegrityError, DatabaseError), match=r"Cannot delete some instances of model 'AuditSample'"
        ),
        transaction.atomic(),
    ):
        AuditSample.objects.filter(campaign=c).delete()
    assert AuditCampaign.objects.get(pk=c.pk).corrective_actions == ""


# --- the team, and only the team (issue 10 item 6) ---------------------------------------------------------


def test_r_dq_06_only_the_campaigns_team_draws_records_and_closes(child, tree, province_auditor, make_user):
    # given a campaign of Sở A's auditor; a colleague of the same Sở is not on its team
    _children(child, tree, {"T1": 3})
    colleague = make_user("auditor", tree.doh_a)
    c = services.campaign_create(actor=province_auditor, audited_unit=tree.tyt_a1)
    # then the colleague can neither draw the sample nor record nor close
    with pytest.raises(PermissionDeniedError, match="thành viên đoàn phúc tra"):
        services.campaign_draw_sample(actor=colleague, campaign=c)
    services.campaign_draw_sample(actor=province_auditor, campaign=c)
    sample = c.samples.all()[0]
    with pytest.raises(PermissionDeniedError, match="thành viên đoàn phúc tra"):
        services.sample_record_result(actor=colleague, sample=sample, results=[])
    for s in c.samples.all():
        services.sample_record_result(
            actor=province_auditor,
            sample=s,
            results=[{"field": f, "matches": True} for f in services.AUDIT_FIELDS],
        )
    with pytest.raises(PermissionDeniedError, match="thành viên đoàn phúc tra"):
        services.campaign_close(actor=colleague, campaign=c)
    assert AuditCampaign.objects.get(pk=c.pk).status == CampaignStatus.SAMPLED


def test_r_dq_06_audited_units_own_staff_never_audit_it(child, tree, make_user):
    # given the ministry audits Sở A; an auditor of Sở A itself would audit its own unit
    ministry_auditor = make_user("auditor", tree.ministry_dept)
    own_staff = make_user("auditor", tree.doh_a)
    # when the team is formed with the audited Sở's own auditor: refused
    with pytest.raises(PermissionDeniedError, match="đơn vị được phúc tra"):
        services.campaign_create(actor=ministry_auditor, audited_unit=tree.doh_a, auditors=[own_staff])
    # and if one slipped into the team anyway (data from before this rule), it still cannot act
    c = services.campaign_create(actor=ministry_auditor, audited_unit=tree.doh_a)
    c.auditors.add(own_staff)
    _children(child, tree, {"T1": 2})
    with pytest.raises(PermissionDeniedError, match="đơn vị được phúc tra"):
        services.campaign_draw_sample(actor=own_staff, campaign=c)
    services.campaign_draw_sample(actor=ministry_auditor, campaign=c)
    with pytest.raises(PermissionDeniedError, match="đơn vị được phúc tra"):
        services.sample_record_result(actor=own_staff, sample=c.samples.all()[0], results=[])


def test_r_dq_08_only_the_team_signs_never_the_audited_staff(child, tree, make_user, step_up):
    ministry_auditor = make_user("auditor", tree.ministry_dept)
    own_staff = make_user("auditor", tree.doh_a)
    _children(child, tree, {"T1": 2})
    c = services.campaign_create(actor=ministry_auditor, audited_unit=tree.doh_a)
    services.campaign_draw_sample(actor=ministry_auditor, campaign=c)
    for s in c.samples.all():
        services.sample_record_result(
            actor=ministry_auditor,
            sample=s,
            results=[{"field": f, "matches": True} for f in services.AUDIT_FIELDS],
        )
    services.campaign_close(actor=ministry_auditor, campaign=c)
    c.auditors.add(own_staff)
    with pytest.raises(PermissionDeniedError, match="đơn vị được phúc tra"):
        services.campaign_sign(actor=own_staff, campaign=c)
    assert AuditCampaign.objects.get(pk=c.pk).status == CampaignStatus.CLOSED
