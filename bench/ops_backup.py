"""Backup / restore benchmark of the embedded demo (issue 19 item 3): how long the three-copy SQLite backup,
the verification of every copy and a restore take for a database of a given size, and the rates.

    nice -n 10 python bench/ops_backup.py --db var/mchis.sqlite3      # the demo's database (scripts/demo)

Copies the database to a scratch directory first (the benchmark never touches the original), then: backup into
three targets (snapshot + integrity check + per-table checksums + three verified copies), verification of the
three copies, restore into an empty file. Prints seconds and MB/s of each step and the ratio backup / plain copy
(what the checks cost over `cp`), measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

import django

django.setup()

from mchis.ops import sqlite_backup  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mchis-bench-") as tmp:
        root = Path(tmp)
        source = root / "source.sqlite3"
        sqlite_backup.snapshot(args.db, source)
        size_mb = source.stat().st_size / 1e6
        targets = [root / f"copy-{n}" for n in (1, 2, 3)]
        for t in targets:
            t.mkdir()
        t0 = time.perf_counter()
        shutil.copyfile(source, root / "plain.sqlite3")
        plain = time.perf_counter() - t0
        t0 = time.perf_counter()
        outcome = sqlite_backup.backup(
            source, targets, now=datetime.now(tz=UTC), evidence_root=root / "ev", keep=3
        )
        backup = time.perf_counter() - t0
        assert outcome.good_copies == 3
        t0 = time.perf_counter()
        copies = sqlite_backup.latest(targets)
        assert all(sqlite_backup.verify_copy(m) == "" for m in copies)
        verify = time.perf_counter() - t0
        t0 = time.perf_counter()
        sqlite_backup.restore_file(
            copies[0], root / "restored.sqlite3", replace=False, now=datetime.now(tz=UTC)
        )
        restore = time.perf_counter() - t0
        rows = sum(n for n, _ in outcome.tables.values())
        print(f"database: {size_mb:.1f} MB, {len(outcome.tables)} tables, {rows:,} rows")
        print(f"plain copy (cp):         {plain:7.2f} s  {size_mb / plain:8.1f} MB/s")
        print(f"backup, 3 copies:        {backup:7.2f} s  {3 * size_mb / backup:8.1f} MB/s written")
        print(f"verify 3 copies:         {verify:7.2f} s  {3 * size_mb / verify:8.1f} MB/s checked")
        print(f"restore (verified):      {restore:7.2f} s  {size_mb / restore:8.1f} MB/s")
        print(f"ratio backup / plain copy: {backup / plain:.1f}x")


if __name__ == "__main__":
    main()
