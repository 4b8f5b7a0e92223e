"""FHIR R4 resources of the registers and the child registry, validated with `fhir.resources`.

Stable, meaningful ids make every delivery idempotent at the warehouse (a transaction Bundle of PUTs):
- Patient ``pid-<personal id>`` when the person has one, else ``rec-<register>-<row>`` (the register row's
  subject), ``nb-<newborn row>`` (a newborn), ``child-<registry uuid>`` (a registry child);
- Encounter ``<register>-<row>`` (``pnc1-``/``pnc2-<delivery row>`` for the postnatal visits);
- Observation / Procedure / Condition ``<encounter id>-<what>``; RelatedPerson ``mother-<child patient id>``.

Profiles (meta.profile) are those of the WHO SMART Guidelines ANC IG (mchis/integrations/ehr/profiles/).
Where we differ: the IG's profiles are FHIR 4.0.1 and we validate with the R4B models of fhir.resources
(same structure for every element we send); RelatedPerson carries only the mother's identity, no contact data;
growth z-scores use our CodeSystem only (no LOINC code for them could be checked).

Coded concepts from our own CodeSystems (encounter type, delivery mode, contraceptive method, growth z-score,
kind of death) carry our coding first and then the standard codings of `conceptmap` (one table, published as a
ConceptMap; docs/exchanges.md "Terminology").
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any, NamedTuple

from fhir.resources.R4B import get_fhir_model_class

from .codes import (
    CS_CONTRACEPTIVE_METHOD,
    CS_DEATH_KIND,
    CS_DELIVERY_MODE,
    CS_ENCOUNTER_TYPE,
    CS_ETHNICITY,
    CS_GROWTH_ZSCORE,
    ENCOUNTER_TYPES,
    EXT_ETHNICITY,
    GENDER,
    ICD10,
    OBS_CATEGORY,
    OBSERVATIONS,
    OUTBOX_TAG_SYSTEM,
    PERSONAL_ID_SYSTEM,
    PROFILE,
    RECORD_ID_SYSTEM,
    RESULTS,
    UCUM,
    V3_ACT,
    V3_ROLE,
    ZSCORES,
)
from .conceptmap import concept

RESOURCE_TYPES = ("Patient", "RelatedPerson", "Encounter", "Observation", "Procedure", "Condition")


class InvalidResource(ValueError):
    pass


def validate(resource: dict[str, Any]) -> dict[str, Any]:
    """Validate with the fhir.resources model of its type; returns the JSON form (no empty elements)."""
    model = get_fhir_model_class(resource["resourceType"])
    try:
        parsed = model.model_validate(resource)
    except ValueError as exc:
        raise InvalidResource(f"{resource['resourceType']}/{resource.get('id')}: {exc}") from exc
    out: dict[str, Any] = json.loads(parsed.model_dump_json(exclude_none=True))
    return out


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _coding(triple: tuple[str, str, str]) -> dict[str, Any]:
    system, code, display = triple
    return {"system": system, "code": code, "display": display}


def _ref(resource_type: str, rid: str) -> dict[str, str]:
    return {"reference": f"{resource_type}/{rid}"}


def _meta(resource_type: str) -> dict[str, Any]:
    profile = PROFILE.get(resource_type)
    return {"profile": [profile]} if profile else {}


def patient_id(personal_id: str, fallback: str) -> str:
    return f"pid-{personal_id}" if personal_id else fallback


def patient(
    rid: str,
    *,
    personal_id: str,
    name: str,
    sex: str,
    dob: date | None,
    ethnicity: str = "",
    address: str = "",
    deceased: date | None = None,
    links: Iterable[str] = (),
) -> dict[str, Any]:
    res: dict[str, Any] = {"resourceType": "Patient", "id": rid, "meta": _meta("Patient"), "active": True}
    if personal_id:
        res["identifier"] = [{"use": "official", "system": PERSONAL_ID_SYSTEM, "value": personal_id}]
    if name:
        res["name"] = [{"use": "official", "text": name}]
    res["gender"] = GENDER.get(sex or "", "unknown")
    if dob:
        res["birthDate"] = dob.isoformat()
    if deceased:
        res["deceasedDateTime"] = deceased.isoformat()
    if address:
        res["address"] = [{"text": address, "country": "VN"}]
    if ethnicity:
        res["extension"] = [
            {"url": EXT_ETHNICITY, "valueCoding": {"system": CS_ETHNICITY, "code": ethnicity}}
        ]
    links = list(links)
    if links:
        res["link"] = [{"other": _ref("RelatedPerson", link), "type": "seealso"} for link in links]
    return res


def mother_of(child_pid: str, *, name: str, personal_id: str, dob: date | None = None) -> dict[str, Any]:
    res: dict[str, Any] = {
        "resourceType": "RelatedPerson",
        "id": f"mother-{child_pid}"[:64],
        "meta": _meta("RelatedPerson"),
        "active": True,
        "patient": _ref("Patient", child_pid),
        "relationship": [{"coding": [{"system": V3_ROLE, "code": "MTH", "display": "mother"}]}],
    }
    if personal_id:
        res["identifier"] = [{"system": PERSONAL_ID_SYSTEM, "value": personal_id}]
    if name:
        res["name"] = [{"text": name}]
    if dob:
        res["birthDate"] = dob.isoformat()
    return res


def encounter(
    rid: str, kind: str, *, subject: str, when: date, facility: Any, voided: bool, record: str
) -> dict[str, Any]:
    return {
        "resourceType": "Encounter",
        "id": rid,
        "meta": _meta("Encounter"),
        "identifier": [{"system": RECORD_ID_SYSTEM, "value": record}],
        "status": "entered-in-error" if voided else "finished",
        "class": {"system": V3_ACT, "code": "AMB", "display": "ambulatory"},
        "type": [concept(CS_ENCOUNTER_TYPE, ENCOUNTER_TYPES[kind])],
        "subject": _ref("Patient", subject),
        "period": {"start": when.isoformat(), "end": when.isoformat()},
        "serviceProvider": {
            "identifier": {"system": f"{RECORD_ID_SYSTEM}/facility", "value": facility.code},
            "display": facility.name,
        },
    }


def observation(
    rid: str, what: str, *, subject: str, enc: str, when: date, voided: bool, **value: Any
) -> dict[str, Any]:
    system, code, display, unit = OBSERVATIONS.get(what, (None, what, what, None))
    res: dict[str, Any] = {
        "resourceType": "Observation",
        "id": rid,
        "meta": _meta("Observation"),
        "status": "entered-in-error" if voided else "final",
        "code": {"coding": [{"system": system, "code": code, "display": display}]},
        "subject": _ref("Patient", subject),
        "encounter": _ref("Encounter", enc),
        "effectiveDateTime": when.isoformat(),
    }
    if "quantity" in value:
        res["valueQuantity"] = {"value": value["quantity"], "unit": unit, "system": UCUM, "code": unit}
    elif "result" in value:
        res["valueCodeableConcept"] = {"coding": [_coding(RESULTS[value["result"]])]}
    elif "concept" in value:
        res["valueCodeableConcept"] = value["concept"]
    elif "date" in value:
        res["valueDateTime"] = value["date"].isoformat()
    elif "zscore" in value:
        res["code"] = concept(CS_GROWTH_ZSCORE, what)
        res["category"] = [{"coding": [{"system": OBS_CATEGORY, "code": "vital-signs"}]}]
        res["valueQuantity"] = {"value": round(float(value["zscore"]), 2), "unit": "SD"}
    return res


def _num(value: Any) -> float | int:
    return float(value) if isinstance(value, Decimal) else value


# --- per register ---------------------------------------------------------------------------------------------


def _subject(register: str, row: Any, *, deceased: date | None = None) -> dict[str, Any]:
    rid = patient_id(row.personal_id, f"rec-{register.replace('_', '-')}-{row.pk}")
    return patient(
        rid,
        personal_id=row.personal_id,
        name=row.full_name,
        sex=row.sex,
        dob=row.dob,
        ethnicity=row.ethnicity_code,
        address=row.address,
        deceased=deceased,
    )


class _Visit(NamedTuple):
    subject: dict[str, Any]  # the Patient resource
    enc_id: str
    voided: bool
    resources: list[dict[str, Any]]  # [the Patient, the Encounter of the visit]


def _visit(register: str, row: Any, *, deceased: date | None = None) -> _Visit:
    """The opening every register builder shares: the subject, the visit's Encounter, voided or not."""
    subject = _subject(register, row, deceased=deceased)
    enc_id = f"{register.replace('_', '-')}-{row.pk}"
    voided = row.voided_at is not None
    visit = encounter(
        enc_id,
        register,
        subject=subject["id"],
        when=row.event_date,
        facility=row.facility,
        voided=voided,
        record=row.source_record_id,
    )
    return _Visit(subject, enc_id, voided, [subject, visit])


def anc_resources(row: Any) -> list[dict[str, Any]]:
    pat, enc_id, voided, out = _visit("anc", row)
    common = {"subject": pat["id"], "enc": enc_id, "when": row.event_date, "voided": voided}
    if row.gestational_age_weeks is not None:
        out.append(
            observation(f"{enc_id}-ga", "gestational_age", quantity=row.gestational_age_weeks, **common)
        )
    if row.expected_delivery_date:
        out.append(observation(f"{enc_id}-edd", "edd", date=row.expected_delivery_date, **common))
    for test in ("hiv", "syphilis", "hepb"):
        result = getattr(row, f"{test}_result")
        if getattr(row, f"{test}_tested") and result in RESULTS:
            out.append(observation(f"{enc_id}-{test}", test, result=result, **common))
    return out


def delivery_resources(row: Any, newborns: Iterable[Any]) -> list[dict[str, Any]]:
    newborns = list(newborns)
    mother, enc_id, voided, out = _visit("delivery", row)
    out.append(
        {
            "resourceType": "Procedure",
            "id": f"{enc_id}-mode",
            "meta": _meta("Procedure"),
            "status": "entered-in-error" if voided else "completed",
            "code": concept(
                CS_DELIVERY_MODE,
                row.delivery_mode or "normal",
                births="single" if len(newborns) == 1 else "multiple",
            ),
            "subject": _ref("Patient", mother["id"]),
            "encounter": _ref("Encounter", enc_id),
            "performedDateTime": row.event_date.isoformat(),
        }
    )
    for n, when in ((1, row.postpartum_week1_date), (2, row.postpartum_week2_6_date)):
        if when:
            out.append(
                encounter(
                    f"pnc{n}-{row.pk}",
                    "postnatal",
                    subject=mother["id"],
                    when=when,
                    facility=row.facility,
                    voided=voided,
                    record=f"{row.source_record_id}#pnc{n}",
                )
            )
    for baby in newborns:
        if baby.outcome != "live":
            continue
        child_id = patient_id(baby.personal_id, f"nb-{baby.pk}")
        related = mother_of(child_id, name=row.full_name, personal_id=row.personal_id, dob=row.dob)
        out.append(
            patient(
                child_id,
                personal_id=baby.personal_id,
                name=baby.full_name,
                sex=baby.sex,
                dob=row.event_date,
                ethnicity=baby.ethnicity_code,
                links=[related["id"]],
            )
        )
        out.append(related)
        if baby.weight_grams:
            out.append(
                observation(
                    f"{enc_id}-bw{baby.birth_order}",
                    "birth_weight",
                    subject=child_id,
                    enc=enc_id,
                    when=row.event_date,
                    voided=voided,
                    quantity=baby.weight_grams,
                )
            )
    return out


def child_exam_resources(row: Any) -> list[dict[str, Any]]:
    child, enc_id, voided, out = _visit("child_exam", row)
    common = {"subject": child["id"], "enc": enc_id, "when": row.event_date, "voided": voided}
    if row.mother_name:
        related = mother_of(child["id"], name=row.mother_name, personal_id="")
        child["link"] = [{"other": _ref("RelatedPerson", related["id"]), "type": "seealso"}]
        out.append(related)
    if row.weight_kg is not None:
        out.append(observation(f"{enc_id}-wt", "weight", quantity=_num(row.weight_kg), **common))
    if row.height_cm is not None:
        what = "length" if row.measured_lying else "height"
        out.append(observation(f"{enc_id}-ht", what, quantity=_num(row.height_cm), **common))
    for code in ZSCORES:
        value = getattr(row, code)
        if value is not None:
            out.append(observation(f"{enc_id}-{code}", code, zscore=value, **common))
    return out


def contraception_resources(row: Any) -> list[dict[str, Any]]:
    client, enc_id, voided, out = _visit("contraception", row)
    return [
        *out,
        observation(
            f"{enc_id}-method",
            "contraceptive_method",
            subject=client["id"],
            enc=enc_id,
            when=row.event_date,
            voided=voided,
            concept=concept(CS_CONTRACEPTIVE_METHOD, row.method_code, sex=row.sex or ""),
        ),
    ]


def death_resources(row: Any) -> list[dict[str, Any]]:
    fetal = row.death_kind == "fetal"  # the subject is the mother: she is alive
    subject, enc_id, voided, out = _visit("death", row, deceased=None if fetal else row.event_date)
    condition: dict[str, Any] = {
        "resourceType": "Condition",
        "id": f"{enc_id}-cause",
        "meta": _meta("Condition"),
        "category": [concept(CS_DEATH_KIND, row.death_kind, age="under-28-days" if row.under_28d else "")],
        "subject": _ref("Patient", subject["id"]),
        "encounter": _ref("Encounter", enc_id),
        "recordedDate": row.event_date.isoformat(),
        "verificationStatus": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/condition-ver-status",
                    "code": "entered-in-error" if voided else "confirmed",
                }
            ]
        },
    }
    if row.icd10_code:
        condition["code"] = {
            "coding": [{"system": ICD10, "code": row.icd10_code}],
            "text": row.cause_text or None,
        }
    elif row.cause_text:
        condition["code"] = {"text": row.cause_text}
    return [*out, condition]


def registry_child_resources(child: Any) -> list[dict[str, Any]]:
    rid = patient_id(child.personal_id, f"child-{child.public_id}")
    related = (
        mother_of(rid, name=child.mother_name, personal_id=child.mother_personal_id, dob=child.mother_dob)
        if child.mother_name or child.mother_personal_id
        else None
    )
    pat = patient(
        rid,
        personal_id=child.personal_id,
        name=child.full_name,
        sex=child.sex,
        dob=child.date_of_birth,
        ethnicity=child.ethnicity_code,
        address=child.address_detail,
        links=[related["id"]] if related else [],
    )
    pat["active"] = child.status == "active"
    return [pat, related] if related else [pat]


def transaction_bundle(resources: Iterable[dict[str, Any]], *, entry_ids: Iterable[int], key: str) -> bytes:
    """One transaction Bundle of PUTs (a resource repeated in the batch is sent once, its last state), tagged
    with the outbox entry ids it carries (the warehouse counts each entry once)."""
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for res in resources:
        unique[(res["resourceType"], res["id"])] = res
    entries = [
        {"resource": validate(res), "request": {"method": "PUT", "url": f"{rtype}/{rid}"}}
        for (rtype, rid), res in unique.items()
    ]
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "transaction",
        "identifier": {"system": OUTBOX_TAG_SYSTEM, "value": key},
        "meta": {"tag": [{"system": OUTBOX_TAG_SYSTEM, "code": str(pk)} for pk in entry_ids]},
        "entry": entries,
    }
    # The envelope too (its entries' resources were validated one by one above).
    get_fhir_model_class("Bundle").model_validate(
        {**bundle, "entry": [{"request": e["request"]} for e in entries]}
    )
    return json.dumps(bundle, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
