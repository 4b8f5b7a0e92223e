"""/api/v1/quality — entry-time checks (rules + possible duplicates), findings, scores. Thin."""

from __future__ import annotations

from datetime import date
from typing import Any

from ninja import Field, Router, Schema

from mchis.accounts.permissions import require
from mchis.core.errors import DomainError
from mchis.core.http import ApiRequest

from . import selectors
from .engine import evaluate_child
from .rules import RULES_BY_CODE

router = Router(tags=["quality"])


class ChildDraft(Schema):
    """A child being entered (the create form's fields)."""

    full_name: str = Field(examples=["Nguyễn Thị Lan"])
    date_of_birth: date | None = Field(None, examples=["2019-05-06"])
    sex: str = Field("", examples=["F"])
    ethnicity_code: str = Field("", examples=["01"])
    personal_id: str = Field("", examples=["008319123456"])
    mother_name: str = Field("", examples=["Trần Thị Hoa"])
    father_name: str = ""
    guardian_name: str = ""
    guardian_relationship: str = ""
    commune_id: int | None = None
    village_id: int | None = None


class FindingOut(Schema):
    rule_code: str = Field(examples=["DQ_MISSING"])
    severity: str = Field(examples=["error"])
    field: str = Field(examples=["sex"])
    message: str = Field(examples=["Thiếu trường bắt buộc: Giới tính."])


class CandidateOut(Schema):
    child_id: str = Field(description="public id", examples=["1b4e28ba-2fa1-11d2-883f-0016d3cca427"])
    full_name: str
    date_of_birth: date | None
    unit_name: str
    probability: float = Field(examples=[0.998])


class CheckOut(Schema):
    findings: list[FindingOut]
    possible_duplicates: list[CandidateOut] = Field(description="Only children of the caller's own area")
    match_elsewhere: bool = Field(
        False, description="A possible match exists outside the caller's area (no details are given)"
    )
    notice: str = Field("", examples=["Có thể có hồ sơ trùng ở xã khác — hãy liên hệ tuyến huyện."])


@router.post("/check-child", response=CheckOut, summary="Kiểm tra khi nhập: cảnh báo và trẻ có thể đã có")
def check_child(request: ApiRequest, payload: ChildDraft) -> dict[str, Any]:
    principal = request.auth
    require(principal, "child.view")
    unit = principal.unit
    if unit is None:
        raise DomainError("Tài khoản không thuộc đơn vị nào.")
    data = payload.model_dump() | {"unit_id": unit.pk}
    findings = [
        {
            "rule_code": f.rule_code,
            "severity": RULES_BY_CODE[f.rule_code].severity,
            "field": f.field,
            "message": f.message,
        }
        for f in evaluate_child(data)
    ]
    candidates, elsewhere = selectors.entry_duplicates(principal, data)
    dups = [
        {"child_id": c.public_id, "full_name": c.full_name, "date_of_birth": c.date_of_birth,
         "unit_name": c.unit_name, "probability": c.probability}
        for c in candidates
    ]  # fmt: skip
    notice = selectors.ELSEWHERE_NOTICE if elsewhere else ""
    return {"findings": findings, "possible_duplicates": dups, "match_elsewhere": elsewhere, "notice": notice}


class ScoreRow(Schema):
    unit_code: str
    unit_name: str
    records: int
    scores: dict[str, float]


@router.get("/scores", response=list[ScoreRow], summary="Điểm chất lượng 6 tiêu chí theo đơn vị (tháng này)")
def scores(request: ApiRequest) -> list[dict[str, Any]]:
    require(request.auth, "quality.view")
    return [
        {"unit_code": r["code"], "unit_name": r["name"], "records": r["records"], "scores": r["scores"]}
        for r in selectors.unit_scores(request.auth)
    ]
