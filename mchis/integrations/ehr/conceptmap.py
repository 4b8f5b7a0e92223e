"""Our codes → standard codes (SNOMED CT, LOINC, ICD-10): the one mapping table of the FHIR exchange.

Every coded concept we send from our own CodeSystems goes through `codings()`: our coding first, then each
standard coding the table gives for it (``CodeableConcept.coding`` carries both, so a receiver that knows only
SNOMED CT / ICD-10 understands it and one that knows our catalogs loses nothing). The same table is published
as a FHIR ``ConceptMap`` (`concept_map()`; the file docs/fhir/ConceptMap-mchis-to-standard.json, regenerated
with ``python -m mchis.integrations.ehr.conceptmap``) and in docs/exchanges.md, where the unmapped list must
equal `UNMAPPED` (a test reads it).

Only codes that can be checked in a source are here: the WHO SMART ANC IG's ConceptMaps (repository
WorldHealthOrganization/smart-anc, ``input/vocabulary/conceptmap/conceptmap-{SNOMED-CT,ICD-10}.json``; the
source names the IG data element, e.g. ``ANC.End.19``) or the choice recorded in ADR 0057. A concept without a
checkable code keeps our coding only and is listed in `UNMAPPED` with the reason; never guess a code here.

Some targets hold only in a context the register records (``depends_on``): the client's sex (sterilisation),
a single birth (ICD-10 O80/O82 are "single delivery" codes), a death before 28 days (newborn death).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from .codes import (
    CANONICAL,
    CS_CONTRACEPTIVE_METHOD,
    CS_DEATH_KIND,
    CS_DELIVERY_MODE,
    CS_ENCOUNTER_TYPE,
    CS_GROWTH_ZSCORE,
    ICD10,
    SNOMED,
)

CONCEPT_MAP_ID = "mchis-to-standard"
CONCEPT_MAP_URL = f"{CANONICAL}/ConceptMap/{CONCEPT_MAP_ID}"
PUBLISHED = Path(__file__).resolve().parents[3] / "docs" / "fhir" / f"ConceptMap-{CONCEPT_MAP_ID}.json"
PROPERTY = f"{CANONICAL}/ConceptMap/{CONCEPT_MAP_ID}/property"  # + "/sex", "/births", "/age"

_IG = "WHO SMART ANC IG"
_ADR = "ADR 0057 (earlier choice, not in the IG's ConceptMaps)"


@dataclass(frozen=True)
class Target:
    system: str
    code: str
    display: str
    source: str  # where the code was checked
    equivalence: str = "equivalent"  # FHIR R4 ConceptMapEquivalence
    depends_on: tuple[tuple[str, str], ...] = ()  # (property, value): applies only in that context


# Our CodeSystems: (system, code) → display (Vietnamese, as in our catalogs).
OURS: dict[tuple[str, str], str] = {
    (CS_ENCOUNTER_TYPE, "anc"): "Khám thai",
    (CS_ENCOUNTER_TYPE, "delivery"): "Đẻ",
    (CS_ENCOUNTER_TYPE, "postnatal"): "Chăm sóc sau sinh",
    (CS_ENCOUNTER_TYPE, "child-exam"): "Khám trẻ em dưới 6 tuổi",
    (CS_ENCOUNTER_TYPE, "contraception"): "Dịch vụ tránh thai",
    (CS_ENCOUNTER_TYPE, "death-report"): "Báo tử",
    (CS_DELIVERY_MODE, "normal"): "Đẻ thường",
    (CS_DELIVERY_MODE, "instrumental"): "Đẻ can thiệp (forceps / giác hút)",
    (CS_DELIVERY_MODE, "caesarean"): "Mổ lấy thai",
    (CS_CONTRACEPTIVE_METHOD, "iud"): "Dụng cụ tử cung",
    (CS_CONTRACEPTIVE_METHOD, "injectable"): "Thuốc tiêm tránh thai",
    (CS_CONTRACEPTIVE_METHOD, "implant"): "Thuốc cấy tránh thai",
    (CS_CONTRACEPTIVE_METHOD, "pill"): "Viên uống tránh thai",
    (CS_CONTRACEPTIVE_METHOD, "condom"): "Bao cao su",
    (CS_CONTRACEPTIVE_METHOD, "sterilisation"): "Triệt sản",
    (CS_CONTRACEPTIVE_METHOD, "other_modern"): "Biện pháp hiện đại khác",
    (CS_CONTRACEPTIVE_METHOD, "traditional"): "Biện pháp truyền thống",
    (CS_GROWTH_ZSCORE, "waz"): "Chỉ số Z cân nặng theo tuổi",
    (CS_GROWTH_ZSCORE, "haz"): "Chỉ số Z chiều cao theo tuổi",
    (CS_GROWTH_ZSCORE, "whz"): "Chỉ số Z cân nặng theo chiều cao",
    (CS_GROWTH_ZSCORE, "bmiz"): "Chỉ số Z BMI theo tuổi",
    (CS_DEATH_KIND, "maternal"): "Tử vong mẹ",
    (CS_DEATH_KIND, "fetal"): "Tử vong thai nhi ≥ 22 tuần",
    (CS_DEATH_KIND, "child"): "Tử vong trẻ dưới 5 tuổi",
}

SEX, BIRTHS, AGE = f"{PROPERTY}/sex", f"{PROPERTY}/births", f"{PROPERTY}/age"
_SINGLE = ((BIRTHS, "single"),)

MAPPINGS: dict[tuple[str, str], tuple[Target, ...]] = {
    (CS_ENCOUNTER_TYPE, "anc"): (Target(SNOMED, "424525001", "Antenatal care", _ADR),),
    (CS_ENCOUNTER_TYPE, "delivery"): (Target(SNOMED, "236973005", "Delivery procedure", _ADR),),
    (CS_ENCOUNTER_TYPE, "postnatal"): (Target(SNOMED, "133906008", "Postpartum care", _ADR),),
    (CS_ENCOUNTER_TYPE, "child-exam"): (Target(SNOMED, "410620009", "Well child visit", _ADR),),
    (CS_ENCOUNTER_TYPE, "contraception"): (
        Target(
            ICD10,
            "Z30.9",
            "Contraceptive management, unspecified",
            f"code: {_IG}, ICD-10 map, ANC.B10.DE146-DE157 (methods); as an encounter type: our choice",
        ),
    ),
    (CS_DELIVERY_MODE, "normal"): (
        Target(SNOMED, "48782003", "Delivery normal", f"{_IG}, SNOMED CT map, ANC.End.19"),
        Target(
            ICD10,
            "O80.9",
            "Single spontaneous delivery, unspecified",
            f"{_IG}, ICD-10 map, ANC.End.19",
            depends_on=_SINGLE,
        ),
    ),
    (CS_DELIVERY_MODE, "caesarean"): (
        Target(SNOMED, "200144004", "Deliveries by caesarean", f"{_IG}, SNOMED CT map, ANC.End.22"),
        Target(
            ICD10,
            "O82.9",
            "Delivery by caesarean section, unspecified",
            f"{_IG}, ICD-10 map, ANC.End.22",
            depends_on=_SINGLE,
        ),
    ),
    (CS_CONTRACEPTIVE_METHOD, "iud"): (
        Target(
            SNOMED,
            "65200003",
            "Insertion of intrauterine contraceptive device",
            f"{_IG}, SNOMED CT map, ANC.B10.DE146, ANC.B10.DE147",
        ),
    ),
    (CS_CONTRACEPTIVE_METHOD, "implant"): (
        Target(
            SNOMED,
            "425864002",
            "Insertion of hormone into subcutaneous tissue",
            f"{_IG}, SNOMED CT map, ANC.B10.DE148, ANC.B10.DE149",
        ),
    ),
    (CS_CONTRACEPTIVE_METHOD, "pill"): (
        Target(
            SNOMED,
            "386359008",
            "Administration of drug or medicament via oral route",
            f"{_IG}, SNOMED CT map, ANC.B10.DE153, ANC.B10.DE154",
        ),
    ),
    (CS_CONTRACEPTIVE_METHOD, "sterilisation"): (
        Target(
            SNOMED,
            "60890002",
            "Female sterilization",
            f"{_IG}, SNOMED CT map, ANC.B10.DE162",
            depends_on=((SEX, "F"),),
        ),
        Target(
            SNOMED,
            "399141000",
            "Male sterilization",
            f"{_IG}, SNOMED CT map, ANC.B10.DE161",
            depends_on=((SEX, "M"),),
        ),
        Target(ICD10, "Z30.2", "Sterilization", f"{_IG}, ICD-10 map, ANC.B10.DE161, ANC.B10.DE162"),
    ),
    (CS_DEATH_KIND, "fetal"): (
        Target(SNOMED, "237364002", "Stillbirth", f"{_IG}, SNOMED CT map, ANC.End.3"),
    ),
    (CS_DEATH_KIND, "child"): (
        Target(
            SNOMED,
            "276506001",
            "Newborn death",
            f"{_IG}, SNOMED CT map, ANC.B6.DE40",
            depends_on=((AGE, "under-28-days"),),
        ),
    ),
}

# Our codes sent with our coding only (no standard code could be checked), and why. docs/exchanges.md lists
# exactly these (a test compares them).
UNMAPPED: dict[tuple[str, str], str] = {
    (CS_ENCOUNTER_TYPE, "death-report"): "no death-report encounter code in the IG's ConceptMaps",
    (CS_DELIVERY_MODE, "instrumental"): (
        "the IG codes forceps (SNOMED CT 302383004, ICD-10 O81.3, ANC.End.20) and vacuum (SNOMED CT 61586001, "
        "ICD-10 O81.4, ANC.End.21) apart and has no code for 'either'; the register records one value for both"
    ),
    (CS_CONTRACEPTIVE_METHOD, "injectable"): (
        "the IG codes DMPA-IM and DMPA-SC apart (different SNOMED CT codes); the route is not recorded"
    ),
    (CS_CONTRACEPTIVE_METHOD, "condom"): (
        "the IG codes male and female condoms apart; which one is not recorded"
    ),
    (CS_CONTRACEPTIVE_METHOD, "other_modern"): "a residual class, no single standard concept",
    (CS_CONTRACEPTIVE_METHOD, "traditional"): "a residual class, no single standard concept",
    (CS_GROWTH_ZSCORE, "waz"): "no LOINC code for a WHO 2006 z-score could be checked (IG has none)",
    (CS_GROWTH_ZSCORE, "haz"): "no LOINC code for a WHO 2006 z-score could be checked (IG has none)",
    (CS_GROWTH_ZSCORE, "whz"): "no LOINC code for a WHO 2006 z-score could be checked (IG has none)",
    (CS_GROWTH_ZSCORE, "bmiz"): "no LOINC code for a WHO 2006 z-score could be checked (IG has none)",
    (CS_DEATH_KIND, "maternal"): (
        "the IG has only antepartum / intrapartum / postpartum maternal death events; the timing is not "
        "recorded"
    ),
}


def coding(system: str, code: str) -> dict[str, str]:
    """Our own coding (display from `OURS`)."""
    out = {"system": system, "code": code}
    display = OURS.get((system, code))
    if display:
        out["display"] = display
    return out


def codings(system: str, code: str, **context: str) -> list[dict[str, str]]:
    """Our coding first, then every standard coding of the table that holds in this context
    (``sex="F"``, ``births="single"``, ``age="under-28-days"``)."""
    return [
        coding(system, code),
        *(
            {"system": t.system, "code": t.code, "display": t.display}
            for t in MAPPINGS.get((system, code), ())
            if all(context.get(prop.rsplit("/", 1)[1]) == value for prop, value in t.depends_on)
        ),
    ]


def concept(system: str, code: str, **context: str) -> dict[str, Any]:
    return {"coding": codings(system, code, **context)}


def concept_map() -> dict[str, Any]:
    """The table as a FHIR R4 ConceptMap: one group per (our system, standard system); our unmapped codes in a
    group without target, equivalence ``unmatched`` with the reason."""
    groups: dict[tuple[str, str | None], dict[str, dict[str, Any]]] = {}
    for (system, code), targets in MAPPINGS.items():
        for t in targets:
            element = groups.setdefault((system, t.system), {}).setdefault(
                code, {"code": code, "display": OURS[(system, code)], "target": []}
            )
            target: dict[str, Any] = {
                "code": t.code,
                "display": t.display,
                "equivalence": t.equivalence,
                "comment": t.source,
            }
            if t.depends_on:
                target["dependsOn"] = [{"property": p, "value": v} for p, v in t.depends_on]
            element["target"].append(target)
    for (system, code), reason in UNMAPPED.items():
        groups.setdefault((system, None), {})[code] = {
            "code": code,
            "display": OURS[(system, code)],
            "target": [{"equivalence": "unmatched", "comment": reason}],
        }
    resource: dict[str, Any] = {
        "resourceType": "ConceptMap",
        "id": CONCEPT_MAP_ID,
        "url": CONCEPT_MAP_URL,
        "name": "MchisToStandard",
        "title": "Mã của hệ thống SKBMTE/SKSS → SNOMED CT / LOINC / ICD-10",
        "status": "draft",  # until the Ministry's terminology team confirms it
        "publisher": "Bộ Y tế - Vụ Sức khỏe Bà mẹ - Trẻ em",
        "description": (
            "Mã chuẩn gửi kèm mã của chúng tôi trong CodeableConcept.coding. Nguồn: ConceptMap của WHO SMART "
            "ANC IG (WorldHealthOrganization/smart-anc) hoặc ADR 0057."
        ),
        "group": [
            {
                "source": source,
                **({"target": target} if target else {}),
                "element": list(elements.values()),
            }
            for (source, target), elements in groups.items()
        ],
    }
    get_fhir_model_class("ConceptMap").model_validate(resource)
    return resource


def render(resource: Mapping[str, Any]) -> str:
    return json.dumps(resource, ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":  # regenerate the published file
    PUBLISHED.parent.mkdir(parents=True, exist_ok=True)
    PUBLISHED.write_text(render(concept_map()), encoding="utf-8")
    sys.stdout.write(f"{PUBLISHED}\n")
