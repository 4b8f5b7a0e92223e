"""Done-when of issue 19 for the SQLite demo, through the public commands: `backup` to three places, a write
after it, the database deleted, `restore`, then proof by checksums and `audit_verify` that nothing was lost or
altered (and the later write is not there), and `restore_drill` with its signed report."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from mchis.ops import sqlite_backup
from mchis.ops.drill import verify_signed

pytestmark = pytest.mark.slow


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )


def test_r_ops_01_sqlite_demo_backup_delete_restore_and_drill(demo_db, targets, tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{demo_db}",
        "BACKUP_TARGETS": ",".join(str(t) for t in targets),
        "MCHIS_VAR_DIR": str(tmp_path / "var"),
        "OPS_REPORT_DIR": str(tmp_path / "reports"),
    }
    done = _manage(env, "backup")
    assert done.returncode == 0, done.stdout + done.stderr
    manifest = sqlite_backup.latest(targets)[0]
    for target in targets:  # where each copy went, with its checksum
        assert f"OK   {target}/mchis-" in done.stdout
    assert f"sha256={manifest.data['sha256']}" in done.stdout
    at_backup = manifest.data["tables"]

    later = _manage(
        env,
        "shell",
        "-c",
        (
            "from django.utils import timezone; from mchis.ops.services import ops_run_record; "
            "from mchis.ops.models import RunKind; "
            "ops_run_record(kind=RunKind.VERIFY, started_at=timezone.now(), ok=True, detail={'marker': 'after-backup'})"
        ),
    )
    assert later.returncode == 0, later.stderr

    demo_db.unlink()  # the database is lost
    restored = _manage(env, "restore")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    after = sqlite_backup.sums_of(demo_db)
    # Every table as it was at the backup; the audit log and the ops log grew by the restore's own record.
    changed = {t for t in at_backup if after[t] != at_backup[t]}
    assert changed == {"core_auditevent", "ops_opsrun"}
    assert after["core_auditevent"][0] == at_backup["core_auditevent"][0] + 1
    with sqlite3.connect(demo_db) as conn:
        kinds = [k for (k,) in conn.execute("SELECT kind FROM ops_opsrun ORDER BY id")]
    # The write made after the backup is not there (the backup's own record is written after its snapshot).
    assert kinds == ["restore"]
    verified = _manage(env, "audit_verify")
    assert verified.returncode == 0 and "OK" in verified.stdout

    again = _manage(env, "restore")  # the database now holds data: refused, nothing overwritten
    assert again.returncode != 0 and "đang có dữ liệu" in again.stderr

    drill = _manage(env, "restore_drill")
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "core_auditevent" in drill.stdout and "ĐẠT" in drill.stdout
    report = next((tmp_path / "reports").glob("drill-*.json"))
    assert verify_signed(report)
    report.write_text(report.read_text().replace('"ok": true', '"ok": false'))
    assert not verify_signed(report)  # a doctored report no longer verifies

    checked = _manage(env, "backup_verify")
    assert checked.returncode == 0 and "tất cả nguyên vẹn" in checked.stdout
