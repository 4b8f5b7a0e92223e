"""Engine: stored findings, idempotent re-runs, resumable scans, rule errors (R-DQ-03)."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command

from mchis.quality import engine
from mchis.quality.models import Finding, FindingStatus, QualitySnapshot, RuleError, ScanRun
from mchis.quality.rules import RULES, Criterion, Rule

pytestmark = pytest.mark.django_db


def test_r_dq_03_scan_stores_findings_and_rerun_never_duplicates(child):
    bad = child(sex="", personal_id="12345")
    child(personal_id="")
    engine.scan_run()
    first = set(Finding.objects.values_list("rule_code", "child_id", "fingerprint"))
    assert ("DQ_MISSING", bad.pk, "sex") in first
    assert ("DQ_ID_FORMAT", bad.pk, "id_format") in first
    n = Finding.objects.count()
    engine.scan_run()
    assert Finding.objects.count() == n
    assert ScanRun.objects.filter(status="done").count() == 2


def test_r_dq_03_fixed_record_closes_its_finding_and_reopens_if_it_returns(child):
    bad = child(sex="")
    engine.scan_run()
    f = Finding.objects.get(child=bad, rule_code="DQ_MISSING", fingerprint="sex")
    type(bad).objects.filter(pk=bad.pk).update(sex="F")
    engine.scan_run()
    f.refresh_from_db()
    assert f.status == FindingStatus.FIXED
    type(bad).objects.filter(pk=bad.pk).update(sex="")
    engine.scan_run()
    f.refresh_from_db()
    assert f.status == FindingStatus.OPEN
    assert Finding.objects.filter(child=bad, rule_code="DQ_MISSING").count() == 1


def test_r_dq_03_interrupted_scan_resumes_without_duplicates(child):
    kids = [child(sex="") for _ in range(7)]
    scan = engine.scan_run(chunk=3, stop_after=1)
    assert scan.status == ScanRun.Status.RUNNING and scan.checkpoint == kids[2].pk
    resumed = engine.scan_run(chunk=3)
    assert resumed.pk == scan.pk and resumed.status == ScanRun.Status.DONE
    assert resumed.records == 7
    assert Finding.objects.filter(rule_code="DQ_MISSING", fingerprint="sex").count() == 7


def test_r_dq_03_crashing_rule_recorded_with_record_id_scan_continues(child, monkeypatch):
    a = child(sex="")
    b = child(full_name="Lê Văn Lạ")

    def strange(record, ctx):
        if record.full_name == "Lê Văn Lạ":
            raise ValueError("strange record")
        return []

    monkeypatch.setattr(
        engine,
        "run_rules",
        lambda r, c: __import__("mchis.quality.rules", fromlist=["x"]).run_rules(
            r, c, RULES + (Rule("DQ_STRANGE", Criterion.SACH, "error", "x", strange),)
        ),
    )
    scan = engine.scan_run()
    err = RuleError.objects.get(scan=scan)
    assert err.rule_code == "DQ_STRANGE" and err.child_id_value == b.pk
    assert Finding.objects.filter(child=a, fingerprint="sex").exists()
    assert scan.status == "done"


def test_r_dq_01_scores_computed_per_unit_and_criterion(child, tree):
    child(sex="")
    child()
    child()
    child()
    engine.scan_run()
    snap = QualitySnapshot.objects.get(unit=tree.tyt_a1, criterion=Criterion.DU)
    assert snap.records == 4 and snap.records_with_findings == 1 and snap.score == 75.0
    assert QualitySnapshot.objects.get(unit=tree.tyt_a1, criterion=Criterion.SONG).score == 100.0


def test_r_dq_03_evaluate_child_gives_inline_warnings_without_writes(tree):
    found = engine.evaluate_child(
        {"full_name": "An", "date_of_birth": "2030-01-01", "unit": tree.tyt_a1, "commune": tree.commune_b1}
    )
    rule_codes = {f.rule_code for f in found}
    assert {"DQ_DOB", "DQ_MISSING", "DQ_RESIDENCE"} <= rule_codes
    assert Finding.objects.count() == 0


def test_r_dq_03_on_child_changed_rechecks_one_child(child):
    kid = child(sex="")
    engine.on_child_changed(kid)
    assert Finding.objects.filter(child=kid, status="open", fingerprint="sex").exists()
    type(kid).objects.filter(pk=kid.pk).update(sex="M")
    engine.on_child_changed(kid)
    assert not Finding.objects.filter(child=kid, status="open", fingerprint="sex").exists()


def test_r_dq_03_dq_scan_command_prints_counts_by_rule_and_criterion(child, tree):
    child(sex="", date_of_birth=date(2009, 1, 1))
    out = StringIO()
    call_command("dq_scan", "--unit", tree.ttyt_a.code, stdout=out)
    text = out.getvalue()
    assert "DQ_MISSING" in text and "DQ_OVER_16" in text and "Đủ" in text and "Sống" in text


def test_r_dq_03_fast_loader_field_order_matches_the_record():
    from dataclasses import fields

    from mchis.quality.rules import ChildRecord

    assert [f.name for f in fields(ChildRecord)][:20] == engine.CHILD_FIELDS


def test_r_dq_01_accepting_a_finding_needs_a_reason_and_is_audited(child, tree, make_user):
    from mchis.core.errors import DomainError, PermissionDeniedError
    from mchis.core.models import AuditEvent
    from mchis.quality.services import finding_accept

    kid = child(date_of_birth=date(2009, 1, 1))
    engine.scan_run()
    f = Finding.objects.get(child=kid, rule_code="DQ_OVER_16")
    with pytest.raises(PermissionDeniedError, match=r"Bạn không có quyền thực hiện thao tác này\."):
        finding_accept(actor=make_user("collector", tree.tyt_a1), finding=f, reason="x")
    leader = make_user("leader", tree.tyt_a1)
    with pytest.raises(DomainError, match=r"Phải ghi lý do chấp nhận\."):
        finding_accept(actor=leader, finding=f, reason="  ")
    finding_accept(actor=leader, finding=f, reason="Trẻ khuyết tật, tiếp tục hỗ trợ theo quyết định của UBND")
    f.refresh_from_db()
    assert f.status == FindingStatus.ACCEPTED
    assert AuditEvent.objects.filter(action="finding.accept", object_id=str(f.pk)).exists()
    engine.scan_run()  # still occurs, but stays accepted: never reopened nor duplicated
    f.refresh_from_db()
    assert (
        f.status == FindingStatus.ACCEPTED
        and Finding.objects.filter(child=kid, rule_code="DQ_OVER_16").count() == 1
    )


def test_r_dq_03_rules_run_after_every_approved_change_through_the_registry_hook(
    child, django_capture_on_commit_callbacks
):
    from mchis.registry.hooks import children_changed

    kid = child(sex="")
    with django_capture_on_commit_callbacks(execute=True):
        children_changed([kid.pk])
    assert Finding.objects.filter(child=kid, status="open", fingerprint="sex").exists()
