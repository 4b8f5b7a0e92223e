"""Boundary objects of the population gateway. No Django here: the simulator imports this module too."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, Protocol


class MismatchKind(StrEnum):
    """The known outcomes of an identity check (DC II.1, III)."""

    MATCH = "match"
    WRONG_DOB = "wrong_dob"
    WRONG_NAME = "wrong_name"
    BOTH_WRONG = "both_wrong"
    ID_NOT_FOUND = "id_not_found"
    OTHER = "other"


LABELS = {
    MismatchKind.MATCH: "Khớp",
    MismatchKind.WRONG_DOB: "Sai ngày sinh",
    MismatchKind.WRONG_NAME: "Sai họ tên",
    MismatchKind.BOTH_WRONG: "Sai cả họ tên và ngày sinh",
    MismatchKind.ID_NOT_FOUND: "Số định danh không có trong CSDL dân cư",
    MismatchKind.OTHER: "Sai khác khác",
}


@dataclass(frozen=True)
class IdentityQuery:
    personal_id: str
    full_name: str
    date_of_birth: date | None
    sex: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "personal_id": self.personal_id,
            "full_name": self.full_name,
            "date_of_birth": self.date_of_birth.isoformat() if self.date_of_birth else None,
            "sex": self.sex,
        }


@dataclass(frozen=True)
class IdentityResult:
    kind: MismatchKind
    detail: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: dict[str, Any]) -> IdentityResult:
        try:
            kind = MismatchKind(body["result"])
        except (KeyError, ValueError) as exc:
            raise GatewayUnavailable(f"unexpected answer: {body!r:.200}") from exc
        return cls(kind=kind, detail=dict(body.get("detail") or {}))


class GatewayUnavailable(Exception):
    """Timeout, connection error, 5xx or a malformed answer: the check must be retried, never dropped."""


class GatewayCutOff(GatewayUnavailable):
    """The gateway was not called: its circuit breaker is open after repeated failures (mchis.core.resilience).
    Retried like any unavailability, but not counted as one of the check's attempts."""


class PopulationGateway(Protocol):
    def check_identity(self, query: IdentityQuery) -> IdentityResult: ...
