"""Alerting (issue 19 items 2 and 4): the rules file passes `promtool check rules`, its unit tests prove the
backup/drill alerts fire (missing, late, failed, drill failed), and every metric a rule reads is exposed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings

from mchis.accounts.services import api_client_create

RULES = Path(settings.BASE_DIR) / "deploy" / "prometheus"


def _promtool() -> str:
    tool = shutil.which("promtool")
    if tool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool (Debian package prometheus) must be installed in CI (.ci/run need_apt)")
        pytest.skip("promtool not installed")
    return tool


def test_r_ops_02_promtool_checks_the_rules():
    done = subprocess.run(
        [_promtool(), "check", "rules", str(RULES / "alerts.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_r_ops_01_backup_and_drill_alerts_fire_in_promtool_unit_tests():
    done = subprocess.run(
        [_promtool(), "test", "rules", "alerts_test.yml"],
        cwd=RULES,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    tested = set(re.findall(r"alertname: (\w+)", (RULES / "alerts_test.yml").read_text()))
    assert {"MchisBackupMissing", "MchisBackupLate", "MchisBackupFailed", "MchisRestoreDrillFailed"} <= tested


@pytest.mark.django_db
def test_every_metric_the_rules_read_is_exposed(client, tree):
    _, token = api_client_create(actor=None, name="prometheus", unit=tree.ministry, scopes=["ops.view"])
    client.get("/health/live")
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode()
    exposed = set(re.findall(r"^# TYPE (\w+) ", text, re.M))
    exposed |= {f"{name}_total" for name in exposed} | {f"{name}_bucket" for name in exposed}
    used = set(re.findall(r"\bmchis_\w+", (RULES / "alerts.yml").read_text()))
    used -= {"mchis_jobs_inline_fallback_total"} if "mchis_jobs_inline_fallback" in exposed else set()
    assert used - exposed == set()
