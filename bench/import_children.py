"""Initial migration speed (issue 14): `manage.py import_children` on a generated province file.

Target: ≥ 5,000 rows/s on PostgreSQL for 1,000,000 rows, memory bounded (peak RSS printed).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/mchis_import
    python manage.py migrate && python manage.py load_admin_units && python manage.py load_catalogs
    nice -n 10 python bench/import_children.py --rows 1000000 [--province 08] [--error-rate 0.02]

The file is written by the demo generator's people stream (same names, IDs, villages, circumstance groups;
`--error-rate` adds its labelled errors) with one `ma_don_vi` per row, so the run is the multi-unit path: the
approver is a leader of the province's Department of Health. The import runs as a child process (its own
peak RSS) twice: the load, then the same file again (idempotent re-run: nothing new).

The machine is shared, so the figures that hold are CPU times: the import process's (its CPU minus that of a
bare start of the command, so Django's start-up does not weigh on small runs) and its PostgreSQL backend's
(read from /proc while it runs, with the backend's peak RSS). Since issue 14 the two overlap (a writer thread
inserts chunk N while the checks run on chunk N+1), so on an idle 2-core machine the rate is about rows /
max(Python CPU, backend CPU); both are printed with that projection, beside the wall rate and the load
average before and after. `--reference-root DIR` first runs the same file with an
earlier checkout (e.g. `git archive cb71b01 | tar -x -C /tmp/base`) under another source name, so both are
measured in the same run (the current code then loads into the bigger table: the ratio is conservative).
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402

from mchis.demo.people import PeopleGenerator  # noqa: E402
from mchis.demo.services import _commune_infos, _province  # noqa: E402
from mchis.demo.tree import ensure_tree  # noqa: E402
from mchis.places.models import Village  # noqa: E402
from mchis.registry.models import Child  # noqa: E402
from mchis.units.models import ReportingUnit  # noqa: E402

TARGET_ROWS_PER_S = 5_000
HEADER = (
    "ma_ho_so", "ma_don_vi", "ho_ten", "ngay_sinh", "gioi_tinh", "dan_toc", "so_dinh_danh", "thon",
    "ho_ten_cha", "ngay_sinh_cha", "so_dinh_danh_cha", "ho_ten_me", "ngay_sinh_me", "so_dinh_danh_me",
    "ho_ten_nguoi_giam_ho", "ngay_sinh_nguoi_giam_ho", "so_dinh_danh_nguoi_giam_ho", "quan_he_nguoi_giam_ho",
    "nhom_hoan_canh", "ngay_bat_dau_hoan_canh",
)  # fmt: skip


def _d(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def prepare(province_code: str) -> tuple[str, list]:
    """Unit tree and villages of the province (once), and a leader of its Department of Health."""
    from mchis.accounts.models import User
    from mchis.accounts.services import account_create

    with transaction.atomic():
        province = _province(province_code)
        tree = ensure_tree(province=province)
        username = f"bench_import_{province_code}"
        if not User.objects.filter(username=username).exists():
            account_create(actor=None, username=username, unit=tree.doh, role="leader")
        infos, others = _commune_infos(tree, random.Random(f"bench-import:{province_code}"))
    return username, [infos, others]


def write_file(
    path: Path, rows: int, province_code: str, seed: int, error_rate: float, infos_others: list
) -> None:
    infos, others = infos_others
    unit_code = dict(ReportingUnit.objects.values_list("id", "code"))
    village_name = {v.pk: str(v) for v in Village.objects.filter(commune_id__in=[c.admin_id for c in infos])}
    generator = PeopleGenerator(
        rng=random.Random(f"bench-import:{seed}"), communes=infos, as_of=timezone.localdate(),
        other_prefixes=others, error_rate=error_rate, ref_prefix=f"B{province_code}-{seed}-",
    )  # fmt: skip
    with path.open("w", encoding="utf-8", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        for row, _truth in generator.stream(rows):
            group = row.circumstances[0] if row.circumstances else None
            out.writerow((
                row.source_ref, unit_code[row.commune.unit_id], row.full_name, _d(row.date_of_birth),
                {"M": "Nam", "F": "Nữ"}.get(row.sex, row.sex), row.ethnicity_code, row.personal_id,
                village_name.get(row.village_id, "") if row.village_id else "",
                row.father_name, _d(row.father_dob), row.father_personal_id,
                row.mother_name, _d(row.mother_dob), row.mother_personal_id,
                row.guardian_name, _d(row.guardian_dob), row.guardian_personal_id, row.guardian_relationship,
                group[0] if group else "", _d(group[2]) if group else "",
            ))  # fmt: skip


def _cpu_seconds(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _peak_rss_mb(pid: int) -> float | None:
    """Peak resident memory of a process (VmHWM), MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def run_import(path: Path, username: str, source: str, root: Path = ROOT) -> tuple[float, str, float, float]:
    """(wall seconds, output, CPU seconds and peak RSS MB of the PostgreSQL backends the import used)."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(root / "manage.py"), "import_children", str(path), "--approved-by", username,
         "--source", source],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=os.environ.copy(), cwd=root,
    )  # fmt: skip
    backend: dict[int, float] = {}
    backend_rss: dict[int, float] = {}
    before = {int(p) for p in _backend_pids()}
    while proc.poll() is None:
        for pid in _backend_pids():
            if pid not in before and (cpu := _cpu_seconds(pid)) is not None:
                backend[pid] = cpu
                backend_rss[pid] = _peak_rss_mb(pid) or backend_rss.get(pid, 0.0)
        time.sleep(0.5)
    out, err = proc.communicate()
    elapsed = time.perf_counter() - started
    if proc.returncode:
        print(out, err, file=sys.stderr)
        raise SystemExit(proc.returncode)
    return elapsed, out, sum(backend.values()), max(backend_rss.values(), default=0.0)


def _backend_pids() -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return [r[0] for r in cursor.fetchall()]


def startup_cpu(root: Path) -> float:
    """CPU seconds of a bare start of the command (Django set-up, imports): subtracted to get per-row costs."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(
        [sys.executable, str(root / "manage.py"), "import_children", "--help"], cwd=root, env=os.environ.copy(),
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(label: str, path: Path, rows: int, username: str, source: str, root: Path) -> dict[str, float]:
    start_cpu = startup_cpu(root)
    before = Child.objects.count()
    load_before = os.getloadavg()[0]
    cpu_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    elapsed, out, pg_cpu, pg_rss = run_import(path, username, source, root)
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (usage.ru_utime - cpu_before.ru_utime) + (usage.ru_stime - cpu_before.ru_stime)
    loaded = Child.objects.count() - before
    print(f"[{label}] {root}")
    print("  " + out.strip().replace("\n", "\n  "))
    rate = rows / elapsed
    per_row = max(cpu - start_cpu, 1e-9)  # the import's own CPU, Django start-up set aside
    quiet = rows / max(per_row, pg_cpu, 1e-9)
    print(
        f"  LOAD {rows:,} rows in {elapsed:.1f} s: {rate:,.0f} rows/s wall at load average {load_before:.1f} → "
        f"{os.getloadavg()[0]:.1f} ({os.cpu_count()} shared cores); {loaded:,} records created"
    )
    print(
        f"  CPU: import process {cpu:.1f} s ({cpu / rows * 1e6:.0f} µs/row; {per_row / rows * 1e6:.0f} µs/row without "
        f"its {start_cpu:.1f} s start-up), PostgreSQL backend {pg_cpu:.1f} s ({pg_cpu / rows * 1e6:.0f} µs/row, "
        f"peak RSS {pg_rss:.0f} MB); idle 2-core projection: overlapped rows / max = {quiet:,.0f} rows/s, "
        f"sequential rows / sum = {rows / max(per_row + pg_cpu, 1e-9):,.0f} rows/s (target ≥ {TARGET_ROWS_PER_S:,})"
    )
    return {"wall": elapsed, "cpu": cpu, "pg": pg_cpu, "loaded": loaded, "start": start_cpu}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--province", default="08")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--error-rate", type=float, default=0.0)
    parser.add_argument("--file", type=Path, default=ROOT / "var" / "bench-import.csv")
    parser.add_argument("--reference-root", type=Path, help="an earlier checkout, run first on the same file")
    parser.add_argument(
        "--root", type=Path, default=ROOT, help="the checkout measured (default: this one; e.g. an earlier one "
        "alone, on a database migrated by it, for a before/after on equal tables)",
    )  # fmt: skip
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("warning: not PostgreSQL — figures are not the benchmark's", file=sys.stderr)
    args.file.parent.mkdir(parents=True, exist_ok=True)
    username, infos = prepare(args.province)
    started = time.perf_counter()
    write_file(args.file, args.rows, args.province, args.seed, args.error_rate, infos)
    print(
        f"file: {args.rows:,} rows, {args.file.stat().st_size / 1e6:.0f} MB, written in {time.perf_counter() - started:.0f} s"
    )
    source = f"bench-{args.province}-{args.seed}-{args.rows}"
    results = {}
    if args.reference_root:
        results["reference"] = measure(
            "reference", args.file, args.rows, username, source + "-ref", args.reference_root
        )
    results["current"] = measure("current", args.file, args.rows, username, source, args.root)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux
    print(f"peak RSS of the largest import child process {peak:.0f} MB")
    if args.reference_root:
        ref, cur = results["reference"], results["current"]
        print(
            f"current / reference, same run: wall {cur['wall'] / ref['wall']:.2f}, import CPU "
            f"{(cur['cpu'] - cur['start']) / (ref['cpu'] - ref['start']):.2f}, backend CPU "
            f"{cur['pg'] / max(ref['pg'], 1e-9):.2f}"
        )
    before = Child.objects.count()
    elapsed, out, _, _ = run_import(args.file, username, source, args.root)
    print(f"RE-RUN (same file, same source): {elapsed:.1f} s, {Child.objects.count() - before} new records")
    rate = args.rows / results["current"]["wall"]
    return 0 if rate >= TARGET_ROWS_PER_S else 1


if __name__ == "__main__":
    raise SystemExit(main())
