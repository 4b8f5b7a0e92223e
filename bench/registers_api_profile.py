"""One bulk API request in-process (R-INT-01): CPU per record and where it goes, without gunicorn.

    python bench/registers_api_profile.py --db postgres://postgres@127.0.0.1:5432/mchis_apispeed
    python bench/registers_api_profile.py --profile delivery      # cProfile of one warm request, top functions

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


if __name__ == "__main__":
    main()
