"""In-memory gateway for service tests (STYLE.md practice 8)."""

from __future__ import annotations

from typing import Any

from .compare import compare
from .types import GatewayUnavailable, IdentityQuery, IdentityResult


class FakePopulationGateway:
    def __init__(self, people: dict[str, dict[str, Any]] | None = None, *, fail_times: int = 0) -> None:
        self.people = people or {}
        self.fail_times = fail_times
        self.calls: list[IdentityQuery] = []

    def check_identity(self, query: IdentityQuery) -> IdentityResult:
        self.calls.append(query)
        if self.fail_times > 0:
            self.fail_times -= 1
            raise GatewayUnavailable("timeout (fake)")
        return compare(self.people.get(query.personal_id), query.as_json())
