"""Canonical URLs and codes of the FHIR exchange (docs/exchanges.md lists them).

Our own catalogs are CodeSystems under CANONICAL; the personal ID is the identifier system of a NamingSystem.
The canonical base is a placeholder until the Ministry registers one: changing it is one constant.
"""

from __future__ import annotations

CANONICAL = "https://mchis.moh.gov.vn/fhir"
PERSONAL_ID_SYSTEM = f"{CANONICAL}/sid/so-dinh-danh-ca-nhan"
NAMING_SYSTEM_ID = "so-dinh-danh-ca-nhan"
RECORD_ID_SYSTEM = f"{CANONICAL}/sid/register-record"
OUTBOX_TAG_SYSTEM = f"{CANONICAL}/CodeSystem/outbox-entry"

CS_ENCOUNTER_TYPE = f"{CANONICAL}/CodeSystem/encounter-type"
CS_DELIVERY_MODE = f"{CANONICAL}/CodeSystem/delivery-mode"
CS_CONTRACEPTIVE_METHOD = f"{CANONICAL}/CodeSystem/contraceptive-method"
CS_GROWTH_ZSCORE = f"{CANONICAL}/CodeSystem/growth-zscore"
CS_DEATH_KIND = f"{CANONICAL}/CodeSystem/death-kind"
CS_ETHNICITY = f"{CANONICAL}/CodeSystem/ethnicity-qd121"
EXT_ETHNICITY = f"{CANONICAL}/StructureDefinition/ethnicity"

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
UCUM = "http://unitsofmeasure.org"
V3_ROLE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V3_ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

WHO_ANC = "http://fhir.org/guides/who/anc-cds/StructureDefinition"
PROFILE = {
    "Patient": f"{WHO_ANC}/anc-base-patient",
    "Encounter": f"{WHO_ANC}/anc-base-encounter",
    "Observation": f"{WHO_ANC}/anc-observation",
    "RelatedPerson": f"{WHO_ANC}/anc-relatedperson",
    "Condition": f"{WHO_ANC}/anc-condition",
    "Procedure": f"{WHO_ANC}/anc-procedure",
}

# Register kind → our encounter-type code (its standard codes: conceptmap.MAPPINGS).
ENCOUNTER_TYPES = {
    "anc": "anc",
    "delivery": "delivery",
    "postnatal": "postnatal",
    "child_exam": "child-exam",
    "contraception": "contraception",
    "death": "death-report",
}
OBSERVATIONS = {
    "gestational_age": (LOINC, "18185-9", "Gestational age", "wk"),
    "edd": (LOINC, "11778-8", "Delivery date Estimated", None),
    "hiv": (LOINC, "7917-8", "HIV 1 Ab [Presence] in Serum", None),
    "syphilis": (LOINC, "20507-0", "Reagin Ab [Presence] in Serum by RPR", None),
    "hepb": (LOINC, "5196-1", "Hepatitis B virus surface Ag [Presence] in Serum", None),
    "birth_weight": (LOINC, "8339-4", "Birth weight Measured", "g"),
    "weight": (LOINC, "29463-7", "Body weight", "kg"),
    "height": (LOINC, "8302-2", "Body height", "cm"),
    "length": (LOINC, "8306-3", "Body height --lying", "cm"),
    "contraceptive_method": (LOINC, "8659-5", "Birth control method - Reported", None),
}
RESULTS = {
    "positive": (SNOMED, "10828004", "Positive"),
    "negative": (SNOMED, "260385009", "Negative"),
}
ZSCORES = ("waz", "haz", "whz", "bmiz")  # WHO 2006 z-scores of a child exam, our CodeSystem growth-zscore
GENDER = {"F": "female", "M": "male", "U": "unknown", "": "unknown"}
