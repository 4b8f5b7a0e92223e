"""Shared fixtures for every app: a small reporting-unit tree in two provinces and accounts per role.

Built through the services, so the fixtures obey the same rules as production data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import settings as hypothesis_settings

# Property tests check behaviour, not speed (speed targets live in bench/): no per-example deadline, which
# otherwise fails at random when the suite runs in parallel (xdist) on a busy machine.
hypothesis_settings.register_profile("mchis", deadline=None)
hypothesis_settings.load_profile("mchis")


@dataclass
class Tree:
    """Bộ Y tế → Vụ BMTE → Sở Y tế A → CDC A → TTYT A → TYT A1, TYT A2;  Sở Y tế B → CDC B → TTYT B → TYT B1."""

    province_a: Any
    province_b: Any
    commune_a1: Any
    commune_a2: Any
    commune_b1: Any
    ministry: Any
    ministry_dept: Any
    doh_a: Any
    cdc_a: Any
    ttyt_a: Any
    tyt_a1: Any
    tyt_a2: Any
    doh_b: Any
    cdc_b: Any
    ttyt_b: Any
    tyt_b1: Any


@pytest.fixture
def tree(db) -> Tree:
    from mchis.places.models import AdminUnit, CodeVersion, Level
    from mchis.units.models import UnitKind
    from mchis.units.services import unit_create

    def place(level: str, code: str, name: str, parent: Any = None) -> AdminUnit:
        obj, _ = AdminUnit.objects.get_or_create(
            version=CodeVersion.V2025, level=level, code=code, defaults={"name": name, "parent": parent}
        )
        return obj

    pa = place(Level.PROVINCE, "08", "Tuyên Quang")
    pb = place(Level.PROVINCE, "04", "Cao Bằng")
    ca1 = place(Level.COMMUNE, "02269", "Phường Minh Xuân", pa)
    ca2 = place(Level.COMMUNE, "02296", "Xã Kim Bình", pa)
    cb1 = place(Level.COMMUNE, "01273", "Phường Thục Phán", pb)

    def unit(code: str, name: str, kind: str, where: Any, parent: Any) -> Any:
        return unit_create(actor=None, code=code, name=name, kind=kind, admin_unit=where, parent=parent)

    ministry = unit("BYT", "Bộ Y tế", UnitKind.MINISTRY, pa, None)
    dept = unit("BYT-BMTE", "Vụ Sức khỏe Bà mẹ - Trẻ em", UnitKind.MINISTRY_DEPT, pa, ministry)
    doh_a = unit("SYT08", "Sở Y tế Tuyên Quang", UnitKind.DOH, pa, dept)
    cdc_a = unit("CDC08", "CDC Tuyên Quang", UnitKind.CDC, pa, doh_a)
    ttyt_a = unit("TTYT08-01", "TTYT khu vực Minh Xuân", UnitKind.TTYT, ca1, cdc_a)
    tyt_a1 = unit("TYT02269", "Trạm Y tế phường Minh Xuân", UnitKind.TYT, ca1, ttyt_a)
    tyt_a2 = unit("TYT02296", "Trạm Y tế xã Kim Bình", UnitKind.TYT, ca2, ttyt_a)
    doh_b = unit("SYT04", "Sở Y tế Cao Bằng", UnitKind.DOH, pb, dept)
    cdc_b = unit("CDC04", "CDC Cao Bằng", UnitKind.CDC, pb, doh_b)
    ttyt_b = unit("TTYT04-01", "TTYT khu vực Thục Phán", UnitKind.TTYT, cb1, cdc_b)
    tyt_b1 = unit("TYT01273", "Trạm Y tế phường Thục Phán", UnitKind.TYT, cb1, ttyt_b)
    return Tree(
        pa,
        pb,
        ca1,
        ca2,
        cb1,
        ministry,
        dept,
        doh_a,
        cdc_a,
        ttyt_a,
        tyt_a1,
        tyt_a2,
        doh_b,
        cdc_b,
        ttyt_b,
        tyt_b1,
    )


@pytest.fixture
def make_user(db):
    """make_user(role, unit, username=None) -> User whose password is 'Passw0rd!x' and already changed."""
    from mchis.accounts.services import account_create

    counter = {"n": 0}

    def factory(role: str, unit: Any, username: str | None = None, password: str = "Passw0rd!x") -> Any:
        counter["n"] += 1
        name = username or f"{role}_{unit.code.lower()}_{counter['n']}"
        user, _ = account_create(actor=None, username=name, unit=unit, role=role, password=password)
        type(user).objects.filter(pk=user.pk).update(must_change_password=False)
        user.refresh_from_db()
        return user

    return factory


@pytest.fixture(autouse=True)
def _partners_reachable_again():
    """Each test starts with every partner's circuit breaker closed (mchis.core.resilience)."""
    from mchis.core.resilience import reset_all

    reset_all()
    yield
