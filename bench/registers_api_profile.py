"""One bulk API request in-process (R-INT-01): CPU per record and where it goes, without gunicorn.

    python bench/registers_api_profile.py --db postgres://postgres@127.0.0.1:5432/mchis_apispeed
    python bench/registers_api_profile.py --profile delivery      # cProfile of one warm request, top functions
    python bench/registers_api_profile.py --sections              # CPU, wall and statements per step
    MCHIS_GC_YOUNG_THRESHOLD=0 python bench/registers_api_profile.py   # without the collector's tuning (ADR 0082)

Sets up the database like bench/registers_api.py (its `setup_database`, `make_batch`), then posts signed
batches of --batch records through the Django test client (the whole middleware stack and the real view) and
reports the warm CPU time per record (process_time, median of --repeat requests) and the SQL statements per
batch (CaptureQueriesContext, with their wall time).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import random
import statistics
import sys
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/mchis_apispeed")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--facilities", type=int, default=200)
    parser.add_argument("--profile", choices=["anc", "delivery"], default=None)
    parser.add_argument("--sections", action="store_true", help="time each step of the request (wrappers)")
    parser.add_argument("--broker", default="redis://127.0.0.1:6379/9")  # flushed at the end
    parser.add_argument("--kinds", default="anc,delivery")
    args = parser.parse_args()

    import os

    # as in production (and bench/registers_api.py): the analytics follow-up is queued to a broker, not run here
    os.environ.update({"REDIS_URL": args.broker, "CELERY_TASK_ALWAYS_EAGER": "0", "LOG_LEVEL": "ERROR"})
    from registers_api import make_batch, setup_database

    token, facilities, private_jwk = setup_database(args.db, args.facilities)
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from mchis.accounts.signatures import AUDIENCE_DEFAULT, HEADER
    from mchis.core.jws import sign_detached

    settings.ALLOWED_HOSTS = ["*"]
    client = Client()
    run = uuid.uuid4().hex[:8]
    counter = {"start": 0}

    def post(kind: str) -> tuple[float, float, int, float, dict]:
        start = counter["start"]
        counter["start"] += args.batch
        records = make_batch(kind, start, args.batch, run, facilities, random.Random(start))
        body = json.dumps({"records": records}).encode()
        signature = sign_detached(body, private_jwk=private_jwk, audience=AUDIENCE_DEFAULT)
        with CaptureQueriesContext(connection) as queries:
            cpu0, wall0 = time.process_time(), time.perf_counter()
            res = client.post(f"/api/v1/registers/{kind}/records", data=body, content_type="application/json",
                              HTTP_AUTHORIZATION=f"Bearer {token}", **{f"HTTP_{HEADER.upper().replace('-', '_')}": signature})  # fmt: skip
            cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        answer = res.json()
        if res.status_code != 200 or answer["created"] != args.batch:
            raise SystemExit(f"HTTP {res.status_code}: {str(answer)[:500]}")
        sql_s = sum(float(q["time"]) for q in queries.captured_queries)
        return cpu, wall, len(queries.captured_queries), sql_s, answer

    kinds = args.kinds.split(",")
    from mchis.core.collector import freeze_startup_objects

    # as config.wsgi does in a worker (MCHIS_GC_YOUNG_THRESHOLD=0: Python's defaults)
    freeze_startup_objects(settings.GC_YOUNG_THRESHOLD)
    try:
        _measure(args, kinds, post)
    finally:
        import redis

        redis.Redis.from_url(args.broker).flushdb()


def _measure(args: argparse.Namespace, kinds: list[str], post: Any) -> None:
    for kind in kinds:
        post(kind)  # warm: imports, caches, temp tables
    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        post(args.profile)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(70)
        pstats.Stats(prof).sort_stats("tottime").print_stats(40)
        return
    if args.sections:
        _sections(args, kinds, post)
        return
    for kind in kinds:
        cpus, walls, sqls = [], [], []
        for _ in range(args.repeat):
            cpu, wall, n, sql_s, _ = post(kind)
            cpus.append(cpu)
            walls.append(wall)
            sqls.append(sql_s)
        per = 1e6 / args.batch
        print(f"{kind}: CPU {statistics.median(cpus) * per:,.0f} µs/record, wall {statistics.median(walls) * per:,.0f} "
              f"µs/record, {n} statements/batch ({statistics.median(sqls) * per:,.0f} µs/record in SQL, wall)")  # fmt: skip


SECTIONS = (  # (module, function, label): the steps of one request, in order; labels may repeat (summed)
    ("mchis.core.middleware", "parse_json_body", "JSON parsing (input middleware)"),
    ("mchis.registers.api", "verify_submission", "signature verification"),
    ("mchis.registers.batches", "check_structure", "batch structure, duplicate keys"),
    ("mchis.registers.batches", "check_keys_unique", "batch structure, duplicate keys"),
    ("mchis.registers.ingest", "build_context", "per-batch context (facilities, catalogs)"),
    ("mchis.registers.ingest", "validate_record", "our validation (validate_record)"),
    ("mchis.registers.writer", "existing_rows", "existing rows (matching / upsert lookup)"),
    ("mchis.registers.ingest", "locked_months", "locked months"),
    ("mchis.registers.ingest", "row_hash", "fingerprint (row_hash)"),
    ("mchis.registers.writer", "link_persons", "persons"),
    ("mchis.registers.writer", "upsert_rows", "row building + upsert (COPY, INSERT … ON CONFLICT)"),
    ("mchis.registers.writer", "write_newborns", "newborns (DELETE, COPY)"),
    ("mchis.registers.ingest", "unit_months_changed", "dirty unit-months (analytics)"),
    ("mchis.registers.ingest", "outbox_item", "outbox (items)"),
    ("mchis.registers.ingest", "outbox_enqueue", "outbox (COPY)"),
    ("mchis.registers.ingest", "classify", "classify (fates; fingerprint inside)"),
    ("mchis.registers.ingest", "_record_activity", "sync activity rows (inside the next)"),
    ("mchis.registers.ingest", "_finish_batch", "batch row, sync activity, audit"),
    ("ninja.operation", "Operation._result_to_response", "response (ninja schema, JSON)"),
    ("mchis.registers.batches", "records_upsert", "= records_upsert (all of the above from context on)"),
)


def _sections(args: argparse.Namespace, kinds: list[str], post: Any) -> None:
    """Wrap each step, post --repeat warm batches per register, print CPU and wall µs per record and the
    statements each step runs (Django's query log; COPY is not in it)."""
    import functools
    import importlib
    from collections import defaultdict

    from django.db import connection

    stats: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])

    def wrap(owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        @functools.wraps(original)
        def timed(*a: Any, **kw: Any) -> Any:
            q0, c0, w0 = len(connection.queries_log), time.process_time(), time.perf_counter()
            try:
                return original(*a, **kw)
            finally:
                row = stats[label]
                row[0] += time.process_time() - c0
                row[1] += time.perf_counter() - w0
                row[2] += len(connection.queries_log) - q0

        setattr(owner, name, timed)

    for module, name, label in SECTIONS:
        owner: Any = importlib.import_module(module)
        if "." in name:
            cls, name = name.split(".")
            owner = getattr(owner, cls)
        wrap(owner, name, label)
    connection.force_debug_cursor = True
    for kind in kinds:
        stats.clear()
        cpu0, wall0 = time.process_time(), time.perf_counter()
        for _ in range(args.repeat):
            post(kind)
        per = 1e6 / (args.batch * args.repeat)
        cpu, wall = (time.process_time() - cpu0) * per, (time.perf_counter() - wall0) * per
        print(f"{kind}: request CPU {cpu:,.0f} µs/record, wall {wall:,.0f} µs/record")
        for label, (c, w, q) in stats.items():
            print(f"  {label:55s} CPU {c * per:6.1f}  wall {w * per:6.1f}  statements {q / args.repeat:4.1f}")


if __name__ == "__main__":
    main()
