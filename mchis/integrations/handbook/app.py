"""A simulated e-MCH handbook app (its own process): pulls our feed with its own token on a timer, verifies
our signature on each page (detached JWS, audience "handbook"), validates the page's shape, keeps the
timelines (dropping a person on a tombstone) and serves what it holds.

    python -m mchis.integrations.handbook.app --feed http://127.0.0.1:8000/api/v1/handbook/feed \
        --token T --jwks http://127.0.0.1:8000/api/v1/exchanges/jwks --port 8783 [--interval 300]

`GET /health`, `GET /state` (cursor, persons held, pulls, refusals), `POST /pull` (pull now).
"""

from __future__ import annotations

import argparse
import json
import threading
import urllib.error
import urllib.request
from http.server import ThreadingHTTPServer
from typing import Any

from ..exchange.receiver import JsonRequestHandler
from ..exchange.signing import HEADER, SignatureRejected, verify_detached


class Handbook:
    def __init__(self, *, feed: str, token: str, jwks: str) -> None:
        self.feed, self.token, self.jwks_url = feed, token, jwks
        self.jwks: dict[str, Any] = {"keys": []}
        self.cursor = 0
        self.etag = ""
        self.persons: dict[str, dict[str, Any]] = {}
        self.pulls = 0
        self.refusals: dict[str, int] = {}
        self.last_error = ""
        self.lock = threading.Lock()

    def _get(self, url: str, headers: dict[str, str]) -> tuple[int, bytes, dict[str, str]]:
        request = urllib.request.Request(url, headers=headers)  # noqa: S310 - configured http(s) URL
        try:
            with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
                return answer.status, answer.read(), dict(answer.headers.items())
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read() or b"", dict(exc.headers.items()) if exc.headers else {}

    def refresh_keys(self) -> None:
        status, body, _ = self._get(self.jwks_url, {})
        if status == 200:
            self.jwks = json.loads(body)

    def verify(self, signature: str | None, body: bytes) -> None:
        try:
            verify_detached(signature, body, jwks=self.jwks, audience="handbook")
        except SignatureRejected as exc:
            if exc.code != "unknown_key":
                raise
            self.refresh_keys()
            verify_detached(signature, body, jwks=self.jwks, audience="handbook")

    def pull(self, max_pages: int = 1000) -> int:
        """Pull pages until the feed has no more; returns the persons received."""
        received = 0
        with self.lock:
            for _ in range(max_pages):
                self.pulls += 1
                headers = {"Authorization": f"Bearer {self.token}"}
                if self.etag:
                    headers["If-None-Match"] = self.etag
                status, body, answer = self._get(f"{self.feed}?since={self.cursor}&limit=200", headers)
                if status == 304:
                    break
                if status != 200:
                    self.last_error = f"HTTP {status}"
                    break
                try:
                    self.verify(answer.get(HEADER), body)
                    page = json.loads(body)
                    persons = page["persons"]
                    cursor = int(page["cursor"])
                    if not isinstance(persons, list) or any("person" not in p for p in persons):
                        raise ValueError("trang không đúng cấu trúc")
                except SignatureRejected as exc:
                    self.refusals[exc.code] = self.refusals.get(exc.code, 0) + 1
                    self.last_error = exc.code
                    break
                except (ValueError, KeyError, TypeError) as exc:
                    self.refusals["invalid_page"] = self.refusals.get("invalid_page", 0) + 1
                    self.last_error = str(exc)[:200]
                    break
                for person in persons:
                    pid = person["person"]["personal_id"]
                    if person.get("withdrawn"):
                        self.persons.pop(pid, None)
                    else:
                        self.persons[pid] = person
                received += len(persons)
                self.etag = answer.get("ETag", "")
                moved = cursor != self.cursor
                self.cursor = cursor
                if not page.get("has_more") or not moved:
                    break
        return received

    def state(self) -> dict[str, Any]:
        return {
            "cursor": self.cursor,
            "persons": sorted(self.persons),
            "pulls": self.pulls,
            "refusals": dict(self.refusals),
            "last_error": self.last_error,
        }


def make_server(app: Handbook, host: str, port: int) -> ThreadingHTTPServer:
    class Handler(JsonRequestHandler):
        def do_GET(self) -> None:
            if self.path == "/health":
                self._send(200, {"status": "ok", "partner": "handbook"})
            elif self.path == "/state":
                self._send(200, app.state())
            elif self.path.startswith("/persons/"):
                person = app.persons.get(self.path.rsplit("/", 1)[-1])
                self._send(200 if person else 404, person or {"error": "not_found"})
            else:
                self._send(404, {"error": "not_found"})

        def do_POST(self) -> None:
            if self.path == "/pull" and self.client_address[0] in ("127.0.0.1", "::1"):
                self._send(200, {"received": app.pull(), **app.state()})
            else:
                self._send(404, {"error": "not_found"})

    return ThreadingHTTPServer((host, port), Handler)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Ứng dụng Sổ theo dõi SKBMTE điện tử mô phỏng (kéo dữ liệu)")
    parser.add_argument("--feed", required=True, help="…/api/v1/handbook/feed")
    parser.add_argument("--token", required=True, help="the app's own mchis token (scope handbook.view)")
    parser.add_argument("--jwks", required=True, help="…/api/v1/exchanges/jwks")
    parser.add_argument("--port", type=int, default=8783)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument(
        "--interval", type=float, default=300, help="seconds between pulls (0: only on POST /pull)"
    )
    args = parser.parse_args(argv)
    app = Handbook(feed=args.feed, token=args.token, jwks=args.jwks)
    server = make_server(app, args.host, args.port)

    def timer() -> None:
        while args.interval > 0:
            try:
                app.pull()
            except OSError as exc:  # our server down: try again next time
                app.last_error = str(exc)[:200]
            threading.Event().wait(args.interval)

    threading.Thread(target=timer, daemon=True).start()
    print(f"ready on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
