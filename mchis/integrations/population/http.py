"""HTTP adapter to the population gateway (settings.POPULATION_GATEWAY_URL)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Callable

from mchis.core.resilience import CircuitOpen, breaker

from .types import GatewayCutOff, GatewayUnavailable, IdentityQuery, IdentityResult


class HttpPopulationGateway:
    def __init__(
        self,
        base_url: str,
        *,
        timeout: float = 5.0,
        token: str = "",
        signer: Callable[[bytes], str] | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("POPULATION_GATEWAY_URL must be an http(s) URL")
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.token = token
        self.signer = signer  # detached JWS over the body (R-INT-05), as for every outbound exchange

    def _headers(self, body: bytes) -> dict[str, str]:
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.signer is not None:
            headers["X-Signature"] = self.signer(body)
        return headers

    def check_identity(self, query: IdentityQuery) -> IdentityResult:
        """One call, bounded by `timeout`, through the partner's circuit breaker: while the gateway is known to
        be down, fail at once (GatewayUnavailable, the caller's retry path) instead of waiting (R-OPS-02)."""
        try:
            return breaker("population").call(self._call, query)
        except CircuitOpen as exc:
            raise GatewayCutOff(
                "CSDL dân cư tạm thời không truy cập được (ngắt mạch sau nhiều lần lỗi liên tiếp); sẽ thử lại sau."
            ) from exc

    def _call(self, query: IdentityQuery) -> IdentityResult:
        body = json.dumps(query.as_json()).encode("utf-8")
        request = urllib.request.Request(  # noqa: S310 - scheme checked in __init__
            f"{self.base_url}/v1/identity/check",
            data=body,
            headers=self._headers(body),
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return IdentityResult.from_json(json.loads(response.read()))
        except urllib.error.HTTPError as exc:
            raise GatewayUnavailable(f"HTTP {exc.code}") from exc
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise GatewayUnavailable(str(exc)[:200]) from exc
