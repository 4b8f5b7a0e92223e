"""Isolation (issue 19 item 5, R-OPS-02): each dependency is killed in turn and the rest keeps working —
pages answer, writes are kept, background work is done or stays queued, the probes say what is down."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from celery import current_app
from django.db import connection
from kombu import pools as kombu_pools

from mchis.core import resilience
from mchis.integrations.population.fake import FakePopulationGateway
from mchis.integrations.population.services import use_gateway
from mchis.registry.models import Verification, VerificationStatus

pytestmark = pytest.mark.django_db(transaction=True)

DEAD = "redis://127.0.0.1:9/0"  # the discard port: nothing listens there


@contextmanager
def blackhole() -> Iterator[tuple[str, list[socket.socket]]]:
    """A partner that accepts connections and never answers (the worst kind of down)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        sock.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}", held
    finally:
        stop.set()
        thread.join(2)
        for conn in held:
            conn.close()
        sock.close()


def _new_pools() -> None:
    """Connections are made again from the current broker URL."""
    if current_app._pool is not None:
        current_app._pool.force_close_all()
    current_app._pool = None
    current_app.amqp._producer_pool = None
    # kombu keeps producer pools in a process-wide registry keyed by connection: drop the closed ones too, or the
    # next publish to the same URL in this process gets "Acquire on closed pool".
    kombu_pools.reset()


@contextmanager
def broker_down(settings) -> Iterator[None]:
    """Redis stopped: the broker and the cache point at a port where nothing listens."""
    conf = current_app.conf
    saved = (conf.broker_url, conf.task_always_eager)
    conf.broker_url, conf.task_always_eager = DEAD, False
    _new_pools()
    settings.REDIS_URL = DEAD
    settings.CELERY_BROKER_URL = DEAD
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        yield
    finally:
        conf.broker_url, conf.task_always_eager = saved
        _new_pools()


def _verify(client, child) -> tuple[int, float]:
    start = time.perf_counter()
    response = client.post(f"/children/{child.public_id}/verify/")
    return response.status_code, time.perf_counter() - start


@pytest.fixture
def gateway_reset():
    yield
    use_gateway(None)
    resilience.reset_all()


def test_r_ops_02_down_population_gateway_never_blocks_a_page(
    client, collector, make_child, settings, gateway_reset
):
    settings.POPULATION_GATEWAY_TIMEOUT = 0.5
    settings.PARTNER_BREAKER_FAIL_MAX = 3
    resilience._breakers.clear()  # re-read the thresholds
    child = make_child()
    client.force_login(collector)
    with blackhole() as (url, reached):
        settings.POPULATION_GATEWAY_URL = url
        answers = [_verify(client, child) for _ in range(6)]
        calls = len(reached)
    assert all(
        status == 302 for status, _ in answers
    )  # every page answered (nothing hangs: no timing target)
    assert all(seconds < 30 for _, seconds in answers), answers
    # The first three calls waited for the timeout; then the breaker cut the partner off: the next pages never
    # reached it at all.
    assert calls == 3
    assert resilience.breakers()["population"].current_state == "open"
    # Nothing is lost: the check waits, pending, for the sweep; the cut-off calls spent none of its attempts.
    check = Verification.objects.get(child=child)
    assert check.status == VerificationStatus.PENDING and check.attempts == 3
    assert client.get(f"/children/{child.public_id}/").status_code == 200
    assert client.get("/health/ready").status_code == 200


def test_r_ops_02_down_redis_keeps_every_write_and_runs_the_work_in_place(
    client, collector, make_child, settings, gateway_reset
):
    child = make_child()
    use_gateway(
        FakePopulationGateway(
            {
                child.personal_id: {
                    "personal_id": child.personal_id,
                    "full_name": child.full_name,
                    "date_of_birth": child.date_of_birth.isoformat(),
                    "sex": child.sex,
                }
            }
        )
    )
    settings.POPULATION_GATEWAY_URL = "http://unused.invalid"
    client.force_login(collector)
    with broker_down(settings):
        status, seconds = _verify(client, child)
        ready = client.get("/health/ready")
    assert status == 302 and seconds < 15
    check = Verification.objects.get(child=child)
    assert check.status == VerificationStatus.DONE  # the write is kept and its work was done in place
    assert ready.status_code == 200  # the web is still ready, and says what is down
    body = ready.json()
    assert body["status"] == "degraded" and body["components"]["redis"] == "down"
    assert body["components"]["broker"] == "down"


def test_r_ops_02_down_workers_leave_the_web_ready_and_are_reported(client, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False  # a real deployment whose workers stopped: no heartbeat
    assert client.get("/health/live").status_code == 200
    ready = client.get("/health/ready")
    assert ready.status_code == 200 and ready.json()["components"]["worker:default"] == "down"
    assert client.get("/health/ready?component=default").status_code == 503
    assert client.get("/health/ready?component=heavy").status_code == 503


def test_r_ops_02_down_database_restarts_nothing_and_takes_the_web_out_of_the_balancer(client, monkeypatch):
    def down(*args, **kwargs):
        raise RuntimeError("database down")

    monkeypatch.setattr(connection, "cursor", down)
    assert client.get("/health/live").status_code == 200
    assert client.get("/health/ready").status_code == 503


def test_r_ops_02_heavy_work_runs_on_its_own_queue():
    router = current_app.amqp.router
    current_app.loader.import_default_modules()
    assert router.route({}, "quality.full_rule_scan")["queue"].name == "heavy"
    assert router.route({}, "quality.duplicate_scan")["queue"].name == "heavy"
    assert router.route({}, "ops.backup")["queue"].name == "heavy"
    assert router.route({}, "integrations.population_check")["queue"].name == "default"
    assert router.route({}, "registers.run_ingest_batch")["queue"].name == "default"


def test_r_ops_02_statement_timeout_cancels_a_slow_query_and_writes_go_on(settings):
    if connection.vendor != "postgresql":
        pytest.skip("statement timeouts are PostgreSQL's")
    import psycopg

    sd = connection.settings_dict
    slow = psycopg.connect(
        host=sd["HOST"],
        port=sd["PORT"],
        user=sd["USER"],
        password=sd["PASSWORD"] or None,
        dbname=sd["NAME"],
        options="-c statement_timeout=300",
        autocommit=True,
    )
    result: dict[str, object] = {}

    def analytics() -> None:
        start = time.perf_counter()
        try:
            slow.execute("SELECT pg_sleep(5)")
        except psycopg.errors.QueryCanceled as exc:
            result["cancelled"] = str(exc)
        result["seconds"] = time.perf_counter() - start

    thread = threading.Thread(target=analytics)
    thread.start()
    from django.utils import timezone

    from mchis.ops.models import RunKind
    from mchis.ops.services import ops_run_record

    ops_run_record(kind=RunKind.VERIFY, started_at=timezone.now(), ok=True)  # data entry meanwhile
    thread.join(10)
    slow.close()
    assert "statement timeout" in str(result.get("cancelled", ""))
    assert float(result["seconds"]) < 3  # type: ignore[arg-type]


def test_r_ops_02_statement_timeout_comes_from_the_environment(monkeypatch):
    import importlib

    import config.settings.base as base

    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1:5432/x")
    monkeypatch.setenv("DB_STATEMENT_TIMEOUT_MS", "30000")
    try:
        reloaded = importlib.reload(base)
        assert reloaded.DATABASES["default"]["OPTIONS"]["options"] == "-c jit=off -c statement_timeout=30000"
    finally:
        monkeypatch.undo()
        importlib.reload(base)


def test_postgresql_connections_run_without_jit_unless_asked(monkeypatch):
    """At national size JIT compilation cost the roll-up ~1.5 s per statement for ~0.1 s saved
    (docs/national-scale.md): off by default, DB_JIT=on restores it."""
    import importlib

    import config.settings.base as base

    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1:5432/x")
    monkeypatch.delenv("DB_STATEMENT_TIMEOUT_MS", raising=False)
    try:
        assert importlib.reload(base).DATABASES["default"]["OPTIONS"]["options"] == "-c jit=off"
        monkeypatch.setenv("DB_JIT", "on")
        assert importlib.reload(base).DATABASES["default"]["OPTIONS"]["options"] == "-c jit=on"
    finally:
        monkeypatch.undo()
        importlib.reload(base)
