"""Child registry search latency (issue 4 §9): p50/p95/p99 of typical searches, target p95 < 150 ms.

Run on PostgreSQL in its own database, after the demo generator filled it:

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/mchis_bench_search
    python manage.py migrate && python manage.py load_admin_units
    python manage.py generate_demo --province 08 --children 1000000 --seed 1
    nice -n 10 python bench/registry_search.py [--per-kind 100]

Each query is what the list page and `GET /api/v1/children?q=…` run: the scoped search through
`mchis.registry.selectors.child_search_page`, first page of 50 rows and the count capped at 1,000 from one run, for two principals — a commune officer
(the usual case) and a user of the child's own Sở Y tế (the whole province in scope) — and, with
`--national N`, for the Ministry on N sampled children (shown apart: the target is the first two).
At national size (issue 20) run it on the `generate_national` database.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from django.db import connection  # noqa: E402

from mchis.core.text import fold  # noqa: E402
from mchis.registry.models import Child  # noqa: E402
from mchis.registry.selectors import child_search, child_search_page  # noqa: E402
from mchis.units.models import ReportingUnit  # noqa: E402

TARGET_P95_MS = 150.0


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


def sample_children(n: int, seed: int) -> list[Child]:
    total = Child.objects.count()
    rng = random.Random(seed)
    ids = Child.objects.order_by("id").values_list("id", flat=True)
    first = ids.first() or 0
    last = ids.last() or 0
    picks = []
    while len(picks) < n and total:
        child = (
            Child.objects.filter(id__gte=rng.randint(first, last))
            .select_related("unit")
            .order_by("id")
            .first()
        )
        if child is not None:
            picks.append(child)
    return picks


def queries_for(child: Child) -> dict[str, str]:
    folded = fold(child.full_name)
    parts = folded.split()
    dob = child.date_of_birth.strftime("%d/%m/%Y") if child.date_of_birth else ""
    return {
        "full name, no diacritics": folded,
        "full name, as written": child.full_name.upper(),
        "family + given name": f"{parts[0]} {parts[-1]}" if len(parts) > 1 else folded,
        "given name + DOB": f"{parts[-1]} {dob}",
        "DOB": dob,
        "personal ID": child.personal_id,
        "guardian / parent name": fold(child.guardian_name or child.mother_name or child.father_name),
    }


def run(per_kind: int, seed: int, national: int = 0) -> int:
    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL — figures are not the benchmark's", file=sys.stderr)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # fresh statistics after the generator's bulk COPY
            cursor.execute("ANALYZE registry_child")
    total = Child.objects.count()
    nation = ReportingUnit.objects.filter(
        depth=ReportingUnit.objects.order_by("depth").values("depth")[:1]
    ).first()
    # The province scope is the Sở Y tế of the sampled child's own province (at national size the first DOH
    # would hold 1/34 of the sample and find nothing for the rest).
    dohs = {
        u.admin_unit.code: u for u in ReportingUnit.objects.filter(kind="doh").select_related("admin_unit")
    }
    fallback = next(iter(dohs.values()), nation)
    print(f"children: {total:,}  database: {connection.vendor} {connection.settings_dict['NAME']}")
    sample = sample_children(per_kind, seed)
    results: dict[tuple[str, str], list[float]] = {}
    hits: dict[tuple[str, str], int] = {}
    with_count: list[float] = []
    for child in sample:
        commune = SimpleNamespace(is_authenticated=True, unit=child.unit, is_superuser=False)
        upper = SimpleNamespace(
            is_authenticated=True, unit=dohs.get(child.province_code, fallback), is_superuser=False
        )
        scopes = [("commune", commune, ""), ("province", upper, "")]
        if national and len(results.get(("nation", "full name, no diacritics"), [])) < national:
            ministry = SimpleNamespace(is_authenticated=True, unit=nation, is_superuser=False)
            # the Ministry as it searches: the whole nation, and narrowed to the child's province (?province=)
            scopes += [("nation", ministry, ""), ("nation+prov", ministry, child.province_code)]
        for scope, principal, province in scopes:
            for kind, q in queries_for(child).items():
                if not q.strip():
                    continue
                # What the list page and the API run since issue 20: one search for the page and its capped count.
                started = time.perf_counter()
                page = child_search_page(principal, q=q, province=province).items
                elapsed = (time.perf_counter() - started) * 1000
                results.setdefault((scope, kind), []).append(elapsed)
                if scope in ("commune", "province"):
                    # the API before issue 20: the first page, then a capped count when the page was full
                    started = time.perf_counter()
                    qs = child_search(principal, q=q)
                    old_page = list(qs[:50])
                    if len(old_page) == 50:
                        qs[:1_001].count()
                    with_count.append((time.perf_counter() - started) * 1000)
                hits[(scope, kind)] = hits.get((scope, kind), 0) + (
                    1 if any(c.pk == child.pk for c in page) else 0
                )
    print(f"{'scope':11} {'query':26} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'found':>6}")
    everything: list[float] = []
    for (scope, kind), values in results.items():
        if scope in ("commune", "province"):  # the target's searches; the Ministry's are shown apart
            everything += values
        print(
            f"{scope:11} {kind:26} {len(values):4d} {statistics.median(values):8.1f} "
            f"{percentile(values, 95):8.1f} {percentile(values, 99):8.1f} {hits[(scope, kind)] / len(values):6.0%}"
        )
    p95 = percentile(everything, 95)
    print(
        f"ALL {len(everything)} searches: p50 {statistics.median(everything):.1f} ms, p95 {p95:.1f} ms, "
        f"p99 {percentile(everything, 99):.1f} ms; target p95 < {TARGET_P95_MS:.0f} ms → ratio {p95 / TARGET_P95_MS:.2f} (load average {' '.join(f'{x:.2f}' for x in os.getloadavg())})"
    )
    print(
        f"API before issue 20 (first page + capped count when the page is full): p50 {statistics.median(with_count):.1f} ms, "
        f"p95 {percentile(with_count, 95):.1f} ms, p99 {percentile(with_count, 99):.1f} ms; "
        f"now (the ALL line) ×{p95 / percentile(with_count, 95):.2f} at p95"
    )
    return 0 if p95 < TARGET_P95_MS else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--per-kind", type=int, default=100, help="sampled children (each gives one query per kind)"
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--national", type=int, default=0, help="also search as the Ministry for this many sampled children"
    )
    args = parser.parse_args()
    raise SystemExit(run(args.per_kind, args.seed, args.national))
