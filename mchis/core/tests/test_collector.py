"""The garbage collector's tuning for workers (ADR 0082): applied where workers start, switchable, undone by
the command-scoped form."""

from __future__ import annotations

import gc
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mchis.core.collector import few_collections, freeze_startup_objects

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture
def restored_collector() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def test_freezing_sets_start_up_aside_and_raises_the_young_threshold(restored_collector: None) -> None:
    older, oldest = gc.get_threshold()[1:]
    assert freeze_startup_objects(12_345) is True
    assert gc.get_threshold() == (12_345, older, oldest)
    assert gc.get_freeze_count() > 1000  # Django's and the app's modules, settings, URL patterns


def test_a_zero_threshold_leaves_python_defaults(restored_collector: None) -> None:
    before = gc.get_threshold()
    assert freeze_startup_objects(0) is False
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_the_command_scoped_form_is_undone_afterwards(restored_collector: None) -> None:
    before = gc.get_threshold()
    with few_collections(9_000):
        assert gc.get_threshold()[0] == 9_000
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_the_celery_pool_process_signal_tunes_the_collector(restored_collector: None, settings: Any) -> None:
    from config.celery import _tune_collector

    settings.GC_YOUNG_THRESHOLD = 23_456
    _tune_collector()
    assert gc.get_threshold()[0] == 23_456


@pytest.mark.parametrize(("setting", "expected"), [("", "50000 True"), ("0", "700 False")])
def test_the_wsgi_application_tunes_its_worker_as_the_setting_says(setting: str, expected: str) -> None:
    """What gunicorn loads (config.wsgi:application), in a process of its own as a worker is."""
    env = {k: v for k, v in os.environ.items() if k != "MCHIS_GC_YOUNG_THRESHOLD"} | {"DATABASE_URL": ""}
    if setting:  # unset: the default
        env["MCHIS_GC_YOUNG_THRESHOLD"] = setting
    code = "import gc, config.wsgi; print(gc.get_threshold()[0], gc.get_freeze_count() > 0)"
    out = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert out.stdout.split("\n")[-2] == expected
