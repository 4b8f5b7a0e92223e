"""Fixtures of the registers tests: a collector at TYT A1, records builders."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest


def anc(facility: str = "TYT02269", rid: str = "A-1", **over: Any) -> dict[str, Any]:
    today = date.today()
    rec = {
        "facility": facility,
        "source_system": "his-x",
        "source_record_id": rid,
        "event_date": (today - timedelta(days=3)).isoformat(),
        "place": "at_facility",
        "full_name": "Trần Thị Hoa",
        "dob": "2008-05-01",
        "ethnicity_code": "02",
        "is_new_pregnancy": True,
        "gestational_age_weeks": 10,
        "urine_protein_tested": True,
        "hiv_tested": True,
        "hiv_result": "negative",
    }
    rec.update(over)
    return rec


def delivery(facility: str = "TYT02269", rid: str = "D-1", **over: Any) -> dict[str, Any]:
    today = date.today()
    rec = {
        "facility": facility,
        "source_system": "his-x",
        "source_record_id": rid,
        "event_date": (today - timedelta(days=2)).isoformat(),
        "place": "at_facility",
        "full_name": "Lò Thị Mai",
        "dob": "1995-02-03",
        "ethnicity_code": "03",
        "gestational_age_weeks": 39,
        "delivery_mode": "normal",
        "attendant": "midwife",
        "anc_visits": 4,
        "anc_all_trimesters": True,
        "hiv_tested_pregnancy": True,
        "newborns": [
            {
                "outcome": "live",
                "sex": "F",
                "weight_grams": 2400,
                "vitamin_k1": True,
                "hepb_vaccine_24h": True,
            }
        ],
    }
    rec.update(over)
    return rec


@pytest.fixture
def collector(tree, make_user):
    return make_user("collector", tree.tyt_a1)


@pytest.fixture
def ttyt_reporter(tree, make_user):
    return make_user("reporter", tree.ttyt_a)
