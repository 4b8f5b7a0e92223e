import pytest
from django.http import Http404

from mchis.core.scoping import access, in_subtree, visible_to, visible_under
from mchis.units.models import ReportingUnit


@pytest.mark.django_db
def test_r_sec_01_unit_sees_only_its_subtree(tree, make_user):
    officer = make_user("leader", tree.ttyt_a)
    codes = set(visible_to(ReportingUnit.objects.all(), officer).values_list("code", flat=True))
    assert codes == {"TTYT08-01", "TYT02269", "TYT02296"}


@pytest.mark.django_db
def test_r_sec_01_other_jurisdiction_is_404_like_missing(tree, make_user):
    officer = make_user("collector", tree.tyt_a1)
    with pytest.raises(Http404, match=r"Không tìm thấy\."):
        access(ReportingUnit.objects.all(), officer, pk=tree.tyt_b1.pk)
    with pytest.raises(Http404, match=r"Không tìm thấy\."):
        access(ReportingUnit.objects.all(), officer, pk=999_999)


@pytest.mark.django_db
def test_r_sec_06_refused_access_is_audited_and_costs_the_same_as_missing(tree, make_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mchis.core.models import AuditEvent

    officer = make_user("collector", tree.tyt_a1)  # also starts the chain and its first anchor
    assert officer.unit is not None  # loaded once, so both requests below start equal
    counts = []
    for pk in (tree.tyt_b1.pk, 999_999):  # forbidden, then missing
        with CaptureQueriesContext(connection) as queries, pytest.raises(Http404, match=r"Không tìm thấy\."):
            access(ReportingUnit.objects.all(), officer, pk=pk)
        counts.append(len(queries))
    assert counts[0] == counts[1], "forbidden and missing must do the same work (no timing oracle)"
    forbidden, missing = AuditEvent.objects.filter(action="access.denied").order_by("id")
    assert (forbidden.actor_id, forbidden.object_type, forbidden.object_id) == (
        officer.pk,
        "units.reportingunit",
        str(tree.tyt_b1.pk),
    )
    assert forbidden.scope_path == tree.tyt_b1.path and missing.scope_path == ""
    assert forbidden.reason == missing.reason  # what the actor's own auditors see does not tell them apart
    # the other province's auditors see the attempt on their object
    assert AuditEvent.objects.in_scope(tree.ttyt_b.path).filter(pk=forbidden.pk).exists()


@pytest.mark.django_db
def test_subtree_helpers_follow_materialized_paths(tree):
    """`in_subtree` / `visible_under`: a unit's subtree is itself and every unit below, never a sibling whose
    id merely starts with the same digits (paths end with "/")."""
    assert in_subtree("/1/12/", "/1/") and in_subtree("/1/", "/1/")
    assert not in_subtree("/12/", "/1/") and not in_subtree("/1/", "/1/12/")
    under_a = set(visible_under(ReportingUnit.objects.all(), tree.ttyt_a, lookup="path"))
    assert {tree.ttyt_a, tree.tyt_a1, tree.tyt_a2} == under_a
    assert under_a == set(visible_under(ReportingUnit.objects.all(), tree.ttyt_a.path, lookup="path"))
