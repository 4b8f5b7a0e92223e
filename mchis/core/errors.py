"""Domain errors raised by services; views and the API turn them into responses.

Messages are Vietnamese (the UI language) and name the field when there is one.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A refused operation: bad input or a rule that forbids it. HTTP 400/409/422."""

    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class ValidationFailed(DomainError):
    status_code = 422
    code = "validation"

    def __init__(
        self, errors: list[dict[str, str | int | None]], message: str = "Dữ liệu không hợp lệ."
    ) -> None:
        super().__init__(message)
        self.errors = errors

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "errors": self.errors}


class Conflict(DomainError):
    """Someone else acted first (e.g. two leaders approving the same request)."""

    status_code = 409
    code = "conflict"


class PermissionDeniedError(DomainError):
    """The actor may see the object but the role may not do this action (403).

    Objects outside the actor's jurisdiction never reach here: they are 404 (scoping)."""

    status_code = 403
    code = "forbidden"


class StepUpRequired(DomainError):
    """Critical operation without a recent second-factor check (R-SEC-04)."""

    status_code = 403
    code = "step_up_required"
