"""R-INT-02 terminology: our codes go to the EHR warehouse with the standard codings of the one mapping table
(`ehr/conceptmap.py`), published as a ConceptMap and documented in docs/exchanges.md without drift."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from mchis.integrations.ehr import conceptmap, fhir
from mchis.integrations.ehr.codes import (
    CS_CONTRACEPTIVE_METHOD,
    CS_DEATH_KIND,
    CS_DELIVERY_MODE,
    CS_ENCOUNTER_TYPE,
    CS_GROWTH_ZSCORE,
    ICD10,
    SNOMED,
)
from mchis.registers.models import ChildExam, Contraception, Death, Delivery
from mchis.registers.services import records_upsert
from mchis.registers.tests.conftest import delivery

DOCS = Path(__file__).resolve().parents[3] / "docs" / "exchanges.md"
CTX = {"facility": "TYT02269", "source_system": "his-x", "place": "at_facility"}


@pytest.fixture
def clerk(tree, make_user):
    return make_user("collector", tree.tyt_a1)


def _write(actor, register, records):
    result = records_upsert(actor=actor, register=register, records=records)
    assert not result.conflicts, result.conflicts


def _day(days_ago: int) -> str:
    return (timezone.localdate() - timedelta(days=days_ago)).isoformat()


def _pairs(concept: dict) -> list[tuple[str, str]]:
    return [(c["system"], c["code"]) for c in concept["coding"]]


def _by_id(resources: list[dict]) -> dict[str, dict]:
    # Built and validated by fhir.resources: the codings survive validation unchanged.
    return {r["id"]: fhir.validate(r) for r in resources}


def test_r_int_02_encounters_and_delivery_procedures_carry_the_standard_coding_after_ours(clerk):
    _write(
        clerk,
        "delivery",
        [
            delivery(rid="D-1", personal_id="008195000201", delivery_mode="caesarean"),
            delivery(
                rid="D-2",
                personal_id="008195000202",
                delivery_mode="normal",
                newborns=[
                    {"outcome": "live", "sex": "F", "weight_grams": 2400},
                    {"outcome": "live", "sex": "M", "weight_grams": 2300},
                ],
            ),
            delivery(rid="D-3", personal_id="008195000203", delivery_mode="instrumental"),
        ],
    )
    built = {}
    for row in Delivery.objects.select_related("facility").order_by("source_record_id"):
        built[row.source_record_id] = _by_id(fhir.delivery_resources(row, row.newborns.all()))
    caesarean = next(r for r in built["D-1"].values() if r["resourceType"] == "Procedure")
    assert _pairs(caesarean["code"]) == [
        (CS_DELIVERY_MODE, "caesarean"),
        (SNOMED, "200144004"),
        (ICD10, "O82.9"),  # a single birth
    ]
    twins = next(r for r in built["D-2"].values() if r["resourceType"] == "Procedure")
    # ICD-10 O80 is a single-delivery code: twins get SNOMED CT only.
    assert _pairs(twins["code"]) == [(CS_DELIVERY_MODE, "normal"), (SNOMED, "48782003")]
    instrumental = next(r for r in built["D-3"].values() if r["resourceType"] == "Procedure")
    assert _pairs(instrumental["code"]) == [(CS_DELIVERY_MODE, "instrumental")]  # unmapped
    encounter = next(r for r in built["D-1"].values() if r["resourceType"] == "Encounter")
    assert _pairs(encounter["type"][0]) == [(CS_ENCOUNTER_TYPE, "delivery"), (SNOMED, "236973005")]

    _write(
        clerk,
        "contraception",
        [
            {
                **CTX,
                "source_record_id": "K-1",
                "event_date": _day(1),
                "full_name": "Hà Thị Lan",
                "dob": "1990-01-01",
                "sex": "F",
                "method_code": "sterilisation",
                "is_new_user": True,
            },
            {
                **CTX,
                "source_record_id": "K-2",
                "event_date": _day(1),
                "full_name": "Hà Văn Nam",
                "dob": "1988-01-01",
                "sex": "M",
                "method_code": "sterilisation",
                "is_new_user": True,
            },
            {
                **CTX,
                "source_record_id": "K-3",
                "event_date": _day(1),
                "full_name": "Lò Thị Vân",
                "dob": "1992-01-01",
                "method_code": "iud",
                "is_new_user": True,
            },
            {
                **CTX,
                "source_record_id": "K-4",
                "event_date": _day(1),
                "full_name": "Lò Thị Hương",
                "dob": "1993-01-01",
                "method_code": "condom",
                "is_new_user": True,
            },
        ],
    )
    methods = {}
    for row in Contraception.objects.select_related("facility"):
        res = _by_id(fhir.contraception_resources(row))
        enc = next(r for r in res.values() if r["resourceType"] == "Encounter")
        assert _pairs(enc["type"][0]) == [(CS_ENCOUNTER_TYPE, "contraception"), (ICD10, "Z30.9")]
        obs = next(r for r in res.values() if r["resourceType"] == "Observation")
        assert obs["code"]["coding"][0]["code"] == "8659-5"
        methods[row.source_record_id] = _pairs(obs["valueCodeableConcept"])
    assert methods == {
        "K-1": [(CS_CONTRACEPTIVE_METHOD, "sterilisation"), (SNOMED, "60890002"), (ICD10, "Z30.2")],
        "K-2": [(CS_CONTRACEPTIVE_METHOD, "sterilisation"), (SNOMED, "399141000"), (ICD10, "Z30.2")],
        "K-3": [(CS_CONTRACEPTIVE_METHOD, "iud"), (SNOMED, "65200003")],
        "K-4": [(CS_CONTRACEPTIVE_METHOD, "condom")],  # male or female not recorded: unmapped
    }


def test_r_int_02_deaths_and_growth_z_scores_carry_what_the_table_maps(clerk):
    _write(
        clerk,
        "death",
        [
            {
                **CTX,
                "source_record_id": "T-1",
                "event_date": _day(1),
                "full_name": "Lò Văn Bé",
                "sex": "M",
                "dob": _day(11),
                "death_kind": "child",
                "icd10_code": "P22",
                "mother_name": "Lò Thị Mai",
            },
            {
                **CTX,
                "source_record_id": "T-2",
                "event_date": _day(1),
                "full_name": "Lò Văn Cu",
                "sex": "M",
                "dob": _day(400),
                "death_kind": "child",
                "icd10_code": "A09",
                "mother_name": "Lò Thị Mai",
            },
            {
                **CTX,
                "source_record_id": "T-3",
                "event_date": _day(1),
                "full_name": "Lò Thị Mai",
                "sex": "F",
                "dob": "1995-02-03",
                "death_kind": "fetal",
                "gestational_age_weeks": 30,
                "icd10_code": "P95",
            },
        ],
    )
    kinds = {}
    for row in Death.objects.select_related("facility"):
        res = _by_id(fhir.death_resources(row))
        enc = next(r for r in res.values() if r["resourceType"] == "Encounter")
        assert _pairs(enc["type"][0]) == [(CS_ENCOUNTER_TYPE, "death-report")]  # unmapped
        cond = next(r for r in res.values() if r["resourceType"] == "Condition")
        assert cond["code"]["coding"][0]["system"] == ICD10  # the cause stays ICD-10
        kinds[row.source_record_id] = _pairs(cond["category"][0])
    assert kinds == {
        "T-1": [(CS_DEATH_KIND, "child"), (SNOMED, "276506001")],  # neonatal: newborn death
        "T-2": [(CS_DEATH_KIND, "child")],  # infant: no checked code
        "T-3": [(CS_DEATH_KIND, "fetal"), (SNOMED, "237364002")],
    }

    _write(
        clerk,
        "child_exam",
        [
            {
                **CTX,
                "source_record_id": "C-1",
                "event_date": _day(1),
                "full_name": "Lò Văn An",
                "dob": _day(400),
                "sex": "M",
                "weight_kg": "9.5",
                "height_cm": "75.0",
                "measured_lying": True,
            }
        ],
    )
    row = ChildExam.objects.select_related("facility").get()
    res = _by_id(fhir.child_exam_resources(row))
    observations = [r for r in res.values() if r["resourceType"] == "Observation"]
    zscores = [r for r in observations if r["code"]["coding"][0]["system"] == CS_GROWTH_ZSCORE]
    assert {r["id"].rsplit("-", 1)[1] for r in zscores} >= {"waz", "haz", "whz"}
    for obs in zscores:  # unmapped: our coding only, and named
        assert len(obs["code"]["coding"]) == 1 and obs["code"]["coding"][0]["display"]
    enc = next(r for r in res.values() if r["resourceType"] == "Encounter")
    assert _pairs(enc["type"][0]) == [(CS_ENCOUNTER_TYPE, "child-exam"), (SNOMED, "410620009")]


def test_r_int_02_every_mapped_and_unmapped_code_is_in_the_published_concept_map():
    resource = conceptmap.concept_map()  # validated by fhir.resources inside
    published = json.loads(conceptmap.PUBLISHED.read_text(encoding="utf-8"))
    assert published == resource, "regenerate: python -m mchis.integrations.ehr.conceptmap"
    in_map = {
        (g["source"], e["code"], g.get("target"), t.get("code"))
        for g in resource["group"]
        for e in g["element"]
        for t in e["target"]
    }
    for (system, code), targets in conceptmap.MAPPINGS.items():
        for t in targets:
            assert (system, code, t.system, t.code) in in_map
    for system, code in conceptmap.UNMAPPED:
        assert (system, code, None, None) in in_map
    assert len(in_map) == sum(map(len, conceptmap.MAPPINGS.values())) + len(conceptmap.UNMAPPED)
    # One code is mapped or unmapped, never both, and each of ours has a name.
    assert not set(conceptmap.MAPPINGS) & set(conceptmap.UNMAPPED)
    assert set(conceptmap.MAPPINGS) | set(conceptmap.UNMAPPED) <= set(conceptmap.OURS)


def _terminology_section() -> str:
    text = DOCS.read_text(encoding="utf-8")
    start = text.index("## Terminology")
    return text[start : text.index("\n## ", start + 1)]


def test_r_int_02_the_docs_table_and_unmapped_list_equal_the_code():
    section = _terminology_section()
    systems = {"SNOMED CT": SNOMED, "ICD-10": ICD10}
    by_name = {system.rsplit("/", 1)[1]: system for system, _ in conceptmap.OURS}
    rows = re.findall(r"^\| [^|]+ \| `([a-z-]+)#([a-z_-]+)` \| (SNOMED CT|ICD-10) `([^`]+)`", section, re.M)
    documented = {(by_name[cs], code, systems[sysname], target) for cs, code, sysname, target in rows}
    mapped = {(s, c, t.system, t.code) for (s, c), targets in conceptmap.MAPPINGS.items() for t in targets}
    assert documented == mapped
    unmapped_doc = {
        (by_name[cs], code) for cs, code in re.findall(r"^- `([a-z-]+)#([a-z_-]+)`", section, re.M)
    }
    assert unmapped_doc == set(conceptmap.UNMAPPED)
