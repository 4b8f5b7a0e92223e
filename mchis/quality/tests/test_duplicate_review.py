"""R-DQ-02 review queue: "not a duplicate" needs a reason; a pair opens side by side with the model's evidence."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from mchis.quality.models import CandidateStatus, DuplicateCandidate
from mchis.quality.pairs import field_rows, model_evidence
from mchis.quality.services import duplicate_reject


@pytest.fixture(autouse=True)
def _no_login_2fa(settings):
    settings.ROLES_REQUIRING_2FA = []


def _pair(child, tree):
    a = child(full_name="Vũ Minh Khang", date_of_birth=date(2017, 4, 9), personal_id="008217000111")
    b = child(
        full_name="Võ Minh Khang", date_of_birth=date(2017, 9, 4), personal_id="", mother_name="Trần Thị Hòa"
    )
    return DuplicateCandidate.objects.create(child_a=a, child_b=b, probability=0.97, unit=tree.tyt_a1)


@pytest.mark.django_db
def test_r_dq_02_not_a_duplicate_needs_a_reason(child, tree, make_user):
    cand = _pair(child, tree)
    leader = make_user("leader", tree.tyt_a1)
    with pytest.raises(Exception, match="Lý do: bắt buộc"):
        duplicate_reject(actor=leader, candidate=cand, reason="  ")
    cand.refresh_from_db()
    assert cand.status == CandidateStatus.OPEN
    duplicate_reject(actor=leader, candidate=cand, reason="Hai anh em, khác mẹ")
    cand.refresh_from_db()
    assert cand.status == CandidateStatus.NOT_DUPLICATE and cand.reason == "Hai anh em, khác mẹ"


@pytest.mark.django_db
def test_r_dq_02_pair_evidence_names_the_differing_fields_and_the_model_weights(child, tree):
    cand = _pair(child, tree)
    from mchis.quality.pairs import child_values

    a, b = child_values(cand.child_a), child_values(cand.child_b)
    rows = {r.key: r for r in field_rows(a, b)}
    assert not rows["full_name"].same and rows["date_of_birth"].a == "09/04/2017"
    assert not rows["mother_name"].same and rows["sex"].same and rows["sex"].a == "Nam"
    evidence = {e.name: e for e in model_evidence(cand.child_a, cand.child_b)}
    assert evidence["dob"].level == "đảo ngày và tháng" and (evidence["dob"].weight or 0) > 0
    assert (evidence["given"].weight or 0) > 0, "same given name counts for a match"
    assert evidence["mother"].direction in ("for", "against")
    assert evidence["pid"].weight is None, "a missing ID is not counted"


@pytest.mark.django_db
def test_r_dq_02_review_page_shows_both_records_and_refuses_a_reasonless_rejection(child, tree, make_user):
    cand = _pair(child, tree)
    leader = make_user("leader", tree.tyt_a1)
    client = Client()
    client.force_login(leader)
    html = client.get(f"/quality/duplicates/{cand.pk}/").content.decode()
    assert "Vũ Minh Khang" in html and "Võ Minh Khang" in html
    assert "Căn cứ của mô hình" in html and "đảo ngày và tháng" in html
    response = client.post(f"/quality/duplicates/{cand.pk}/reject/", {"reason": ""}, follow=True)
    assert "Lý do: bắt buộc" in response.content.decode()
    cand.refresh_from_db()
    assert cand.status == CandidateStatus.OPEN
    assert f"/quality/duplicates/{cand.pk}/" in client.get("/quality/duplicates/").content.decode()
