"""Benchmark: `generate_demo` for N children on PostgreSQL (target: 1,000,000 in under 5 minutes).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/generate_demo.py [--children N]

Uses its own database (default mchis_bench_gen, created if missing, on the server of DATABASE_URL):
migrate + load_admin_units once, then times one generate_demo run and prints children/second,
total seconds and the ratio to the target. Run the 1,000,000 case with `nice -n 10`.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 300.0
TARGET_CHILDREN = 1_000_000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--children", type=int, default=TARGET_CHILDREN)
    parser.add_argument("--province", default="08")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--error-rate", type=float, default=0.05)
    parser.add_argument("--database", default="mchis_bench_gen")
    args = parser.parse_args()

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("DATABASE_URL must point to a PostgreSQL server (postgres://user@host:port/db).")
        return 2
    import psycopg

    with psycopg.connect(url, autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [args.database]).fetchone()
        if not exists:
            admin.execute(f'CREATE DATABASE "{args.database}"')
    parts = urlsplit(url)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{args.database}"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from mchis.places.models import AdminUnit

    call_command("migrate", verbosity=0)
    if not AdminUnit.objects.exists():
        print("Loading administrative units (once)…")
        call_command("load_admin_units", verbosity=0)

    from mchis.demo.services import demo_generate
    from mchis.registry.models import Child

    before = Child.objects.count()
    print(f"Generating {args.children:,} children in province {args.province} (seed {args.seed}, "
          f"error rate {args.error_rate}) on {connection.vendor} database {args.database}…")  # fmt: skip
    started = time.perf_counter()
    last = [started]

    def progress(done: int) -> None:
        now = time.perf_counter()
        if now - last[0] > 10:
            print(f"  {done:>9,} children, {done / (now - started):,.0f}/s")
            last[0] = now

    report = demo_generate(
        province_code=args.province, children=args.children, seed=args.seed, error_rate=args.error_rate,
        progress=progress,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    after = Child.objects.count()
    rate = report.children / seconds if seconds else 0.0
    projected = TARGET_CHILDREN / rate if rate else float("inf")
    print(f"children written:  {after - before:,} (report {report.children:,}; memberships {report.memberships:,}, "
          f"supports {report.supports:,}; units created {report.units_created}, villages {report.villages_created})")  # fmt: skip
    print(f"total seconds:     {seconds:.1f}")
    print(f"children/second:   {rate:,.0f}")
    print(f"1M projected:      {projected:.0f} s; ratio to the 5-minute target: {projected / TARGET_SECONDS:.2f} "
          f"({'meets' if projected <= TARGET_SECONDS else 'misses'} the target)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
