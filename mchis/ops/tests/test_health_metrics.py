"""Probes and metrics (R-OPS-02): /health/live, /health/ready per component, /metrics restricted and complete."""

from __future__ import annotations

import re

import pytest

from mchis.accounts.services import api_client_create

pytestmark = pytest.mark.django_db

# Every metric family issue 19 item 4 names (a family may have no sample yet: no backup made, no Redis queue).
REQUIRED_METRICS = [
    "mchis_http_requests",  # request rates per route (and errors: status label)
    "mchis_http_request_duration_seconds",  # latencies per route
    "mchis_http_exceptions",
    "mchis_dependency_up",  # database and Redis health
    "mchis_celery_queue_length",
    "mchis_celery_task_failures",
    "mchis_import_records",  # import batch throughput
    "mchis_import_batches",
    "mchis_outbox_backlog",
    "mchis_report_deadlines_missed",
    "mchis_backup_age_seconds",
    "mchis_backup_last_success_timestamp_seconds",
    "mchis_circuit_breaker_open",
    "mchis_build_info",
]


def test_live_answers_without_touching_the_database(client, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(connection, "cursor", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("db down")))
    response = client.get("/health/live")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_lists_components_and_is_200_with_database(client):
    response = client.get("/health/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["components"]["database"] == "ok"
    assert body["components"]["migrations"] == "ok"
    assert "redis" in body["components"] and "worker:default" in body["components"]


def test_ready_is_503_when_the_database_is_down(client, monkeypatch):
    from django.db import connection

    monkeypatch.setattr(connection, "cursor", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("db down")))
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["components"]["database"] == "down"
    assert client.get("/health/ready?component=database").status_code == 503


def test_ready_per_component_reports_a_stale_worker(client, settings):
    from mchis.ops import health

    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.HEARTBEAT_MAX_AGE_SECONDS = 60
    health.record_heartbeat("default")
    assert client.get("/health/ready?component=default").status_code == 200
    assert client.get("/health/ready?component=heavy").status_code == 503  # never seen
    assert client.get("/health/ready?component=nosuch").status_code == 404
    # The web stays ready (200) but says it is degraded.
    body = client.get("/health/ready").json()
    assert body["status"] == "degraded" and body["components"]["worker:heavy"] == "down"


def test_metrics_refused_to_anonymous_and_to_people_without_the_right(client, tree, make_user):
    response = client.get("/metrics")
    assert response.status_code == 401
    assert "mchis_" not in response.content.decode()
    client.force_login(make_user("leader", tree.tyt_a1))
    assert client.get("/metrics").status_code == 403


def test_metrics_refuses_a_token_without_the_scope(client, tree):
    _, token = api_client_create(actor=None, name="dhis", unit=tree.ministry, scopes=["report.view"])
    assert client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer mchis_nonsense").status_code == 401


def test_metrics_expose_every_named_metric(client, tree, make_user):
    _, token = api_client_create(actor=None, name="prometheus", unit=tree.ministry, scopes=["ops.view"])
    client.get("/health/live")  # at least one measured request
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    text = response.content.decode()
    missing = [name for name in REQUIRED_METRICS if not re.search(rf"^# TYPE {name}(_total)? ", text, re.M)]
    assert not missing, missing
    # The state families carry samples from the start (zero counts), so alerts see them before any event.
    for sample in (
        'mchis_import_records_total{outcome="created"}',
        'mchis_outbox_backlog{partner="population"}',
        "mchis_report_deadlines_missed_total",
        'mchis_celery_task_failures_total{task="ops.backup"}',
    ):
        assert sample in text, sample
    assert 'mchis_dependency_up{component="database"} 1.0' in text
    # Routes are patterns, never concrete paths with IDs.
    assert 'route="/health/live"' in text
    # A signed-in system admin may read them too.
    client.force_login(make_user("system_admin", tree.ministry))
    assert client.get("/metrics").status_code == 200


def test_metrics_count_errors_per_route(client, tree, make_user):
    _, token = api_client_create(actor=None, name="prometheus", unit=tree.ministry, scopes=["ops.view"])
    client.force_login(make_user("leader", tree.tyt_a1))
    missing = "/children/00000000-0000-4000-8000-000000000000/"
    assert client.get(missing).status_code == 404
    client.logout()
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode()
    # Labelled by the URL pattern (bounded, no IDs), with the status: errors per route are countable.
    assert 'mchis_http_requests_total{method="GET",route="/children/<uuid:public_id>/",status="404"}' in text
    assert "00000000-0000" not in text


def test_metrics_show_backup_age_after_a_backup(client, tree, tmp_path, settings):
    from django.utils import timezone

    from mchis.ops.models import RunKind
    from mchis.ops.services import ops_run_record

    ops_run_record(kind=RunKind.SQLITE_BACKUP, started_at=timezone.now(), ok=True)
    ops_run_record(kind=RunKind.DRILL, started_at=timezone.now(), ok=False, error="x")
    _, token = api_client_create(actor=None, name="prometheus", unit=tree.ministry, scopes=["ops.view"])
    text = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {token}").content.decode()
    age = re.search(r"^mchis_backup_age_seconds ([0-9.e+-]+)$", text, re.M)
    assert age and float(age.group(1)) < 60
    assert 'mchis_ops_last_run_failed{kind="drill"} 1.0' in text
    assert 'mchis_ops_run_failures_total{kind="drill"} 1.0' in text


def test_version_in_api_and_footer(client, tree, make_user):
    import mchis

    client.force_login(make_user("leader", tree.tyt_a1))
    assert client.get("/api/v1/version").json() == {"version": mchis.__version__, "api": "1"}
    assert f"Phiên bản {mchis.__version__}" in client.get("/").content.decode()
