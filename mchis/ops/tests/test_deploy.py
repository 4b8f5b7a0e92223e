"""Deployment (issue 19 item 7): the documented production environment passes `check --deploy`, and the
systemd units start one worker pool per Celery queue with the statement timeouts of ADR 0062."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

from django.conf import settings

DEPLOY = Path(settings.BASE_DIR) / "deploy"


def _env_file(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key.strip()] = value.strip()
    return pairs


def test_r_ops_02_documented_production_environment_passes_check_deploy(tmp_path):
    documented = _env_file(DEPLOY / "mchis.env.example")
    assert documented["DJANGO_SETTINGS_MODULE"] == "config.settings.production"
    env = {
        **os.environ,
        **documented,
        "SECRET_KEY": secrets.token_urlsafe(64)[:60],  # the example's placeholder is replaced at install
        "MCHIS_VAR_DIR": str(tmp_path),
        "DATABASE_URL": "",  # the check needs no live database
        "REDIS_URL": "",
        "PROMETHEUS_MULTIPROC_DIR": "",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    done = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_r_ops_02_a_worker_unit_per_queue_and_heavy_work_routed_away_from_data_entry():
    install = (DEPLOY / "install.sh").read_text()
    for queue in settings.CELERY_QUEUE_NAMES:
        assert f"mchis-worker@{queue}" in install
        assert (DEPLOY / "systemd" / f"worker-{queue}.env").exists()
    unit = (DEPLOY / "systemd" / "mchis-worker@.service").read_text()
    assert "-Q %i" in unit
    # scans and operations never run on the queue data entry waits on
    assert settings.CELERY_TASK_ROUTES["quality.*"]["queue"] == "heavy"
    assert settings.CELERY_TASK_ROUTES["ops.backup"]["queue"] == "heavy"
    web_ms = int(_env_file(DEPLOY / "mchis.env.example")["DB_STATEMENT_TIMEOUT_MS"])
    heavy_ms = int(_env_file(DEPLOY / "systemd" / "worker-heavy.env")["DB_STATEMENT_TIMEOUT_MS"])
    assert 0 < web_ms < heavy_ms


def test_every_scheduled_ops_job_exists_and_runs_at_a_fixed_time():
    from celery import current_app

    current_app.loader.import_default_modules()
    for name in ("ops-backup-daily", "ops-verify-weekly", "ops-drill-monthly"):
        entry = settings.CELERY_BEAT_SCHEDULE[name]
        assert entry["task"] in current_app.tasks
        assert re.search(r"crontab", repr(entry["schedule"]))
