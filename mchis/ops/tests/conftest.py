from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from django.db import connection

from mchis.registry.tests.conftest import collector, leader, make_child, unit  # noqa: F401


@pytest.fixture
def demo_db(transactional_db, tree, tmp_path) -> Path:
    """A migrated SQLite file holding the test tree and its audit entries (copied from the test database
    with SQLite's backup API: a fresh `migrate` would take a minute)."""
    if connection.vendor != "sqlite":
        pytest.skip("the embedded demo's backups are SQLite's (run by the SQLite pass of CI)")
    path = tmp_path / "demo.sqlite3"
    connection.ensure_connection()
    with sqlite3.connect(path) as target:
        connection.connection.backup(target)
    target.close()
    return path


@pytest.fixture
def targets(tmp_path) -> list[Path]:
    dirs = [tmp_path / f"storage-{n}" for n in (1, 2, 3)]
    for d in dirs:
        d.mkdir()
    return dirs


@pytest.fixture(autouse=True)
def _no_heartbeat_yet():
    """The cache may be a shared Redis (PostgreSQL pass of CI): no heartbeat left over by an earlier test."""
    from django.conf import settings
    from django.core.cache import cache

    from mchis.ops.health import HEARTBEAT_KEY

    cache.delete_many([HEARTBEAT_KEY.format(queue=q) for q in settings.CELERY_QUEUE_NAMES])
    yield
