from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from mchis.registry.personal_id import check, compose, decode, province_prefixes


def test_r_ch_08_valid_number_decodes_with_pre2025_prefix():
    # 080 is old Long An's prefix; since 2025 code 80 means Tây Ninh — the prefix must decode as Long An.
    decoded = decode("080215123456")
    assert decoded is not None
    assert decoded.province_name == "Long An"
    assert decoded.sex == "M"
    assert decoded.birth_year == 2015


def test_r_ch_08_structure_errors_are_errors():
    assert check("12345")[0].code == "id_format"
    assert check("99921512345x")[0].code == "id_format"
    assert check("999215123456")[0].code == "id_prefix"
    assert check("001915123456")[0].code == "id_century"


def test_r_ch_08_inconsistency_is_a_warning():
    issues = check("001315123456", date_of_birth=date(2016, 1, 1), sex="M")
    assert {i.code for i in issues} == {"id_year_mismatch", "id_sex_mismatch"}
    assert all(i.level == "warning" for i in issues)


@given(
    prefix=st.sampled_from(sorted(province_prefixes())),
    year=st.integers(min_value=1900, max_value=2199),
    sex=st.sampled_from(["M", "F"]),
    serial=st.integers(min_value=0, max_value=999_999),
)
def test_r_ch_08_composed_numbers_are_valid_and_consistent(prefix, year, sex, serial):
    number = compose(prefix=prefix, birth_year=year, sex=sex, serial=serial)
    assert check(number, date_of_birth=date(year, 6, 1), sex=sex, birth_prefix=prefix) == []
