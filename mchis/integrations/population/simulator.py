"""A small simulated national population registry (its own process, stdlib only).

    python -m mchis.integrations.population.simulator --port 8765 --data population.jsonl [--fail-first N]

Seeded from the demo generator's `--population` file: JSON lines with personal_id, full_name,
date_of_birth, sex, father_name, mother_name. Answers `POST /v1/identity/check` with the real mismatch
kinds; `--fail-first N` answers 503 to the first N checks (to exercise retries).
"""

from __future__ import annotations

import argparse
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from mchis.integrations.exchange.receiver import JsonRequestHandler
from mchis.integrations.exchange.signing import HEADER, SignatureRejected, verify_detached
from mchis.integrations.population.compare import compare


def load(path: Path) -> dict[str, dict[str, Any]]:
    people: dict[str, dict[str, Any]] = {}
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.strip()
            if line:
                person = json.loads(line)
                people[str(person["personal_id"])] = person
    return people


class Registry:
    def __init__(
        self, people: dict[str, dict[str, Any]], fail_first: int = 0, *, token: str = "", jwks: str = ""
    ) -> None:
        self.people = people
        self.token = token
        self.jwks = jwks  # with a key file, requests must carry our detached JWS (R-INT-05)
        self.fail_remaining = fail_first
        self.lock = threading.Lock()
        self.calls = 0

    def refusal(self, authorization: str, signature: str | None, body: bytes) -> str:
        if self.token and authorization != f"Bearer {self.token}":
            return "bad_token"
        if self.jwks:
            keys = json.loads(Path(self.jwks).read_text(encoding="utf-8"))
            try:
                verify_detached(signature, body, jwks=keys, audience="population")
            except SignatureRejected as exc:
                return exc.code
        return ""

    def should_fail(self) -> bool:
        with self.lock:
            self.calls += 1
            if self.fail_remaining > 0:
                self.fail_remaining -= 1
                return True
            return False


def make_handler(registry: Registry) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonRequestHandler):
        server_version = "SimulatedPopulationRegistry/1"

        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(200, {"status": "ok", "people": len(registry.people), "calls": registry.calls})
            else:
                self._send(404, {"error": "not found"})

        def do_POST(self) -> None:
            if self.path != "/v1/identity/check":
                self._send(404, {"error": "not found"})
                return
            length = int(self.headers.get("Content-Length", "0") or 0)
            body = self.rfile.read(length)
            refusal = registry.refusal(self.headers.get("Authorization", ""), self.headers.get(HEADER), body)
            if refusal:
                self._send(401, {"error": refusal})
                return
            if registry.should_fail():
                self._send(503, {"error": "tạm thời không phục vụ"})
                return
            try:
                claimed = json.loads(body or b"{}")
                personal_id = str(claimed["personal_id"])
            except (ValueError, KeyError):
                self._send(400, {"error": "bad request"})
                return
            result = compare(registry.people.get(personal_id), claimed)
            self._send(200, {"result": result.kind.value, "detail": result.detail})

    return Handler


def serve(
    port: int, data: Path, fail_first: int = 0, host: str = "127.0.0.1", token: str = "", jwks: str = ""
) -> ThreadingHTTPServer:
    registry = Registry(load(data), fail_first, token=token, jwks=jwks)
    server = ThreadingHTTPServer((host, port), make_handler(registry))
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Simulated national population registry (CSDL dân cư mô phỏng)"
    )
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--data", type=Path, required=True, help="JSON lines from generate_demo --population")
    parser.add_argument("--fail-first", type=int, default=0, help="answer 503 to the first N checks")
    parser.add_argument("--token", default="", help="require this bearer token")
    parser.add_argument("--jwks", default="", help="require requests signed by a key of this JWKS file")
    args = parser.parse_args(argv)
    server = serve(args.port, args.data, args.fail_first, args.host, args.token, args.jwks)
    print(f"ready on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
