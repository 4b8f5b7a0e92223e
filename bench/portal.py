"""Public portal under load (issue 16): cached public pages, p95 < 50 ms with 50 concurrent clients.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mchis_portal REDIS_URL=redis://127.0.0.1:6379/2 \
    nice -n 10 python bench/portal.py [--clients 50] [--requests 40] [--interval 0.25] [--workers 2]

Seeds a national published store if there is none (34 provinces, their district health centres, 10 statistics,
24 months: the size of a real publication; figures written directly - the publishing path has its own tests),
starts the portal as its own process (gunicorn, `config.settings.portal`: only /public/) on 127.0.0.1, warms
each URL once, then runs a bounded load: `--clients` concurrent clients, each sending `--requests` requests to
a mix of the public pages (home, lists, every indicator page with and without a period, every province page;
the multi-MB downloads are not pages and are left out), one every `--interval` seconds at most (a closed loop with think time,
so the offered load is bounded: clients / interval requests per second). Prints p50/p95/p99 latency, the
throughput, the errors and the machine load (`uptime`). Target: p95 < 50 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402

from mchis.portal.models import Publication, PublishedFigure, PublishedStatistic  # noqa: E402
from mchis.portal.statistics import CATALOGUE  # noqa: E402

PROVINCES = [(f"{i:02d}", f"Tỉnh thử {i:02d}") for i in (1, 4, 8, 11, 12, 14, 15, 19, 20, 22, 24, 25, 31, 33, 37,
             38, 40, 42, 44, 46, 48, 51, 52, 56, 66, 68, 75, 79, 80, 82, 86, 91, 92, 96)]  # fmt: skip
MONTHS = [f"{y}-{m:02d}" for y in (2025, 2026) for m in range(1, 13)]


def seed() -> None:
    if PublishedFigure.objects.exists():
        return
    from mchis.places.models import AdminUnit, CodeVersion, Level
    from mchis.units.models import ReportingUnit

    place, _ = AdminUnit.objects.get_or_create(version=CodeVersion.V2025, level=Level.PROVINCE, code="01",
                                              defaults={"name": "Thành phố Hà Nội"})  # fmt: skip
    ministry, _ = ReportingUnit.objects.get_or_create(code="BYT", defaults={"name": "Bộ Y tế", "kind": "ministry",
                                                      "admin_unit": place, "path": "/bench/"})  # fmt: skip
    publication = Publication.objects.create(
        title="Bench", owner_unit=ministry, statistics=[s.key for s in CATALOGUE],
        levels=["national", "province", "district"], periods=MONTHS, published_at=timezone.now(),
    )  # fmt: skip
    for i, s in enumerate(CATALOGUE):
        PublishedStatistic.objects.update_or_create(key=s.key, defaults={
            "name": s.name, "name_en": s.name_en, "definition": s.definition, "definition_en": s.definition_en,
            "source": s.source(), "source_en": s.source_en(), "kind": s.kind, "factor": s.factor, "order": i})  # fmt: skip
    rng = random.Random(1)
    rows = []
    today = date.today()
    for s in CATALOGUE:
        for period in MONTHS + ["2025", "2026"]:
            areas = [("national", "VN", "Toàn quốc", "")] + [("province", c, n, c) for c, n in PROVINCES]
            areas += [("district", f"TTYT{c}-{d:02d}", f"TTYT khu vực {d} ({n})", c) for c, n in PROVINCES
                      for d in range(1, 9)]  # fmt: skip
            for level, code, name, prov in areas:
                value = Decimal(rng.randint(0, 400) if s.kind == "count" else rng.randint(500, 1000) / 10)
                hidden = level == "district" and rng.random() < 0.1
                rows.append(PublishedFigure(
                    publication=publication, statistic=s.key, period=period, months=1 if "-" in period else 12,
                    level=level, area_code=code, area_name=name, province_code=prov,
                    value=None if hidden else value, suppressed=hidden, suppression="primary" if hidden else "",
                    reports_approved=10, reports_expected=10, published_on=today))  # fmt: skip
    PublishedFigure.objects.bulk_create(rows, batch_size=5000)
    print(f"seeded {len(rows)} published figures")


def urls() -> list[str]:
    out = ["/public/", "/public/indicators/", "/public/methods/", "/public/data/", "/public/bulletins/"]
    for s in CATALOGUE:
        out += [f"/public/indicators/{s.key}/", f"/public/indicators/{s.key}/?period=2026-06"]
    out += [f"/public/provinces/{c}/" for c, _ in PROVINCES]
    return out


async def fetch(port: int, url: str) -> tuple[float, int]:
    started = time.perf_counter()
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
    await writer.drain()
    data = await reader.read()
    writer.close()
    status = int(data[9:12]) if data[:5] == b"HTTP/" else 0
    return (time.perf_counter() - started) * 1000, status


async def client(port: int, pages: list[str], n: int, interval: float, out: list[tuple[float, int]]) -> None:
    rng = random.Random()
    await asyncio.sleep(rng.random() * interval)  # spread the starts
    for _ in range(n):
        begin = time.perf_counter()
        out.append(await fetch(port, rng.choice(pages)))
        await asyncio.sleep(max(0.0, interval - (time.perf_counter() - begin)))


async def run(
    port: int, clients: int, requests: int, interval: float
) -> tuple[list[tuple[float, int]], float]:
    pages = urls()
    for url in pages:  # warm the cache: the target is about cached pages
        await fetch(port, url)
    results: list[tuple[float, int]] = []
    started = time.perf_counter()
    await asyncio.gather(*(client(port, pages, requests, interval, results) for _ in range(clients)))
    return results, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--requests", type=int, default=40, help="per client")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between a client's requests")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8190)
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    seed()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.portal", "DEBUG": "0"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{args.port}", "-w", str(args.workers),
         "-k", "gthread", "--threads", "4", "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        time.sleep(4)
        results, seconds = asyncio.run(run(args.port, args.clients, args.requests, args.interval))
    finally:
        server.terminate()
        server.wait(timeout=20)
    times = sorted(ms for ms, _ in results)
    errors = sum(1 for _, status in results if status != 200)
    q = statistics.quantiles(times, n=100)
    load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    print(f"{len(results)} requests from {args.clients} concurrent clients in {seconds:.1f} s "
          f"({len(results) / seconds:.0f} req/s; offered ≤ {args.clients / args.interval:.0f} req/s), errors {errors}")  # fmt: skip
    print(f"latency ms: p50 {q[49]:.1f}  p95 {q[94]:.1f}  p99 {q[98]:.1f}  max {times[-1]:.1f}")
    print(f"target p95 < 50 ms: {'OK' if q[94] < 50 else 'MISS'} (ratio {q[94] / 50:.2f})")
    print(f"machine: {load}")


if __name__ == "__main__":
    main()
