from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest

_serial = itertools.count(1)


@pytest.fixture
def child(tree):
    """child(**fields) -> a Child row in commune A1 (TYT A1) with sane defaults (test data set-up)."""
    from mchis.core.text import fold
    from mchis.places.models import Village
    from mchis.registry.models import Child

    village, _ = Village.objects.get_or_create(
        commune=tree.commune_a1, code="T1", defaults={"name": "Thôn 1"}
    )

    def make(**kw: Any) -> Child:
        n = next(_serial)
        values: dict[str, Any] = {
            "unit": tree.tyt_a1, "commune": tree.commune_a1, "village": village,
            "full_name": f"Nguyễn Văn Tèo {n}", "date_of_birth": date(2018, 3, 4), "sex": "M",
            "ethnicity_code": "01", "mother_name": "Trần Thị Hoa", "father_name": "Nguyễn Văn Nam",
        }  # fmt: skip
        values.update(kw)
        values["name_folded"] = fold(values["full_name"])
        values["guardian_name_folded"] = fold(values.get("guardian_name", ""))
        return Child.objects.create(**values)

    make.village = village  # type: ignore[attr-defined]
    return make
