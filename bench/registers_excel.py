"""Excel upload of a large register file (R-MCH-02b): validate + preview, then commit; time and peak memory.

    nice -n 10 python bench/registers_excel.py --rows 100000
    python bench/registers_excel.py --rows 5000 --tracemalloc      # Python-heap peak too (slower)

Uses its own PostgreSQL database (default mchis_registers_bench, shared with bench/registers_api.py). Writes an
ANC workbook (openpyxl write-only, ~10 % of rows in legacy TCVN3/VNI text and ~1 % with errors), then runs the
same services the web page calls: `upload_preview` (stream, validate, dry-run, store outcomes) and
`upload_commit` (re-validate, write in one transaction, error workbook). Peak memory is the process's
maximum resident set (ru_maxrss, includes calamine's Rust buffers); --tracemalloc adds the Python-heap peak.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def write_workbook(path: Path, rows: int, facility: str) -> None:
    from openpyxl import Workbook

    from mchis.registers.legacy import unicode_to_tcvn3, unicode_to_vni

    sys.path.insert(0, str(ROOT / "bench"))
    from registers_api import GIVEN, MIDDLE, SURNAMES

    rng = random.Random(3)
    run = f"{int(time.time()) % 1_000_000}"
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Dữ liệu")
    ws.append(["Mã cơ sở", "Mã bản ghi nguồn", "Ngày", "Nơi thực hiện", "Họ và tên", "Ngày sinh", "Dân tộc",
               "Địa chỉ", "Tuổi thai (tuần)", "Xét nghiệm protein niệu", "Xét nghiệm HIV", "Kết quả HIV"])  # fmt: skip
    today = date.today()
    for i in range(rows):
        event = today - timedelta(days=rng.randint(1, 700))
        name = f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"
        address = f"Thôn {rng.choice(GIVEN)}, xã Kim Bình"
        roll = rng.random()
        if roll < 0.05:
            name, address = unicode_to_tcvn3(name), unicode_to_tcvn3(address)
        elif roll < 0.10:
            name, address = unicode_to_vni(name), unicode_to_vni(address)
        event_cell: object = event if rng.random() < 0.5 else event.strftime("%d/%m/%Y")
        if rng.random() < 0.01:
            event_cell = "31/02/2025"  # an error row
        ws.append([facility, f"XL{run}-{i}", event_cell, "at_facility - Tại TYT / tại cơ sở", name,
                   event - timedelta(days=rng.randint(16 * 365, 40 * 365)), rng.choice(["01", "02", "Tày", "03"]),
                   address, rng.randint(6, 40), "Có", "x", "negative - Âm tính"])  # fmt: skip
    wb.save(path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", default="postgres://postgres@127.0.0.1:5432/mchis_registers_bench")
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "bench"))
    from registers_api import setup_database

    setup_database(args.db, 1)
    from django.conf import settings

    from mchis.accounts.services import account_create
    from mchis.registers.services import upload_commit, upload_preview
    from mchis.units.models import ReportingUnit

    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="bench-media-"))
    unit = ReportingUnit.objects.get(code="BENCH-TYT0000")
    user, _ = account_create(
        actor=None,
        username=f"bench{int(time.time())}",
        unit=unit,
        role="collector",
        password="Bench#Passw0rd1",
    )
    path = Path(tempfile.mkdtemp(prefix="bench-xlsx-")) / "anc.xlsx"
    t0 = time.perf_counter()
    write_workbook(path, args.rows, unit.code)
    print(f"workbook: {args.rows:,} rows, {path.stat().st_size / 1_048_576:.1f} MB, written in "
          f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.tracemalloc:
        tracemalloc.start()

    def chunks():
        with path.open("rb") as fh:
            while block := fh.read(1 << 20):
                yield block

    t0 = time.perf_counter()
    upload = upload_preview(actor=user, register="anc", unit=unit, filename="anc.xlsx", chunks=chunks())
    t_preview = time.perf_counter() - t0
    t0 = time.perf_counter()
    done = upload_commit(actor=user, upload=upload)
    t_commit = time.perf_counter() - t0
    peak_py = tracemalloc.get_traced_memory()[1] / 1_048_576 if args.tracemalloc else None
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    counts = upload.summary["counts"]
    result = done.summary["result"]
    print(f"preview (read + validate + dry run + store outcomes): {t_preview:.1f} s  {counts}")
    print(f"commit (re-read + re-validate + write + error file): {t_commit:.1f} s  {result}")
    total = t_preview + t_commit
    print(
        f"total {total:.1f} s ({args.rows / total:,.0f} rows/s); target < 60 s: {'met' if total < 60 else 'NOT met'}"
    )
    print(f"peak RSS {rss_after:.0f} MB (before the upload {rss_before:.0f} MB); target < 500 MB: "
          f"{'met' if rss_after < 500 else 'NOT met'}")  # fmt: skip
    if peak_py is not None:
        print(f"peak Python heap (tracemalloc) {peak_py:.0f} MB")


if __name__ == "__main__":
    main()
