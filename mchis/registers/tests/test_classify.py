"""The batch engine's decision for each record, without a database (`ingest.classify`)."""

from __future__ import annotations

from datetime import date
from typing import Any

from mchis.registers.ingest import BatchResult, classify
from mchis.registers.validation import Outcome, row_hash

MARCH = date(2026, 3, 1)


def _outcome(rid: str, **clean: Any) -> Outcome:
    base = {
        "facility_id": 7,
        "source_system": "his",
        "source_record_id": rid,
        "month": MARCH,
        "full_name": "A",
    }
    return Outcome({**base, **clean}, [], [])


def _stored(outcome: Outcome, **row: Any) -> dict[str, Any]:
    clean = outcome.clean
    return {
        "id": 99, "month": clean["month"], "voided_at": None,
        "row_hash": row_hash(clean, outcome.newborns), **row,
    }  # fmt: skip


def _key(outcome: Outcome) -> tuple[int, str, str]:
    c = outcome.clean
    return (c["facility_id"], c["source_system"], c["source_record_id"])


def test_new_records_are_created_and_changed_ones_updated():
    new, changed = _outcome("n"), _outcome("c", full_name="B")
    stored = {_key(changed): _stored(_outcome("c"))}  # the stored row has the old name
    result = BatchResult(register="anc", dry_run=True)
    plan = classify([(0, new), (1, changed)], stored, set(), {}, result)
    assert [(i, action) for i, _, action in plan.writes] == [(0, "create"), (1, "update")]
    assert (result.created, result.updated, result.conflicts) == (1, 1, [])


def test_an_identical_record_is_unchanged_and_not_written():
    same = _outcome("s")
    result = BatchResult(register="anc", dry_run=True)
    plan = classify([(0, same)], {_key(same): _stored(same)}, set(), {}, result)
    assert plan.writes == [] and result.unchanged == 1
    assert result.rows == [{"index": 0, "action": "unchanged", "id": 99, "key": "s"}]


def test_r_mch_05_a_record_in_a_locked_month_is_refused_with_the_units_name():
    rec = _outcome("l")
    result = BatchResult(register="anc", dry_run=True)
    plan = classify([(3, rec)], {}, {(7, MARCH)}, {7: "Trạm Y tế Minh Xuân"}, result)
    assert (
        plan.writes == []
        and result.conflicts[0]["index"] == 3
        and result.conflicts[0]["field"] == "event_date"
    )
    assert "Trạm Y tế Minh Xuân" in result.conflicts[0]["reason"] and not rec.ok


def test_moving_a_stored_record_out_of_a_locked_month_is_refused_too():
    moved = _outcome("m", month=date(2026, 4, 1))
    stored = {_key(moved): _stored(_outcome("m"))}  # stored in March, which is locked
    result = BatchResult(register="anc", dry_run=True)
    classify([(0, moved)], stored, {(7, MARCH)}, {}, result)
    assert result.conflicts and result.conflicts[0]["field"] == "event_date"


def test_a_voided_record_is_never_revived():
    rec = _outcome("v", full_name="B")
    stored = {_key(rec): _stored(_outcome("v"), voided_at="2026-03-02")}
    result = BatchResult(register="anc", dry_run=True)
    plan = classify([(0, rec)], stored, set(), {}, result)
    assert plan.writes == [] and result.conflicts[0]["field"] == "source_record_id"


def test_a_record_without_a_source_id_gets_one_and_a_fingerprint():
    rec = _outcome("")
    classify([(0, rec)], {}, set(), {}, BatchResult(register="anc", dry_run=True))
    assert len(rec.clean["source_record_id"]) == 32 and rec.clean["row_hash"]
