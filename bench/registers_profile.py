"""Where the bulk register API spends its time (issue 20): the same batches as bench/registers_api.py, posted
in-process through Django's test client (every middleware, the token, parsing, validation, the writer) under
pyinstrument, then the sampled time split by layer: JSON parsing, the API framework (django-ninja,
pydantic), validation (mchis.registers.validation / ingest), the ORM and SQL building (django.db), the
database driver and server wait (psycopg), the rest of Django (middleware, auth), other.

    python bench/registers_profile.py [--batches 20] [--batch 1000] [--html /tmp/profile.html]

Uses the database of bench/registers_api.py (mchis_registers_bench, created if missing).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import uuid
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import registers_api as ra

LAYERS = (  # first match wins, on the frame's file path
    ("database (psycopg: driver + server wait)", ("psycopg",)),
    ("JSON parsing", ("/json/", "orjson")),
    ("validation (registers.validation, ingest)", ("mchis/registers/validation", "mchis/registers/ingest")),
    ("writer (registers.writer, rows for COPY)", ("mchis/registers/writer",)),
    ("ORM / SQL building (django.db)", ("django/db",)),
    ("API framework (ninja, pydantic)", ("ninja", "pydantic")),
    ("mchis other (batches, audit, middleware)", ("mchis/",)),
    ("Django other (middleware, auth, http)", ("django/",)),
)


def layer_of(path: str) -> str:
    for name, needles in LAYERS:
        if any(n in path for n in needles):
            return name
    return "other (stdlib, hashing, …)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--batch", type=int, default=1000)
    ap.add_argument("--facilities", type=int, default=200)
    ap.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/mchis_registers_bench")
    ap.add_argument("--html", type=Path, help="also write pyinstrument's HTML report here")
    args = ap.parse_args()
    os.environ.setdefault("DB_CONN_MAX_AGE", "600")
    os.environ.setdefault("LOG_LEVEL", "ERROR")
    token, facilities = ra.setup_database(args.db, args.facilities)
    from django.test import Client
    from pyinstrument import Profiler

    run = uuid.uuid4().hex[:8]
    bodies = []
    for n in range(args.batches):
        kind = ("anc", "delivery")[n % 2]
        rng = random.Random(n)
        records = ra.make_batch(kind, n * args.batch, args.batch, run, facilities, rng)
        bodies.append((kind, json.dumps({"records": records}).encode()))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    # one warm-up batch (imports, caches, the temp tables of the writer)
    client.post(
        f"/api/v1/registers/{bodies[0][0]}/records", data=bodies[0][1], content_type="application/json"
    )
    profiler = Profiler(interval=0.0005)
    created = 0
    started = time.perf_counter()
    profiler.start()
    for kind, body in bodies[1:]:
        res = client.post(f"/api/v1/registers/{kind}/records", data=body, content_type="application/json")
        if res.status_code != 200:
            raise SystemExit(f"HTTP {res.status_code}: {res.content[:300]!r}")
        created += res.json()["created"]
    profiler.stop()
    wall = time.perf_counter() - started
    session = profiler.last_session
    assert session is not None
    split: Counter[str] = Counter()

    def walk(frame, parent_path: str) -> None:  # type: ignore[no-untyped-def]
        path = frame.file_path or parent_path  # "[self]" leaves carry no path: their caller's
        own = frame.time - sum(child.time for child in frame.children)
        split[layer_of(path)] += max(own, 0.0)
        for child in frame.children:
            walk(child, path)

    root = session.root_frame()
    if root is not None:
        walk(root, "")
    total = sum(split.values()) or 1.0
    print(
        f"{created:,} records in {len(bodies) - 1} batches of {args.batch}, in-process (no HTTP socket): "
        f"{wall:.2f} s → {created / wall:,.0f} records/s (profiled; one process, one core)"
    )
    for name, seconds in split.most_common():
        print(f"  {name:45} {seconds:7.2f} s  {seconds / total:6.1%}")
    print(f"  (CPU time of the profiled process: {session.cpu_time:.2f} s of {session.duration:.2f} s wall)")
    print(profiler.output_text(unicode=True, color=False, show_all=False)[:12000])
    if args.html:
        args.html.write_text(profiler.output_html(), encoding="utf-8")


if __name__ == "__main__":
    main()
