"""R-CH-01: the record holds parents/guardian, residence, circumstance groups with dates and support."""

from __future__ import annotations

import pytest

from mchis.core.errors import ValidationFailed
from mchis.registry.services import change_request_approve, child_propose_create, child_snapshot
from mchis.registry.tests.conftest import VALID_DATA


def test_r_ch_01_record_holds_circumstances_support_and_guardian(collector, leader, unit):
    from mchis.places.models import Village

    village = Village.objects.create(commune=unit.admin_unit, code="T02", name="Bản Phố")
    data = {
        **VALID_DATA,
        "village": village.pk,
        "guardian_name": "Lò Văn Páo",
        "guardian_relationship": "ong_ba",
        "circumstances": [
            {"group_code": "1", "subgroup_code": "1.3", "start_date": "01/01/2023", "end_date": ""}
        ],
        "supports": [{"support_type_code": "tro_cap", "date": "15/02/2024", "provider": "UBND xã"}],
    }
    request = child_propose_create(actor=collector, unit=unit, data=data)
    child = change_request_approve(actor=leader, request=request).child
    assert child is not None
    snapshot = child_snapshot(child)
    assert child.village == village and child.commune_id == unit.admin_unit_id
    assert snapshot["circumstances"] == [
        {"group_code": "1", "subgroup_code": "1.3", "start_date": "2023-01-01", "end_date": None}
    ]
    assert snapshot["supports"][0]["provider"] == "UBND xã"
    assert child.guardian_name_folded == "lo van pao"


def test_r_ch_01_circumstance_end_before_start_is_an_error(collector, unit):
    data = {
        **VALID_DATA,
        "circumstances": [{"group_code": "4", "start_date": "01/05/2024", "end_date": "01/01/2024"}],
    }
    with pytest.raises(ValidationFailed, match=r"Dữ liệu không hợp lệ\.") as exc:
        child_propose_create(actor=collector, unit=unit, data=data)
    assert exc.value.errors[0]["field"] == "circumstances"
    assert "ngày kết thúc trước ngày bắt đầu" in str(exc.value.errors[0]["message"])


def test_r_ch_01_village_of_another_commune_is_refused(collector, unit, tree):
    from mchis.places.models import Village

    elsewhere = Village.objects.create(commune=tree.commune_b1, code="X", name="Khác")
    with pytest.raises(ValidationFailed, match=r"Dữ liệu không hợp lệ\.") as exc:
        child_propose_create(actor=collector, unit=unit, data={**VALID_DATA, "village": elsewhere.pk})
    assert exc.value.errors[0]["field"] == "village"
