"""Population denominators: the yearly reference table, its CSV load, its store elements and CX_COV."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client

from mchis.analytics import selectors
from mchis.analytics.models import Population, PopulationVersion, RollupValue, UnitMonthValue
from mchis.analytics.services import population_load
from mchis.analytics.store import mark_months
from mchis.core.errors import ValidationFailed
from mchis.core.models import AuditEvent
from mchis.core.text import fold
from mchis.registers import models as R
from mchis.reports.tests.registerdata import rec

HEADER = "commune_code,sex,age_band,people\n"


def _csv(rows: list[tuple[str, str, str, int]]) -> str:
    return HEADER + "".join(f"{c},{s},{b},{n}\n" for c, s, b, n in rows)


def _women_30_49(code: str, each: int) -> list[tuple[str, str, str, int]]:
    """`each` women in each of the four bands 30–49, and some people outside the band (not in the denominator)."""
    bands = ("30_34", "35_39", "40_44", "45_49")
    return [(code, "F", b, each) for b in bands] + [(code, "F", "25_29", 999), (code, "M", "30_34", 777)]


def _value(unit: Any, dx: str = "CX_COV", pe: str = "202601") -> Any:
    items = selectors.parse_dx(dx)
    rows = selectors.compute(items, selectors.parse_periods(pe), [unit], approved=False).rows
    return rows[0]


def woman(name: str, born: date) -> dict[str, Any]:
    """A woman named in a register row (folded name + date of birth: who she is without a personal ID)."""
    age = 2026 - born.year - ((born.month, born.day) > (1, 12))
    return {"full_name": name, "full_name_folded": fold(name), "dob": born, "age_years": age}


@pytest.fixture
def loaded(tree, forms, recompute, tmp_path):
    """Population 2026: A1 400 women 30–49, A2 100, B1 none loaded. January screenings at A1: Một (31 at the
    end of January) twice, Bốn (40), Chín (49; 50 from June), Hai (25, not counted); at B1 Năm (35)."""
    path = tmp_path / "pop2026.csv"
    path.write_text(_csv(_women_30_49("02269", 100) + _women_30_49("02296", 25)), encoding="utf-8")
    call_command("load_population", str(path), "--year", "2026", "--source", "Mô phỏng (kiểm thử)")
    for who in (
        woman("Lò Thị Một", date(1994, 6, 15)),
        woman("Lò Thị Một", date(1994, 6, 15)),
        woman("Hà Thị Bốn", date(1985, 6, 15)),
        woman("Ma Thị Chín", date(1976, 6, 15)),
        woman("Vi Thị Hai", date(2000, 6, 15)),
    ):
        rec(R.GynExam, tree.tyt_a1, date(2026, 1, 12), place="at_facility", via_done=True, **who)
    rec(
        R.GynExam, tree.tyt_b1, date(2026, 1, 12), place="at_facility", pap_sample_sent=True,
        **woman("Nông Thị Năm", date(1990, 6, 15)),
    )  # fmt: skip
    mark_months([date(2026, 1, 1)], [tree.tyt_a1.pk, tree.tyt_b1.pk])
    recompute()
    return tree


def test_cx_cov_is_women_30_49_screened_over_their_population(loaded):
    tree = loaded
    a1 = _value(tree.tyt_a1)
    assert (a1.numerator, a1.denominator, a1.value) == (3, 400, 0.75)  # Một once, Bốn, Chín: 3 / 400 × 100
    ttyt = _value(tree.ttyt_a)
    assert (ttyt.numerator, ttyt.denominator, ttyt.value) == (3, 500, 0.6)  # A1 + A2 populations, rolled up
    # a year: the women screened as of its last month (Chín is 50 by December) over the year's population (a
    # stock: its mean, not 12 × 500)
    year = _value(tree.ttyt_a, pe="2026")
    assert (year.numerator, year.denominator) == (2, 500)
    nation = _value(tree.ministry)
    assert (nation.numerator, nation.denominator, nation.value) == (4, 500, 0.8)  # B1's Năm, no population
    # no population loaded for B1 (and none at all for 2025): «không xác định», never an error
    assert _value(tree.tyt_b1).value is None
    assert _value(tree.tyt_a1, pe="202501").value is None
    # the element itself is a data element of the pivot and the API, summed up the tree
    assert _value(tree.doh_a, dx="POP.F:a30_49").value == 500


def test_a_zero_population_is_undefined(tree, forms, recompute):
    population_load(actor=None, text=_csv(_women_30_49("02269", 0)), year=2026, source="Mô phỏng")
    rec(
        R.GynExam, tree.tyt_a1, date(2026, 1, 12), place="at_facility", via_done=True,
        **woman("Lò Thị Một", date(1990, 6, 15)),
    )  # fmt: skip
    mark_months([date(2026, 1, 1)], [tree.tyt_a1.pk])
    recompute()
    row = _value(tree.tyt_a1)
    assert (row.numerator, row.denominator, row.value) == (1, 0, None)


def test_a_recompute_of_the_station_month_keeps_its_population(loaded, recompute):
    tree = loaded
    mark_months([date(2026, 1, 1), date(2026, 3, 1)], [tree.tyt_a1.pk, tree.tyt_a2.pk])
    recompute()
    assert _value(tree.ttyt_a, dx="POP.F:a30_49", pe="202603").value == 500
    assert _value(tree.ttyt_a).value == 0.6


def test_a_new_version_replaces_the_old_one_atomically_and_is_audited(loaded):
    tree = loaded
    population_load(
        actor=None, text=_csv(_women_30_49("02269", 50)), year=2026, source="Cục Thống kê (mô phỏng)"
    )
    old, new = PopulationVersion.objects.filter(year=2026).order_by("version")
    assert (old.version, new.version, old.replaced_at is not None, new.replaced_at) == (1, 2, True, None)
    assert not Population.objects.filter(version=old).exists()
    assert _value(tree.ttyt_a).denominator == 200  # A1 only now: A2's population went with the old version
    assert _value(tree.tyt_a2, dx="POP.F:a30_49").value == 0
    assert not UnitMonthValue.objects.filter(unit=tree.tyt_a2, element__startswith="POP.").exists()
    assert _value(tree.ministry, dx="POP.F:a30_49").value == 200
    events = AuditEvent.objects.filter(action="analytics.population_load").order_by("id")
    assert [e.changes["version"] for e in events] == [[None, 1], [1, 2]]
    assert events[1].changes["source"] == ["Mô phỏng (kiểm thử)", "Cục Thống kê (mô phỏng)"]


def test_a_bad_file_names_every_bad_row_in_vietnamese_and_writes_nothing(loaded, tmp_path):
    before = (PopulationVersion.objects.count(), Population.objects.count(), RollupValue.objects.count())
    text = _csv(
        [
            ("02269", "F", "30_34", 10),
            ("99999", "F", "30_34", 10),
            ("02269", "X", "30_34", 10),
            ("02269", "F", "30-34", 10),
            ("02269", "F", "35_39", -3),
            ("02269", "F", "30_34", 11),
        ]
    )
    with pytest.raises(ValidationFailed, match="5 lỗi") as err:
        population_load(actor=None, text=text, year=2026, source="Sai")
    messages = [e["message"] for e in err.value.errors]
    assert messages == [
        "Dòng 3: mã xã '99999' không có trong danh mục xã, phường năm 2025.",
        "Dòng 4: giới 'X' không hợp lệ (F/M hoặc Nữ/Nam).",
        "Dòng 5: nhóm tuổi '30-34' không hợp lệ (0_4, 5_9, …, 75_79, 80p).",
        "Dòng 6: số dân '-3' phải là số nguyên từ 0 đến 2.000.000.",
        "Dòng 7: trùng xã 02269, giới F, nhóm tuổi 30_34 với dòng 2.",
    ]
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CommandError, match="5 lỗi; không ghi gì"):
        call_command("load_population", str(path), "--year", "2026", "--source", "Sai")
    with pytest.raises(CommandError, match="thiếu cột people"):
        path.write_text("commune_code,sex,age_band\n02269,F,30_34\n", encoding="utf-8")
        call_command("load_population", str(path), "--year", "2026", "--source", "Sai")
    assert (
        PopulationVersion.objects.count(),
        Population.objects.count(),
        RollupValue.objects.count(),
    ) == before


def test_the_demo_fixture_loads(tree, forms):
    """The synthetic demo populations (say so in their source) load through the same command."""
    from mchis.analytics.population import demo_csv

    text = demo_csv(["02269", "02296", "01273"], seed=1)
    version = population_load(actor=None, text=text, year=2026, source="Mô phỏng (demo)")
    assert version.rows == 3 * 2 * 17 and 3_000 < version.total / 3 < 30_000


def test_r_mch_07_district_analyst_sees_only_its_subtree_population(loaded, make_user):
    tree = loaded
    c = Client()
    c.force_login(make_user("viewer", tree.ttyt_a))
    body = c.get(
        "/api/v1/analytics", {"dx": "CX_COV", "pe": "202601", "ou": "USER_ORGUNIT", "approved": "false"}
    ).json()
    assert body["rows"] == [["CX_COV", "202601", "TTYT08-01", "0.6", "3", "500", "100"]]
    refused = c.get(
        "/api/v1/analytics", {"dx": "POP.F:a30_49", "pe": "202601", "ou": "SYT04", "approved": "false"}
    )
    assert refused.status_code == 400
