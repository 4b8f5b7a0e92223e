"""The base of the local partner receivers (stdlib HTTP, no Django: each runs as its own process).

A receiver checks, in this order: the bearer token (401 bad_token), the size limit (413), the detached JWS
signature against our public keys (401 missing_signature / unknown_key / bad_signature / wrong_audience /
clock_skew; an unknown kid makes it reload the key set once, which is how a rotation reaches it), an injected
failure (503), then the partner's own validation (400 with the reason) and application. It applies each
outbox entry once (the ids travel in the payload) and remembers every request's answer by its
Idempotency-Key, so a re-sent request gets the first answer back.

Test and demo controls: `GET /state` (what was applied, in order), `POST /control` with
{"fail_next": n, "slow": seconds, "malformed_next": n, "clock_offset": seconds} (localhost only).
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .signing import HEADER, SignatureRejected, verify_detached


class Refused(Exception):
    """The payload is invalid: answered 400 with this message."""


class ReceiverState:
    def __init__(self, *, name: str, token: str, jwks_source: str, max_bytes: int) -> None:
        self.name = name
        self.token = token
        self.jwks_source = jwks_source
        self.max_bytes = max_bytes
        self.lock = threading.RLock()
        self.jwks: dict[str, Any] = {"keys": []}
        self.applied: list[int] = []
        self.applied_set: set[int] = set()
        self.answers: dict[str, tuple[int, bytes]] = {}
        self.refusals: dict[str, int] = {}
        self.requests = 0
        self.fail_next = 0
        self.malformed_next = 0
        self.slow = 0.0
        self.clock_offset = 0.0
        self.data: dict[str, Any] = {}
        self.load_keys()

    def load_keys(self) -> None:
        if not self.jwks_source:
            return
        try:
            if self.jwks_source.startswith(("http://", "https://")):
                with urllib.request.urlopen(self.jwks_source, timeout=5) as answer:  # noqa: S310
                    self.jwks = json.loads(answer.read())
            else:
                self.jwks = json.loads(Path(self.jwks_source).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pass  # keep the keys we had: a broken key source must not lock out a working sender

    def verify(self, signature: str | None, body: bytes) -> None:
        now = time.time() + self.clock_offset
        try:
            verify_detached(signature, body, jwks=self.jwks, audience=self.name, now=now)
        except SignatureRejected as exc:
            if exc.code != "unknown_key":
                raise
            self.load_keys()  # a rotation: fetch the new public keys once
            verify_detached(signature, body, jwks=self.jwks, audience=self.name, now=now)

    def refuse(self, code: str) -> None:
        with self.lock:
            self.refusals[code] = self.refusals.get(code, 0) + 1

    def apply_entries(self, entry_ids: list[int]) -> int:
        """Record entries not seen before, in the order received; returns how many were new."""
        new = 0
        with self.lock:
            for pk in entry_ids:
                if pk not in self.applied_set:
                    self.applied_set.add(pk)
                    self.applied.append(pk)
                    new += 1
        return new

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {
                "partner": self.name,
                "requests": self.requests,
                "applied": list(self.applied),
                "refusals": dict(self.refusals),
                **{k: v for k, v in self.data.items() if not k.startswith("_")},
            }


Handler = Callable[[ReceiverState, bytes, dict[str, str]], tuple[int, dict[str, Any] | bytes, str]]


class JsonRequestHandler(BaseHTTPRequestHandler):
    """The scaffolding every local partner process shares (receivers, the handbook app, the population
    simulator): quiet logs, and one way to answer (JSON by default, or bytes of a given type)."""

    def log_message(self, format: str, *args: Any) -> None:  # stdlib signature
        return

    def _send(
        self, status: int, body: dict[str, Any] | bytes, content_type: str = "application/json"
    ) -> None:
        payload = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", f"{content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def make_server(
    state: ReceiverState, *, path: str, handle: Handler, host: str = "127.0.0.1", port: int = 0
) -> ThreadingHTTPServer:
    class RequestHandler(JsonRequestHandler):
        server_version = f"Simulated-{state.name}/1"

        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(200, {"status": "ok", "partner": state.name})
            elif self.path == "/state":
                self._send(200, state.snapshot())
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0") or 0)
            if self.path == "/control":
                self._control(json.loads(self.rfile.read(length) or b"{}"))
                return
            if self.path != path:
                self._send(404, {"error": "not_found"})
                return
            with state.lock:
                state.requests += 1
            if self.headers.get("Authorization", "") != f"Bearer {state.token}":
                state.refuse("bad_token")
                self._send(401, {"error": "bad_token"})
                return
            if length > state.max_bytes:
                state.refuse("too_large")
                self._send(413, {"error": "too_large", "max_bytes": state.max_bytes})
                return
            body = self.rfile.read(length)
            try:
                state.verify(self.headers.get(HEADER), body)
            except SignatureRejected as exc:
                state.refuse(exc.code)
                self._send(401, {"error": exc.code, "message": str(exc)})
                return
            key = self.headers.get("Idempotency-Key", "")
            with state.lock:
                if state.fail_next > 0:
                    state.fail_next -= 1
                    self._send(503, {"error": "unavailable"})
                    return
                if key and key in state.answers:
                    status, stored = state.answers[key]
                    self._send(status, stored)
                    return
            try:
                status, answer, content_type = handle(state, body, dict(self.headers.items()))
            except Refused as exc:
                state.refuse("invalid_payload")
                self._send(400, {"error": "invalid_payload", "message": str(exc)[:500]})
                return
            encoded = answer if isinstance(answer, bytes) else json.dumps(answer, ensure_ascii=False).encode()
            with state.lock:
                if key:
                    state.answers[key] = (status, encoded)
                slow, state_malformed = state.slow, state.malformed_next
                if state_malformed:
                    state.malformed_next -= 1
            if slow:
                time.sleep(slow)  # applied, answer late: a sender killed now must not duplicate anything
            if state_malformed:
                self._send(200, b"<html>proxy error</html>", "text/html")
                return
            self._send(status, encoded, content_type)

        def _control(self, body: dict[str, Any]) -> None:
            if self.client_address[0] not in ("127.0.0.1", "::1"):
                self._send(403, {"error": "forbidden"})
                return
            with state.lock:
                state.fail_next = int(body.get("fail_next", state.fail_next))
                state.malformed_next = int(body.get("malformed_next", state.malformed_next))
                state.slow = float(body.get("slow", state.slow))
                state.clock_offset = float(body.get("clock_offset", state.clock_offset))
            self._send(200, {"ok": True})

    return ThreadingHTTPServer((host, port), RequestHandler)
