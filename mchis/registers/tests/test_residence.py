"""Issue 12 item 2: register rows carry the person's 2025 commune of residence as a code (R-MCH-03)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mchis.places.models import AdminUnit, CodeVersion, Level
from mchis.registers.models import AncVisit, Delivery
from mchis.registers.residence import commune_2025_of, residence_code
from mchis.registers.services import records_upsert

from .conftest import anc, delivery

KIM_BINH_2025 = "02350"  # the parser's code for "Xã Kim Bình, Tỉnh Tuyên Quang" (2025)
NGOC_HA_2025 = "00004"  # "Phường Ngọc Hà, Quận Ba Đình, Thành phố Hà Nội" (old address) → 2025 Phường Ngọc Hà


def test_r_mch_03_residence_from_a_2025_address_and_from_an_old_one():
    assert commune_2025_of("Thôn 3, Xã Kim Bình, Tỉnh Tuyên Quang") == KIM_BINH_2025
    assert commune_2025_of("Phường Ngọc Hà, Quận Ba Đình, Thành phố Hà Nội") == NGOC_HA_2025
    assert commune_2025_of("Thôn 3") == ""  # names no commune: no guess
    assert commune_2025_of("") == ""


def test_r_mch_03_a_given_code_must_be_a_known_2025_commune():
    known = frozenset({KIM_BINH_2025})
    assert residence_code(KIM_BINH_2025, "", known) == (KIM_BINH_2025, False, None)
    for bad in ("99999", "0235", "abcde"):
        code, derived, error = residence_code(bad, "Thôn 3, Xã Kim Bình, Tỉnh Tuyên Quang", known)
        assert (code, derived) == ("", False)
        assert error == (
            f"Mã xã nơi cư trú: '{bad}' không phải mã xã/phường/đặc khu năm 2025 (5 chữ số, theo danh mục)."
        )
    # derived from the address only when the commune list knows the code
    assert residence_code("", "Thôn 3, Xã Kim Bình, Tỉnh Tuyên Quang", known) == (KIM_BINH_2025, True, None)
    assert residence_code("", "Phường Ngọc Hà, Quận Ba Đình, Thành phố Hà Nội", known) == ("", False, None)


@given(given_code=st.text(max_size=8), address=st.text(max_size=60))
def test_r_mch_03_residence_is_never_a_code_outside_the_list(given_code, address):
    known = frozenset({KIM_BINH_2025, NGOC_HA_2025})
    code, derived, error = residence_code(given_code, address, known)
    assert code == "" or code in known
    assert not (error and code)
    assert not (derived and given_code.strip())


@pytest.fixture
def kim_binh(tree):
    return AdminUnit.objects.create(
        version=CodeVersion.V2025, level=Level.COMMUNE, code=KIM_BINH_2025, name="Xã Kim Bình",
        parent=tree.province_a,
    )  # fmt: skip


@pytest.mark.django_db
def test_r_mch_03_rows_carry_the_residence_code(collector, kim_binh):
    address = "Thôn Nà Pài, Xã Kim Bình, Tỉnh Tuyên Quang"
    r = records_upsert(
        actor=collector,
        register="anc",
        records=[
            anc(rid="typed", residence_commune_code=KIM_BINH_2025),
            anc(rid="derived", address=address),
            anc(rid="none", address="Thôn 3"),
            anc(rid="bad", residence_commune_code="99999"),
        ],
    )
    assert (r.created, r.rejected) == (3, 1)
    assert r.conflicts == [
        {
            "index": 3,
            "field": "residence_commune_code",
            "reason": "Mã xã nơi cư trú: '99999' không phải mã xã/phường/đặc khu năm 2025 (5 chữ số, theo danh mục).",
        }
    ]
    codes = dict(AncVisit.objects.values_list("source_record_id", "residence_commune_code"))
    assert codes == {"typed": KIM_BINH_2025, "derived": KIM_BINH_2025, "none": ""}
    # the same batch again changes nothing (a derived code is not part of the fingerprint)
    again = records_upsert(
        actor=collector,
        register="anc",
        records=[anc(rid="derived", address=address), anc(rid="none", address="Thôn 3")],
    )
    assert (again.unchanged, again.updated) == (2, 0)
    # a typed code that changes is a change
    moved = records_upsert(actor=collector, register="delivery", records=[delivery(rid="D-9")])
    assert moved.created == 1 and Delivery.objects.get().residence_commune_code == ""
    moved = records_upsert(
        actor=collector,
        register="delivery",
        records=[delivery(rid="D-9", residence_commune_code=KIM_BINH_2025)],
    )
    assert moved.updated == 1 and Delivery.objects.get().residence_commune_code == KIM_BINH_2025
