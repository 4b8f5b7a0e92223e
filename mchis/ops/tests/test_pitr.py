"""Done-when of issue 19 for PostgreSQL (R-OPS-01): a full backup to three pgBackRest repositories, WAL
archived continuously, the database deleted, and a point-in-time restore to an instant between two writes,
proven by table checksums and `audit_verify`; plus the `restore_drill` command on the same instance.

Runs on a scratch PostgreSQL instance the test creates (its own data directory, port and socket): the shared
cluster is never reconfigured. Its schema and data are dumped from this test's (migrated) database.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from mchis.ops.checksums import table_checksums

from . import scratch_pg

pytestmark = pytest.mark.slow


def _manage(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-W", "ignore", str(Path(settings.BASE_DIR) / "manage.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )


def _write(env: dict[str, str], marker: str) -> None:
    """One audited write through the product's service (an OpsRun + its audit entry)."""
    code = (
        "from django.utils import timezone; from mchis.ops.services import ops_run_record; "
        "from mchis.ops.models import RunKind; "
        f"ops_run_record(kind=RunKind.VERIFY, started_at=timezone.now(), ok=True, detail={{'marker': '{marker}'}})"
    )
    done = _manage(env, "shell", "-c", code)
    assert done.returncode == 0, done.stderr


def _markers(cluster: scratch_pg.ScratchCluster) -> list[str]:
    with cluster.connect("mchis") as conn:
        rows = conn.execute("SELECT detail->>'marker' FROM ops_opsrun WHERE detail ? 'marker' ORDER BY id")
        return [r[0] for r in rows.fetchall()]


@pytest.fixture
def cluster(transactional_db, tree):
    if connection.vendor != "postgresql":
        pytest.skip("point-in-time recovery is PostgreSQL's (run by the PostgreSQL pass of CI)")
    if not scratch_pg.available():
        if os.environ.get("CI"):
            pytest.fail("pgbackrest and PostgreSQL 15 binaries must be installed in CI (.ci/run need_apt)")
        pytest.skip("pgbackrest / initdb not installed")
    scratch = scratch_pg.ScratchCluster()
    try:
        scratch.init()
        scratch.start()
        with scratch.connect("postgres") as conn:
            conn.execute("CREATE DATABASE mchis")
        # This test's database (migrated, with the tree committed) becomes the scratch instance's content.
        sd = connection.settings_dict
        dump = subprocess.run(
            [
                "pg_dump",
                "--no-owner",
                "-h",
                sd["HOST"] or "127.0.0.1",
                "-p",
                str(sd["PORT"] or 5432),
                "-U",
                sd["USER"] or "postgres",
                sd["NAME"],
            ],
            capture_output=True,
            check=True,
            timeout=300,
            env={**os.environ, "PGPASSWORD": sd["PASSWORD"] or ""},
        )
        subprocess.run(
            [
                "psql",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                str(scratch.root),
                "-p",
                str(scratch.port),
                "-U",
                "postgres",
                "mchis",
            ],
            input=dump.stdout,
            capture_output=True,
            check=True,
            timeout=300,
        )
        scratch.pgbackrest("stanza-create")
        yield scratch
    finally:
        scratch.destroy()


def test_r_ops_01_pitr_from_three_repositories_between_two_writes(cluster, tmp_path):
    evidence_dirs = [tmp_path / f"files-{n}" for n in (1, 2, 3)]
    for d in evidence_dirs:
        d.mkdir()
    env = {
        **os.environ,
        **cluster.env("mchis"),
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "BACKUP_TARGETS": ",".join(str(d) for d in evidence_dirs),
        "OPS_REPORT_DIR": str(tmp_path / "reports"),
        "MCHIS_VAR_DIR": str(tmp_path / "var"),
    }
    t0 = time.monotonic()
    done = _manage(env, "backup", "--type", "full")
    assert done.returncode == 0, done.stdout + done.stderr
    backup_seconds = time.monotonic() - t0
    for n, repo in enumerate(cluster.repos, start=1):
        info = json.loads(cluster.pgbackrest(f"--repo={n}", "--output=json", "info"))[0]
        assert [b["type"] for b in info["backup"]] == ["full"], f"repo{n}"
        assert f"OK   repo{n} (posix: {repo})" in done.stdout
    assert done.stdout.count("sha256=") == 3
    verified = _manage(
        env, "backup_verify"
    )  # the weekly check: pgbackrest check + verify of every repository
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.count("OK ") == 4  # check + verify repo1..3

    _write(env, "A")
    time.sleep(1.2)
    with cluster.connect("mchis") as conn:
        target = conn.execute("SELECT clock_timestamp()::text").fetchone()[0]
        with conn.cursor() as cur:
            at_target = table_checksums(cur, "postgresql")
    time.sleep(1.2)
    _write(env, "B")
    assert _markers(cluster) == ["A", "B"]

    drill = _manage(
        env, "restore_drill"
    )  # the drill command, on repo1 (drills take the repositories in turn)
    assert drill.returncode == 0, drill.stdout + drill.stderr
    assert "core_auditevent" in drill.stdout and "ĐẠT" in drill.stdout and "audit_verify: OK" in drill.stdout
    cluster.pgbackrest("check")  # the WAL holding B is archived (recovery needs a commit past the target)

    cluster.stop()
    with pytest.raises(RuntimeError, match="(?i)not empty|contains|exists"):  # never restores over a database
        cluster.pgbackrest("--repo=2", "restore")
    shutil.rmtree(cluster.data)  # the database is lost

    t1 = time.monotonic()
    cluster.pgbackrest("--repo=2", "--type=time", f"--target={target}", "--target-action=promote", "restore")
    cluster.start()
    cluster.wait_promoted()
    restore_seconds = time.monotonic() - t1

    assert _markers(cluster) == ["A"]  # the write before the instant is there, the one after is not
    with cluster.connect("mchis") as conn, conn.cursor() as cur:
        assert table_checksums(cur, "postgresql") == at_target  # nothing lost or altered
    verified = _manage(env, "audit_verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    print(
        f"\nbackup to 3 repositories: {backup_seconds:.1f} s; PITR restore + recovery: {restore_seconds:.1f} s"
    )
