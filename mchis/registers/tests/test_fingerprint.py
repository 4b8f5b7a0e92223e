"""The record fingerprint (`row_hash`, issue 20): canonical, cheaper ("b2:" + blake2b over orjson's sorted form),
and rows stored with the older sha256 fingerprint still recognised as unchanged when re-sent identical."""

from __future__ import annotations

import random
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mchis.registers import ingest
from mchis.registers.ingest import BatchResult, classify
from mchis.registers.models import AncVisit, Delivery
from mchis.registers.services import records_upsert
from mchis.registers.validation import (
    FINGERPRINT_PREFIX,
    Outcome,
    legacy_row_hash,
    row_hash,
    same_fingerprint,
)

from .conftest import anc, delivery

MARCH = date(2026, 3, 1)
CLEAN = {
    "facility_id": 7,
    "source_system": "his",
    "source_record_id": "r1",
    "month": MARCH,
    "full_name": "Nguyễn Thị Hoa",
    "weight_kg": Decimal("52.50"),
    "note": None,
    "visit_no": 2,
    "person_id": 5,
    "full_name_folded": "nguyen thi hoa",
    "residence_commune_code": "",
    "residence_derived": False,
}
NEWBORNS = [{"sex": "F", "weight_g": 3100, "born": date(2026, 3, 2)}]


def test_the_legacy_fingerprint_is_the_one_stored_rows_carry():
    # computed by the sha256/json.dumps row_hash before issue 20's change, on the same record
    assert (
        legacy_row_hash(CLEAN, NEWBORNS) == "9195f9c77e7c085b72cd73614dea9c747f8204245e5f7595f360aa6b0716c5f2"
    )


def test_new_fingerprints_are_marked_and_fit_the_column():
    value = row_hash(CLEAN, NEWBORNS)
    assert value.startswith(FINGERPRINT_PREFIX) and len(value) <= (
        AncVisit._meta.get_field("row_hash").max_length or 0
    )
    assert value != legacy_row_hash(CLEAN, NEWBORNS)


_VALUES = (
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.text(max_size=8)
    | st.dates()
    | st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6)
)
_RECORDS = st.dictionaries(
    st.sampled_from(["a", "b", "note", "dob", "weight", "ở", "visit_no"]), _VALUES, min_size=1
)


def _shuffled(record: dict[str, Any], rnd: random.Random) -> dict[str, Any]:
    items = list(record.items())
    rnd.shuffle(items)
    return dict(items)


def _respelled(value: Any) -> Any:
    """The same value, written another way that validation could hand over ("1.50" for "1.5")."""
    return value * Decimal("1.00") if isinstance(value, Decimal) else value


@settings(max_examples=300, deadline=None)
@given(_RECORDS, st.lists(_RECORDS, max_size=3), st.randoms(use_true_random=False))
def test_equal_records_give_equal_fingerprints_whatever_the_key_order(record, newborns, rnd):
    again = {k: _respelled(v) for k, v in _shuffled(record, rnd).items()}
    born_again = [_shuffled(n, rnd) for n in newborns]
    assert row_hash(record, newborns) == row_hash(again, born_again)


def _differs(a: Any, b: Any) -> bool:
    if isinstance(a, Decimal) and isinstance(b, Decimal):
        return a.normalize() != b.normalize()
    return type(a) is not type(b) or a != b


@settings(max_examples=300, deadline=None)
@given(_RECORDS, st.sampled_from(["a", "b", "note"]), _VALUES, _VALUES)
def test_records_differing_in_one_value_give_different_fingerprints(record, key, one, other):
    if not _differs(one, other) or {type(one), type(other)} == {bool, int} and one == other:
        return
    if {type(one), type(other)} <= {str, date, Decimal} and str(one) == str(other):
        return  # a date, a Decimal and its text share the canonical form, as they did in the sha256 one
    assert row_hash({**record, key: one}, []) != row_hash({**record, key: other}, [])


def _outcome(**clean: Any) -> Outcome:
    return Outcome({**CLEAN, **clean}, list(NEWBORNS), [])


def _classify(outcome: Outcome, stored_hash: str) -> tuple[list[str], BatchResult]:
    key = (7, "his", "r1")
    stored: dict[tuple[int, str, str], dict[str, Any]] = {
        key: {"id": 99, "month": MARCH, "voided_at": None, "row_hash": stored_hash}
    }
    result = BatchResult(register="anc", dry_run=True)
    plan = classify([(0, outcome)], stored, set(), {}, result)
    return [action for *_, action in plan.writes], result


def test_a_row_with_the_legacy_fingerprint_resent_identical_is_unchanged():
    actions, result = _classify(_outcome(), legacy_row_hash(CLEAN, NEWBORNS))
    assert actions == [] and result.unchanged == 1


def test_a_row_with_the_legacy_fingerprint_resent_changed_is_updated_with_the_new_one():
    changed = _outcome(note="sửa")
    actions, _ = _classify(changed, legacy_row_hash(CLEAN, NEWBORNS))
    assert actions == ["update"] and changed.clean["row_hash"].startswith(FINGERPRINT_PREFIX)


def test_an_empty_stored_fingerprint_is_never_unchanged():
    """The national demo copies store '' (their payload differs from the one they were copied from)."""
    assert not same_fingerprint("", {**CLEAN, "row_hash": row_hash(CLEAN, NEWBORNS)}, NEWBORNS)
    assert _classify(_outcome(), "")[0] == ["update"]


def test_a_preview_fingerprint_of_the_legacy_format_matches_a_new_stored_row():
    """An Excel confirmation reuses its preview's fingerprint, which may predate the change."""
    clean = {**CLEAN, "row_hash": legacy_row_hash(CLEAN, NEWBORNS)}
    assert same_fingerprint(row_hash(CLEAN, NEWBORNS), clean, NEWBORNS)
    assert not same_fingerprint(row_hash({**CLEAN, "note": "x"}, NEWBORNS), clean, NEWBORNS)


@pytest.mark.django_db
def test_rows_stored_with_the_legacy_fingerprint_stay_unchanged_through_the_batch_engine(
    collector, monkeypatch
):
    monkeypatch.setattr(ingest, "row_hash", legacy_row_hash)  # as stored before the change
    records_upsert(actor=collector, register="anc", records=[anc(rid="1"), anc(rid="2")])
    records_upsert(actor=collector, register="delivery", records=[delivery(rid="D-1")])
    assert all(len(h) == 64 for h in AncVisit.objects.values_list("row_hash", flat=True))
    monkeypatch.undo()

    again = records_upsert(actor=collector, register="anc", records=[anc(rid="1"), anc(rid="2", note="sửa")])
    assert (again.unchanged, again.updated, again.created) == (1, 1, 0)
    hashes = dict(AncVisit.objects.values_list("source_record_id", "row_hash"))
    assert len(hashes["1"]) == 64 and hashes["2"].startswith(FINGERPRINT_PREFIX)
    born = records_upsert(actor=collector, register="delivery", records=[delivery(rid="D-1")])
    assert born.unchanged == 1 and len(Delivery.objects.get().row_hash) == 64
    new = records_upsert(actor=collector, register="anc", records=[anc(rid="3")])
    assert new.created == 1 and AncVisit.objects.get(source_record_id="3").row_hash.startswith("b2:")
