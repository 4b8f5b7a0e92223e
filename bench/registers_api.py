"""Bulk register API throughput through real HTTP (R-INT-01), beside raw PostgreSQL COPY of the same rows.

    nice -n 10 python bench/registers_api.py --records 1000000      # the full run (delivery + ANC, half each)
    python bench/registers_api.py --records 20000                    # development

Sets up its own PostgreSQL database (default mchis_registers_bench), a unit tree of --facilities TYTs and a
machine-client token; starts gunicorn (--workers) on 127.0.0.1; posts batches of --batch records from
--clients concurrent HTTP clients (Bearer token, keep-alive); then copies the stored rows out and times
`COPY … FROM STDIN` of exactly those rows into clones of the register tables (same indexes and constraints).
It prints the CPU each side used per record during the run (gunicorn workers, PostgreSQL processes, this
client; read from /proc, Linux) and the ceiling that implies for the machine's cores: unlike records/s, that
compares runs on machines of different speed. --no-catch-up skips the analytics catch-up after the run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TARGET = 25_000  # records/s through validated HTTP (issue 20)
BROKER = "redis://127.0.0.1:6379/7"  # the bench's own Redis database (flushed after the run)
sys.path.insert(0, str(ROOT))

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Hồ", "Lò", "Hà", "Giàng"]
MIDDLE = ["Thị", "Thị Thu", "Thị Ngọc", "Thị Mỹ", "Thị Hồng"]
GIVEN = ["Hoa", "Lan", "Hường", "Mai", "Nga", "Thảo", "Duyên", "Hiền", "Trang", "Linh", "Phương", "Yến"]


def setup_database(db_url: str, facilities: int) -> tuple[str, list[str]]:
    import psycopg

    base, name = db_url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    subprocess.run([sys.executable, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ.update({"DATABASE_URL": db_url, "DJANGO_SETTINGS_MODULE": "config.settings.base"})
    import django

    django.setup()
    from mchis.accounts.services import api_client_create
    from mchis.places.models import AdminUnit, CodeVersion, Level
    from mchis.units.models import ReportingUnit, UnitKind
    from mchis.units.services import unit_create

    province, _ = AdminUnit.objects.get_or_create(
        version=CodeVersion.V2025, level=Level.PROVINCE, code="98", defaults={"name": "Tỉnh Thử nghiệm"}
    )
    root = ReportingUnit.objects.filter(code="BENCH-SYT").first()
    if root is None:
        root = unit_create(actor=None, code="BENCH-SYT", name="Sở Y tế thử", kind=UnitKind.DOH,
                           admin_unit=province, parent=None)  # fmt: skip
    codes = []
    for i in range(facilities):
        code = f"BENCH-TYT{i:04d}"
        if not ReportingUnit.objects.filter(code=code).exists():
            unit_create(actor=None, code=code, name=f"TYT thử {i}", kind=UnitKind.TYT, admin_unit=province,
                        parent=root)  # fmt: skip
        codes.append(code)
    client, token = api_client_create(
        actor=None, name=f"bench-{uuid.uuid4().hex[:8]}", unit=root, scopes=["register.write"], days=1
    )
    # production refuses unsigned submissions (INBOUND_SIGNATURE_REQUIRED, ADR 0070): the bench signs as a HIS does
    from mchis.accounts.services import api_client_set_signing_keys
    from mchis.core.jws import generate_private_jwk, public_jwk

    private = generate_private_jwk("bench-his")
    api_client_set_signing_keys(actor=None, client=client, jwks={"keys": [public_jwk(private)]})
    return token, codes, private


def make_batch(
    kind: str, start: int, size: int, run: str, facilities: list[str], rng: random.Random
) -> list[dict]:
    today = date.today()
    out = []
    for i in range(start, start + size):
        event = today - timedelta(days=rng.randint(1, 5 * 365))
        dob = event - timedelta(days=rng.randint(15 * 365, 42 * 365))
        rec: dict[str, Any] = {
            "facility": facilities[i % len(facilities)],
            "source_system": f"bench-{run}",
            "source_record_id": f"{kind[0]}{i}",
            "event_date": event.isoformat(),
            "place": rng.choice(["at_facility", "at_facility", "outside", "other_facility"]),
            "full_name": f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            "dob": dob.isoformat(),
            "ethnicity_code": rng.choice(["01", "01", "01", "02", "03", "06", "08"]),
        }
        if kind == "anc":
            rec.update(
                is_new_pregnancy=rng.random() < 0.3,
                gestational_age_weeks=rng.randint(6, 40),
                urine_protein_tested=rng.random() < 0.7,
                hiv_tested=True,
                hiv_result="negative",
                tetanus_dose=rng.randint(0, 2),
            )
        else:
            visits = rng.randint(0, 8)
            rec.update(
                gestational_age_weeks=rng.randint(30, 42),
                delivery_mode=rng.choice(["normal", "normal", "caesarean"]),
                attendant=rng.choice(["midwife", "doctor", "nurse"]),
                anc_visits=visits,
                anc_all_trimesters=visits >= 3 and rng.random() < 0.7,
                hiv_tested_pregnancy=True,
                hepb_tested_pregnancy=rng.random() < 0.8,
                newborns=[
                    {
                        "outcome": "live",
                        "sex": rng.choice(["M", "F"]),
                        "weight_grams": rng.randint(2000, 4300),
                        "vitamin_k1": True,
                        "hepb_vaccine_24h": rng.random() < 0.9,
                        "eenc": True,
                    }
                ],
            )
        out.append(rec)
    return out


def cpu_by_group(server_pid: int) -> dict[str, float]:
    """CPU seconds (user + system) used so far by the gunicorn server and its workers, by every PostgreSQL
    process (backends, WAL writer, checkpointer, autovacuum) and by this client, read from /proc (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {"gunicorn": 0.0, "postgres": 0.0}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path("/proc", entry, "stat").read_text()
        except OSError:  # the process ended meanwhile
            continue
        comm, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        cpu = (int(rest[11]) + int(rest[12])) / tick
        if int(entry) == server_pid or int(rest[1]) == server_pid:
            out["gunicorn"] += cpu
        elif comm.startswith("postgres"):
            out["postgres"] += cpu
            try:  # "postgres: 15/main: postgres <db> 127.0.0.1(…) idle" is a backend; the rest is background
                title = Path("/proc", entry, "cmdline").read_bytes().decode(errors="replace")
            except OSError:
                continue
            if "127.0.0.1(" not in title and "[local]" not in title:
                out["postgres background"] = out.get("postgres background", 0.0) + cpu
    times = os.times()
    out["client"] = times.user + times.system
    return out


def wait_up(url: str, seconds: float = 60) -> None:
    import requests

    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if requests.get(url + "/health", timeout=2).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise SystemExit("gunicorn did not start")


def copy_benchmark(db_url: str, run: str) -> tuple[int, float]:
    """COPY the rows this run stored into identical empty tables; returns (rows, seconds)."""
    import psycopg

    tables = ["registers_ancvisit", "registers_delivery", "registers_newborn"]
    rows = 0
    with psycopg.connect(db_url) as conn, tempfile.TemporaryDirectory() as tmp:
        src = f"bench-{run}"
        queries = {
            "registers_ancvisit": f"SELECT * FROM registers_ancvisit WHERE source_system = '{src}'",
            "registers_delivery": f"SELECT * FROM registers_delivery WHERE source_system = '{src}'",
            "registers_newborn": "SELECT n.* FROM registers_newborn n JOIN registers_delivery d ON d.id = n.delivery_id "
            f"WHERE d.source_system = '{src}'",
        }
        files = {}
        for table in tables:
            path = Path(tmp) / f"{table}.copy"
            with path.open("wb") as fh, conn.cursor().copy(f"COPY ({queries[table]}) TO STDOUT") as copy:
                for data in copy:
                    fh.write(data)
            files[table] = path
            conn.execute(f"DROP TABLE IF EXISTS bench_copy_{table}")
            # Same columns, indexes and unique constraints; foreign keys left out (COPY's best case).
            conn.execute(f"CREATE TABLE bench_copy_{table} (LIKE {table} INCLUDING ALL)")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            for table in tables:
                with files[table].open("rb") as fh, cur.copy(f"COPY bench_copy_{table} FROM STDIN") as copy:
                    while data := fh.read(1 << 20):
                        copy.write(data)
                rows += cur.rowcount if cur.rowcount and cur.rowcount > 0 else 0
        conn.commit()
        elapsed = time.perf_counter() - started
        for table in tables:
            rows_in = conn.execute(f"SELECT count(*) FROM bench_copy_{table}").fetchone()[0]
            rows = rows if rows else 0
            files[table] = rows_in  # type: ignore[assignment]
            conn.execute(f"DROP TABLE bench_copy_{table}")
        conn.commit()
    return sum(files.values()), elapsed  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--facilities", type=int, default=200)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/mchis_registers_bench")
    parser.add_argument("--no-catch-up", action="store_true", help="skip the analytics catch-up (the dirty "
                        "unit-months stay for a later run's catch-up)")  # fmt: skip
    args = parser.parse_args()

    import requests

    token, facilities, private_jwk = setup_database(args.db, args.facilities)
    from mchis.accounts.signatures import AUDIENCE_DEFAULT, HEADER
    from mchis.core.jws import sign_detached

    run = uuid.uuid4().hex[:8]
    env = {**os.environ, "DATABASE_URL": args.db, "DJANGO_SETTINGS_MODULE": "config.settings.base",
           "DB_CONN_MAX_AGE": "600", "LOG_LEVEL": "ERROR",
           # as in production: the follow-up work (analytics recompute of the touched unit-months) goes to a
           # broker and is timed separately below; run in place it was measured inside every request
           "REDIS_URL": BROKER, "CELERY_TASK_ALWAYS_EAGER": "0"}  # fmt: skip
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "-w",
            str(args.workers),
            "-b",
            f"127.0.0.1:{args.port}",
            "--log-level",
            "warning",
            "--timeout",
            "300",
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
    )
    url = f"http://127.0.0.1:{args.port}"
    try:
        wait_up(url)
        batches = []
        per_kind = args.records // 2
        for kind in ("anc", "delivery"):
            batches += [
                (kind, start, min(args.batch, per_kind - start)) for start in range(0, per_kind, args.batch)
            ]
        random.Random(1).shuffle(batches)
        import threading

        local = threading.local()

        # Bodies are generated before the clock starts (the client shares the 2 cores with the server).
        body_dir = tempfile.mkdtemp(prefix="bench-bodies-")
        print(f"generating {len(batches)} batch bodies…", flush=True)
        for kind, start, size in batches:
            rng = random.Random(start * 7 + (kind == "anc"))
            Path(body_dir, f"{kind}-{start}.json").write_text(
                json.dumps({"records": make_batch(kind, start, size, run, facilities, rng)}), encoding="utf-8"
            )

        def send(job: tuple[str, int, int]) -> tuple[int, dict]:
            kind, start, size = job
            body = Path(body_dir, f"{kind}-{start}.json").read_bytes()
            session = getattr(local, "session", None)
            if session is None:
                session = local.session = requests.Session()
                session.headers["Authorization"] = f"Bearer {token}"
            t0 = time.perf_counter()
            signature = sign_detached(body, private_jwk=private_jwk, audience=AUDIENCE_DEFAULT)
            res = session.post(f"{url}/api/v1/registers/{kind}/records", data=body,
                               headers={"Content-Type": "application/json", HEADER: signature}, timeout=300)  # fmt: skip
            try:
                answer = res.json()
            except ValueError:  # not JSON (a proxy or server error page): show it, do not hide it
                raise SystemExit(f"HTTP {res.status_code}, not JSON: {res.text[:400]}") from None
            return res.status_code, {**answer, "_t": time.perf_counter() - t0}

        cpu_before = cpu_by_group(server.pid)
        started = time.perf_counter()
        created = rejected = 0
        latencies = []
        done = 0
        with ThreadPoolExecutor(args.clients) as pool:
            for status, body in pool.map(send, batches):
                if status != 200:
                    raise SystemExit(f"HTTP {status}: {str(body)[:500]}")
                created += body["created"]
                rejected += body["rejected"]
                latencies.append(body["_t"])
                done += 1
                if done % 100 == 0:
                    rate = created / (time.perf_counter() - started)
                    print(f"  {done}/{len(batches)} batches, {rate:,.0f} records/s", flush=True)
        elapsed = time.perf_counter() - started
        cpu_after = cpu_by_group(server.pid)
    finally:
        server.terminate()
        server.wait(30)
        import shutil

        shutil.rmtree(locals().get("body_dir") or "/nonexistent", ignore_errors=True)
    latencies.sort()
    api_rate = created / elapsed
    copy_rows, copy_s = copy_benchmark(args.db, run)
    records_copied = created  # the register rows; newborn rows ride along in both measurements
    print(f"records sent: {args.records:,} ({len(batches)} batches of ≤{args.batch}), created {created:,}, "
          f"rejected {rejected:,}")  # fmt: skip
    print(f"API (gunicorn {args.workers} workers, {args.clients} clients): {elapsed:,.1f} s → {api_rate:,.0f} records/s; "
          f"batch latency p50 {latencies[len(latencies) // 2]:.2f} s, p95 {latencies[int(len(latencies) * 0.95)]:.2f} s")  # fmt: skip
    used = {k: cpu_after.get(k, 0.0) - cpu_before.get(k, 0.0) for k in cpu_after}
    background = used.pop("postgres background", 0.0)  # part of "postgres"
    per = {k: v / max(created, 1) * 1e6 for k, v in used.items()}
    cores = os.cpu_count() or 1
    print(f"CPU per record during the run: gunicorn {per['gunicorn']:,.0f} µs, PostgreSQL {per['postgres']:,.0f} µs, "
          f"(of which background processes: WAL writer, checkpointer, autovacuum {background / max(created, 1) * 1e6:,.0f} µs), "
          f"client {per['client']:,.0f} µs; machine busy {sum(used.values()) / (elapsed * cores):.0%} of {cores} cores")  # fmt: skip
    server_us = per["gunicorn"] + per["postgres"]
    print(f"ceiling of this machine with the cores for the server alone: {cores * 1e6 / server_us:,.0f} records/s "
          f"({server_us:,.0f} µs of CPU a record); PostgreSQL's share alone would allow {cores * 1e6 / per['postgres']:,.0f}/s; "
          f"{TARGET:,}/s needs {TARGET * server_us / 1e6:.1f} such cores")  # fmt: skip
    print(f"PostgreSQL COPY of the same rows ({copy_rows:,} table rows incl. newborns): {copy_s:,.1f} s → "
          f"{records_copied / copy_s:,.0f} records/s")  # fmt: skip
    print(f"API / COPY = {api_rate / (records_copied / copy_s):.2f}; target ≥ {TARGET:,} records/s: "
          f"{'met' if api_rate >= TARGET else 'NOT met'} (ratio {api_rate / TARGET:.2f})")  # fmt: skip
    if args.no_catch_up:
        print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())
        return
    units, catch_up_s = analytics_catch_up()
    print(f"analytics catch-up (the worker's share, run here after the API run): {units:,} unit-months in "
          f"{catch_up_s:,.1f} s → {created / max(catch_up_s, 1e-9):,.0f} records/s")  # fmt: skip
    print("uptime:", subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip())


def analytics_catch_up() -> tuple[int, float]:
    """What the Celery worker does after the API answered: recompute every dirty unit-month (the queued task
    messages are dropped first; the dirty table is the work list, as the worker's sweep reads it)."""
    import redis

    redis.Redis.from_url(BROKER).flushdb()
    from mchis.analytics.store import recompute_dirty

    started, total = time.perf_counter(), 0
    while done := recompute_dirty():
        total += done
    return total, time.perf_counter() - started


if __name__ == "__main__":
    main()
