"""The province of a unit (`units.provinces`): the Sở Y tế above it, whichever way the units are read."""

from __future__ import annotations

import pytest
from django.db import connection

from mchis.units import provinces
from mchis.units.models import ReportingUnit


@pytest.mark.django_db
@pytest.mark.parametrize("all_units_above", [0, 500], ids=["every-unit-read", "ids-listed"])
def test_r_org_02_every_unit_gets_the_province_of_the_so_y_te_above_it(tree, monkeypatch, all_units_above):
    # given the two-province tree (a Sở Y tế per province, the Ministry above both) and an id that is no unit
    monkeypatch.setattr(provinces, "_ALL_UNITS_ABOVE", all_units_above)
    ids = list(ReportingUnit.objects.values_list("id", flat=True))
    # when the codes are read for every unit, for a few, and for none
    every = provinces.province_codes_for([*ids, 10**9])
    # then each is the one PostgreSQL's path join gives (UNIT_PROVINCE_SQL), "" above the provinces
    assert every[tree.tyt_a1.pk] == every[tree.doh_a.pk] == "08" and every[tree.tyt_b1.pk] == "04"
    assert every[tree.ministry.pk] == every[tree.ministry_dept.pk] == "" and 10**9 not in every
    assert provinces.province_codes_for([tree.ttyt_b.pk]) == {tree.ttyt_b.pk: "04"}
    assert provinces.province_codes_for([]) == {}
    with connection.cursor() as cursor:
        cursor.execute(provinces.UNIT_PROVINCE_SQL)
        joined = dict(cursor.fetchall())
    assert every == {uid: joined.get(uid, "") for uid in ids}
