"""One source for the offline form's checks (ADR 0043): the browser's checker (web/static/web/schema.js, run
here under Node) and the server agree on which fields are structurally wrong - for the child form (schema from
`validation.child_json_schema`, server = `normalise` + `validate`) and for register records (schema from
`registers.schemas`, server = the pydantic record model)."""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from mchis.registers.schemas import record_json_schema, record_model
from mchis.registry import validation
from mchis.registry.personal_id import compose

NODE = shutil.which("node")
SCHEMA_JS = Path(__file__).resolve().parents[2] / "web" / "static" / "web" / "schema.js"
pytestmark = pytest.mark.skipif(
    NODE is None, reason="Node.js runs the browser's checker (npm builds need it too)"
)

RUNNER = """
const S = require(process.argv[1]);
const input = JSON.parse(require("fs").readFileSync(0, "utf8"));
const out = input.cases.map((c) => {
  const value = input.mode === "child" ? S.normaliseChild(input.schema, c) : c;
  return S.validate(input.schema, value).map((e) => ({ field: e.field, message: e.message }));
});
process.stdout.write(JSON.stringify(out));
"""


def _browser(schema: dict[str, Any], cases: list[Any], mode: str) -> list[list[dict[str, str]]]:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "-e", RUNNER, str(SCHEMA_JS)],
        input=json.dumps({"schema": schema, "cases": cases, "mode": mode}),
        capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    result: list[list[dict[str, str]]] = json.loads(done.stdout)
    return result


def _top(field: str) -> str:
    return field.split("[")[0].split(".")[0]


def _server_child(raw: dict[str, Any]) -> tuple[set[str], dict[str, str]]:
    """Fields with a structural error: the parse errors, and what `validate` finds once they are fixed (the
    service stops at parse errors; the browser shows everything at once). A parse error's message wins."""
    data, parse = validation.normalise(raw)
    issues = validation.validate(data, validation.Context(today=date(2026, 11, 30))) + parse
    errors = [i for i in issues if i.level == "error" and i.code in validation.STRUCTURAL_CODES]
    return {i.field for i in errors}, {i.field: i.message for i in errors}


PID = compose(prefix="008", birth_year=2018, sex="M", serial=123)
BASE = {"full_name": "Lò Văn Páo", "date_of_birth": "12/03/2018", "sex": "M", "mother_name": "Lò Thị Mai"}
CHILD_CASES: list[dict[str, Any]] = [
    BASE,
    {**BASE, "personal_id": PID, "father_personal_id": "", "village": "12"},
    {**BASE, "personal_id": PID[:3] + " " + PID[3:]},
    {**BASE, "full_name": ""},
    {**BASE, "full_name": "Lò Văn 2"},
    {**BASE, "full_name": "Lò_Văn"},
    {**BASE, "full_name": "Nguyễn Thị @nh"},
    {**BASE, "full_name": "A" * 151},
    {**BASE, "full_name": "Ă" * 150},
    {**BASE, "date_of_birth": "31/02/2021"},
    {**BASE, "date_of_birth": "2021-13-01"},
    {**BASE, "date_of_birth": "hôm qua"},
    {**BASE, "date_of_birth": ""},
    {**BASE, "date_of_birth": "1/2/2019"},
    {**BASE, "date_of_birth": "29/02/2020"},
    {**BASE, "date_of_birth": "29/02/2019"},
    {**BASE, "sex": ""},
    {**BASE, "sex": "X"},
    {**BASE, "sex": "Nữ"},
    {**BASE, "personal_id": "12345"},
    {**BASE, "personal_id": "999218000123"},
    {**BASE, "personal_id": "008918000123"},
    {**BASE, "father_personal_id": "0082180001"},
    {**BASE, "mother_personal_id": "abc"},
    {**BASE, "village": "thôn 3"},
    {**BASE, "mother_dob": "31/11/1990"},
    {**BASE, "father_name": "Lò {Văn}"},
    {**BASE, "guardian_name": "Lò Văn Cường", "guardian_dob": "01.02.1970"},
    {**BASE, "circumstances": [{"group_code": "", "start_date": "01/01/2020"}]},
    {**BASE, "circumstances": [{"group_code": "1", "start_date": ""}]},
    {**BASE, "circumstances": [{"group_code": "1", "start_date": "01/01/2020", "end_date": "32/01/2020"}]},
    {**BASE, "circumstances": [{"group_code": "1", "start_date": "01/01/2020"}]},
]


def _random_cases(n: int) -> list[dict[str, Any]]:
    rng = random.Random(20261130)
    letters = "aăâbcdđeêghiklmnoôơpqrstuưvxyÀÁẢÃẠàáảãạ "
    noise = "0123456789_@#$%^&*+=<>{}[]|\\/.-"
    out = []
    for _ in range(n):
        name = "".join(
            rng.choice(letters + (noise if rng.random() < 0.3 else "")) for _ in range(rng.randint(0, 160))
        )
        day, month, year = rng.randint(0, 32), rng.randint(0, 13), rng.choice([1899, 2019, 2020, 2024])
        dob = rng.choice([f"{day}/{month}/{year}", f"{year}-{month:02d}-{day:02d}", "", "x"])
        pid = rng.choice(["", PID, "".join(rng.choice("0123456789") for _ in range(rng.randint(10, 13)))])
        out.append({**BASE, "full_name": name, "date_of_birth": dob, "personal_id": pid,
                    "sex": rng.choice(["M", "F", "", "nam", "u"])})  # fmt: skip
    return out


def test_browser_and_server_agree_on_the_child_form():
    schema = validation.child_json_schema()
    cases = CHILD_CASES + _random_cases(300)
    browser = _browser(schema, cases, "child")
    for raw, found in zip(cases, browser, strict=True):
        fields, messages = _server_child(raw)
        assert {_top(e["field"]) for e in found} == fields, raw
        for error in found:  # the browser shows the server's message (ID numbers: one message for 3 codes)
            if error["field"] in messages and validation.FIELDS[error["field"]][0] != "pid":
                assert error["message"] == messages[error["field"]], raw


def _server_record(key: str, record: dict[str, Any]) -> set[str]:
    try:
        record_model(key).model_validate_json(json.dumps(record))
    except ValidationError as exc:
        return {str(e["loc"][0]) for e in exc.errors()}
    return set()


ANC = {"facility": "TYT02269", "source_record_id": "r1", "event_date": "2026-11-03", "place": "at_facility",
       "full_name": "Hoàng Thị Dung"}  # fmt: skip
RECORD_CASES: list[tuple[str, dict[str, Any]]] = [
    ("anc", ANC),
    ("anc", {**ANC, "gestational_age_weeks": 12, "visit_number": 1, "dob": "1998-01-01"}),
    ("anc", {**ANC, "gestational_age_weeks": 60}),
    ("anc", {**ANC, "gestational_age_weeks": "12"}),
    ("anc", {**ANC, "event_date": "2026-02-30"}),
    ("anc", {**ANC, "event_date": "03/11/2026"}),
    ("anc", {**ANC, "place": "home"}),
    ("anc", {**ANC, "full_name": "   "}),
    ("anc", {**ANC, "hiv_tested": "yes"}),
    ("anc", {**ANC, "colour": "blue"}),
    ("anc", {k: v for k, v in ANC.items() if k != "full_name"}),
    ("anc", {**ANC, "dob": None, "sex": ""}),
    ("delivery", {**ANC, "newborns": []}),
    (
        "delivery",
        {**ANC, "newborns": [{"birth_order": 1, "outcome": "live", "sex": "F", "weight_grams": 3100}]},
    ),
    ("delivery", {**ANC, "newborns": [{"birth_order": 1, "outcome": "alive"}]}),
    ("delivery", {**ANC}),
]


def test_browser_and_server_agree_on_register_records():
    for key in ("anc", "delivery"):
        cases = [record for reg, record in RECORD_CASES if reg == key]
        browser = _browser(record_json_schema(key), cases, "record")
        for record, found in zip(cases, browser, strict=True):
            assert {_top(e["field"]) for e in found} == _server_record(key, record), (key, record)
