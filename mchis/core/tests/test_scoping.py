import pytest
from django.http import Http404

from mchis.core.scoping import access, visible_to
from mchis.units.models import ReportingUnit


@pytest.mark.django_db
def test_r_sec_01_unit_sees_only_its_subtree(tree, make_user):
    officer = make_user("leader", tree.ttyt_a)
    codes = set(visible_to(ReportingUnit.objects.all(), officer).values_list("code", flat=True))
    assert codes == {"TTYT08-01", "TYT02269", "TYT02296"}


@pytest.mark.django_db
def test_r_sec_01_other_jurisdiction_is_404_like_missing(tree, make_user):
    officer = make_user("collector", tree.tyt_a1)
    with pytest.raises(Http404):
        access(ReportingUnit.objects.all(), officer, pk=tree.tyt_b1.pk)
    with pytest.raises(Http404):
        access(ReportingUnit.objects.all(), officer, pk=999_999)
