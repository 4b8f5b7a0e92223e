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


RECEIVERS = {
    "ehr": "mchis.integrations.ehr.receiver",
    "statistics": "mchis.integrations.statistics.receiver",
    "handbook": "mchis.integrations.handbook.app",
    "population": "mchis.integrations.population.simulator",
}


def test_r_ops_02_every_partner_receiver_has_a_unit_whose_arguments_it_accepts():
    """Each local receiver (docs/exchanges.md) runs as an instance of mchis-receiver@.service; its environment
    file names an existing module and only arguments that module accepts."""
    unit = (DEPLOY / "systemd" / "mchis-receiver@.service").read_text()
    assert (
        "EnvironmentFile=/etc/mchis/receiver-%i.env" in unit
        and "-m ${RECEIVER_MODULE} $RECEIVER_ARGS" in unit
    )
    for name, module in RECEIVERS.items():
        assert f"mchis-receiver@{name}" in unit  # the enable line documents every instance
        env = _env_file(DEPLOY / "systemd" / f"receiver-{name}.env")
        assert env["RECEIVER_MODULE"] == module
        done = subprocess.run(
            [sys.executable, "-m", module, "--help"], capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stderr
        for flag in re.findall(r"(--[a-z-]+)", env["RECEIVER_ARGS"]):
            assert flag in done.stdout, f"{module} does not accept {flag}"


def _units() -> list[Path]:
    return sorted(p for p in (DEPLOY / "systemd").iterdir() if p.suffix in {".service", ".timer"})


def test_r_ops_02_the_units_are_well_formed():
    """Parsed here (sections, a command for each service, an install target); `systemd-analyze verify` below
    checks them properly where systemd is available."""
    for path in _units():
        text = path.read_text(encoding="utf-8")
        sections = re.findall(r"^\[(\w+)\]$", text, re.M)
        assert sections[0] == "Unit", path.name
        if path.suffix == ".service":
            assert "Service" in sections and re.search(r"^ExecStart=\S", text, re.M), path.name
        if "Install" in sections:
            assert re.search(r"^WantedBy=\S", text, re.M), path.name


def test_r_ops_02_systemd_analyze_verifies_every_unit(tmp_path):
    import shutil

    import pytest

    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip(
            "systemd-analyze not installed (package systemd); test_the_units_are_well_formed still runs"
        )
    venv_bin = Path(sys.executable).parent
    for path in _units():
        # the install location does not exist here: point the commands at this machine's own executables
        text = path.read_text(encoding="utf-8").replace("/srv/mchis/app/.venv/bin/", f"{venv_bin}/")
        name = path.name.replace("@.service", "@demo.service")
        (tmp_path / name).write_text(text, encoding="utf-8")
    units = [str(p) for p in sorted(tmp_path.iterdir()) if p.suffix == ".service"]
    done = subprocess.run(
        [analyze, "verify", *units], capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path
    )
    assert done.returncode == 0, done.stdout + done.stderr
