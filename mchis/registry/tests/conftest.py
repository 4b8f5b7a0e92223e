"""Registry fixtures: a commune unit with a collector and two leaders, a step-up context, helpers."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.utils import timezone

from mchis.core.context import RequestMeta, reset_meta, set_meta
from mchis.registry.personal_id import compose

VALID_DATA: dict[str, Any] = {
    "full_name": "Nguyễn Văn An",
    "date_of_birth": "12/03/2018",
    "sex": "M",
    "ethnicity_code": "01",
    "personal_id": compose(prefix="008", birth_year=2018, sex="M", serial=123),
    "father_name": "Nguyễn Văn Bình",
    "mother_name": "Trần Thị Cúc",
}


@pytest.fixture
def unit(tree):
    return tree.tyt_a1


@pytest.fixture
def collector(make_user, unit):
    return make_user("collector", unit, username="thu_thap")


@pytest.fixture
def leader(make_user, unit):
    return make_user("leader", unit, username="lanh_dao")


@pytest.fixture
def leader2(make_user, unit):
    return make_user("leader", unit, username="lanh_dao_2")


@pytest.fixture
def stepped_up():
    """A second-factor check just happened in this request context (R-SEC-04)."""
    token = set_meta(RequestMeta(step_up_at=timezone.now()))
    yield
    reset_meta(token)


@pytest.fixture
def evidence_dir(settings, tmp_path):
    settings.EVIDENCE_ROOT = tmp_path / "evidence"
    return settings.EVIDENCE_ROOT


@pytest.fixture
def make_child(collector, leader, unit):
    """make_child(**overrides) -> an approved, live Child made through the maker-checker services."""
    from mchis.registry.services import change_request_approve, child_propose_create

    def factory(**overrides: Any) -> Any:
        # Fixtures often make look-alike records on purpose (merges, twins): both people state "trẻ khác".
        data = {**VALID_DATA, **overrides}
        request = child_propose_create(
            actor=collector, unit=unit, data=data, reason="Sổ theo dõi", acknowledge_warnings=True,
            not_duplicate_reason="Dữ liệu kiểm thử: trẻ khác",
        )  # fmt: skip
        approved = change_request_approve(
            actor=leader, request=request, not_duplicate_reason="Dữ liệu kiểm thử: trẻ khác"
        )
        assert approved.child is not None
        return approved.child

    return factory


def dob(year: int = 2018) -> date:
    return date(year, 3, 12)
