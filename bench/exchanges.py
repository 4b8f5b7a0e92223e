"""Outbound exchanges: what the outbox adds to a register write, and the end-to-end FHIR sync throughput.

    nice -n 10 python bench/exchanges.py                    # 5,000 events (a province's day), 300 single writes
    python bench/exchanges.py --events 1000 --writes 100    # development

Sets up its own PostgreSQL database (default mchis_exchanges_bench, via bench/registers_api.py's setup).
1. Outbox overhead: single-record register writes (the web form path: validation, upsert, audit, batch row)
   with the exchange routes on vs off (no subscriber: enqueue returns at once), in alternating blocks;
   then one 5,000-record batch each way. Prints median ms per write and the difference.
2. FHIR sync: --events register events (ANC 50 %, deliveries with a newborn 30 %, child exams 20 %) queued
   for the EHR warehouse, delivered to the simulated warehouse (its own process, signature verified, every
   resource validated with fhir.resources on both sides) by the delivery engine. Prints seconds, events/s,
   requests, and the ratio to the 2-minute target.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from registers_api import make_batch, setup_database  # noqa: E402


def child_exams(start: int, size: int, run: str, facilities: list[str], rng: random.Random) -> list[dict]:
    today = date.today()
    out = []
    for i in range(start, start + size):
        dob = today - timedelta(days=rng.randint(60, 5 * 365))
        out.append(
            {
                "facility": facilities[i % len(facilities)],
                "source_system": f"bench-{run}",
                "source_record_id": f"c{i}",
                "event_date": (today - timedelta(days=1)).isoformat(),
                "place": "at_facility",
                "full_name": f"Trẻ thử {i}",
                "dob": dob.isoformat(),
                "sex": rng.choice(["M", "F"]),
                "weight_kg": f"{rng.uniform(5, 18):.1f}",
                "height_cm": f"{rng.uniform(55, 110):.1f}",
                "mother_name": "Mẹ thử",
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/mchis_exchanges_bench")
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--writes", type=int, default=300)
    parser.add_argument("--facilities", type=int, default=50)
    args = parser.parse_args()
    _, codes = setup_database(args.db, args.facilities)

    from django.db import connection

    from mchis.accounts.services import account_create
    from mchis.integrations.exchange import engine, keys
    from mchis.outbox import routing
    from mchis.outbox.models import EntryStatus, OutboxEntry
    from mchis.registers.services import records_upsert
    from mchis.units.models import ReportingUnit

    root = ReportingUnit.objects.get(code="BENCH-SYT")
    actor, _ = account_create(
        actor=None,
        username=f"bench-{uuid.uuid4().hex[:8]}",
        unit=root,
        role="reporter",
        password="Bench!Passw0rd",
    )
    rng = random.Random(7)
    run = uuid.uuid4().hex[:8]
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")

    # 1. outbox overhead per single-record write, routes on vs off, alternating blocks
    saved = {t: list(p) for t, p in routing._routes.items()}
    timings: dict[str, list[float]] = {"on": [], "off": []}
    block, n = 25, 0
    while n < args.writes * 2:
        for mode in ("on", "off"):
            routing._routes.clear()
            if mode == "on":
                routing._routes.update({t: list(p) for t, p in saved.items()})
            for _ in range(block):
                rec = make_batch("anc", n, 1, f"{run}w", codes, rng)
                t0 = time.perf_counter()
                records_upsert(actor=actor, register="anc", records=rec)
                timings[mode].append((time.perf_counter() - t0) * 1000)
                n += 1
    routing._routes.clear()
    routing._routes.update(saved)
    on, off = statistics.median(timings["on"]), statistics.median(timings["off"])
    print(f"single write, outbox on : median {on:.2f} ms ({len(timings['on'])} writes)")
    print(f"single write, outbox off: median {off:.2f} ms ({len(timings['off'])} writes)")
    print(f"outbox overhead per write: {on - off:+.2f} ms (target < 5 ms; ratio on/off {on / off:.3f})")
    batch_times = {}
    for mode in ("off", "on"):
        routing._routes.clear()
        if mode == "on":
            routing._routes.update(saved)
        records = make_batch("anc", 10_000_000 + (0 if mode == "off" else 5000), 5000, f"{run}b", codes, rng)
        t0 = time.perf_counter()
        records_upsert(actor=actor, register="anc", records=records)
        batch_times[mode] = time.perf_counter() - t0
    routing._routes.clear()
    routing._routes.update(saved)
    print(
        f"5,000-record batch: on {batch_times['on']:.2f} s, off {batch_times['off']:.2f} s "
        f"({(batch_times['on'] - batch_times['off']) / 5:.2f} ms per 1,000 records)"
    )

    # 2. FHIR sync of one province's day
    OutboxEntry.objects.filter(partner="ehr").delete()  # only this run's events are timed
    n_anc, n_del = args.events // 2, args.events * 3 // 10
    n_child = args.events - n_anc - n_del
    t0 = time.perf_counter()
    for start in range(0, n_anc, 1000):
        records_upsert(
            actor=actor,
            register="anc",
            records=make_batch("anc", 20_000_000 + start, min(1000, n_anc - start), run, codes, rng),
        )
    for start in range(0, n_del, 1000):
        records_upsert(
            actor=actor,
            register="delivery",
            records=make_batch("delivery", 30_000_000 + start, min(1000, n_del - start), run, codes, rng),
        )
    for start in range(0, n_child, 1000):
        records_upsert(
            actor=actor,
            register="child_exam",
            records=child_exams(start, min(1000, n_child - start), run, codes, rng),
        )
    queued = OutboxEntry.objects.filter(partner="ehr", status=EntryStatus.PENDING).count()
    print(f"queued {queued} EHR entries in {time.perf_counter() - t0:.1f} s (the writes themselves)")

    import subprocess
    import urllib.request

    keys.active_private_jwk()
    jwks = Path(tempfile.mkdtemp()) / "jwks.json"
    jwks.write_text(json.dumps(keys.public_jwks()), encoding="utf-8")
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    receiver = subprocess.Popen(
        [sys.executable, "-m", "mchis.integrations.ehr.receiver", "--port", str(port), "--token", "bench",
         "--jwks", str(jwks), "--max-bytes", "8000000"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            urllib.request.urlopen(url + "/health", timeout=1)
            break
        except OSError:
            time.sleep(0.1)
    from django.conf import settings

    settings.EXCHANGE_PARTNERS = {
        "ehr": {"url": url, "token": "bench", "batch_size": 200, "max_bytes": 8_000_000}
    }
    try:
        t0 = time.perf_counter()
        report = engine.deliver_partner("ehr")
        elapsed = time.perf_counter() - t0
        with urllib.request.urlopen(url + "/state", timeout=30) as answer:
            state = json.loads(answer.read())
    finally:
        receiver.terminate()
    print(
        f"FHIR sync: {report.delivered} events in {elapsed:.1f} s = {report.delivered / elapsed:.0f} events/s, "
        f"{report.requests} signed Bundles, receiver applied {len(state['applied'])} entries, "
        f"resources {state.get('resource_counts')}"
    )
    print(f"target 120 s for {args.events} events: {elapsed / 120:.2f} of the budget")
    os.environ.pop("DATABASE_URL", None)


if __name__ == "__main__":
    main()
