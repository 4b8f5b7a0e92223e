"""R-INT-04: the population gateway — mismatch kinds, retries that never lose a check, and the simulated
national registry running as its own process with results landing on the records."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from mchis.integrations.population import IdentityQuery, MismatchKind
from mchis.integrations.population.compare import compare
from mchis.integrations.population.fake import FakePopulationGateway
from mchis.integrations.population.http import HttpPopulationGateway
from mchis.integrations.population.services import (
    MAX_ATTEMPTS,
    SWEEP_AFTER,
    population_check_run,
    population_check_start,
    population_retry_pending,
    use_gateway,
)
from mchis.integrations.population.tasks import population_check
from mchis.integrations.population.types import GatewayUnavailable
from mchis.registry.models import Verification, VerificationStatus
from mchis.registry.personal_id import compose
from mchis.registry.services import verification_create

PID = compose(prefix="008", birth_year=2018, sex="M", serial=123)
TRUTH = {"personal_id": PID, "full_name": "Nguyễn Văn An", "date_of_birth": "2018-03-12", "sex": "M"}


@pytest.mark.parametrize(
    ("claimed", "kind"),
    [
        ({"full_name": "NGUYEN VAN AN", "date_of_birth": "2018-03-12"}, MismatchKind.MATCH),
        ({"full_name": "Nguyễn Văn An", "date_of_birth": "2018-03-21"}, MismatchKind.WRONG_DOB),
        ({"full_name": "Nguyễn Văn Ân Tư", "date_of_birth": "2018-03-12"}, MismatchKind.WRONG_NAME),
        ({"full_name": "Lê Văn Bình", "date_of_birth": "2017-01-01"}, MismatchKind.BOTH_WRONG),
        ({"full_name": "Nguyễn Văn An", "date_of_birth": "2018-03-12", "sex": "F"}, MismatchKind.OTHER),
    ],
)
def test_r_int_04_mismatch_kinds(claimed, kind):
    assert compare(TRUTH, claimed).kind == kind


def test_r_int_04_unknown_id():
    assert compare(None, {"full_name": "x"}).kind == MismatchKind.ID_NOT_FOUND


@pytest.fixture
def gateway_reset():
    yield
    use_gateway(None)


def test_r_int_04_gateway_errors_never_lose_a_pending_check(
    collector, make_child, gateway_reset, django_capture_on_commit_callbacks
):
    child = make_child()
    fake = FakePopulationGateway({PID: TRUTH}, fail_times=2)
    use_gateway(fake)
    with django_capture_on_commit_callbacks(execute=True):
        verification = population_check_start(actor=collector, child=child)  # eager task: first attempt fails
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.PENDING and verification.attempts == 1
    with pytest.raises(GatewayUnavailable, match=r"timeout \(fake\)"):
        population_check_run(verification.pk)
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.PENDING and verification.attempts == 2
    population_check_run(verification.pk)
    verification.refresh_from_db()
    child.refresh_from_db()
    assert verification.status == VerificationStatus.DONE and verification.result == "match"
    assert child.id_verified and child.id_verification_result == "match" and child.id_verified_at is not None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def simulator(tmp_path: Path):
    data = tmp_path / "population.jsonl"
    people = [
        TRUTH,
        {
            "personal_id": compose(prefix="008", birth_year=2019, sex="F", serial=9),
            "full_name": "Lò Thị Hoa",
            "date_of_birth": "2019-06-01",
            "sex": "F",
            "father_name": "",
            "mother_name": "Lò Thị Mai",
        },
    ]
    data.write_text("\n".join(json.dumps(p, ensure_ascii=False) for p in people), encoding="utf-8")
    port = _free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "mchis.integrations.population.simulator",
            "--port",
            str(port),
            "--data",
            str(data),
            "--fail-first",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            with urllib.request.urlopen(url + "/health", timeout=1) as response:  # noqa: S310 - our own test service
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    else:
        process.kill()
        pytest.fail("simulator did not start")
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_r_int_04_simulated_registry_process_results_land_on_records(
    collector, make_child, simulator, settings, gateway_reset, django_capture_on_commit_callbacks
):
    settings.POPULATION_GATEWAY_URL = simulator
    good = make_child()
    wrong_dob = make_child(
        full_name="Lò Thị Hoa",
        sex="F",
        date_of_birth="02/06/2019",
        personal_id=compose(prefix="008", birth_year=2019, sex="F", serial=9),
    )
    unknown = make_child(
        full_name="Hà Văn Nam", personal_id=compose(prefix="008", birth_year=2018, sex="M", serial=555)
    )

    with django_capture_on_commit_callbacks(execute=True):
        first = population_check_start(actor=collector, child=good)  # the simulator answers 503 once
    first.refresh_from_db()
    assert first.status == VerificationStatus.PENDING and "503" in first.last_error
    for child in (wrong_dob, unknown):
        with django_capture_on_commit_callbacks(execute=True):
            population_check_start(actor=collector, child=child)
    population_check_run(first.pk)  # the retry (the beat sweep / Celery backoff does this in production)

    for child, kind in ((good, "match"), (wrong_dob, "wrong_dob"), (unknown, "id_not_found")):
        child.refresh_from_db()
        assert child.id_verification_result == kind, child.full_name
        assert child.id_verified == (kind == "match")
    assert not Verification.objects.exclude(status=VerificationStatus.DONE).exists()


def test_r_int_04_http_adapter_timeout_is_unavailable():
    with socket.socket() as sock:  # a server that accepts and never answers
        sock.bind(("127.0.0.1", 0))
        sock.listen(1)
        adapter = HttpPopulationGateway(f"http://127.0.0.1:{sock.getsockname()[1]}", timeout=0.3)
        with pytest.raises(GatewayUnavailable, match=r"timed out"):
            adapter.check_identity(IdentityQuery(PID, "A", date(2018, 3, 12)))


# --- retries: Celery's own machinery, one attempt counter, a terminal FAILED ------------------------------------


@pytest.fixture
def eager_retries():
    """Celery's apply() runs the retries in place; each retry must hand its Retry back, not raise it."""
    conf = population_check.app.conf
    before = conf.task_eager_propagates
    conf.task_eager_propagates = False
    yield
    conf.task_eager_propagates = before


def _pending_check(collector, make_child):
    """Given a pending check whose queued task has not run yet."""

    return verification_create(actor=collector, child=make_child())


def test_r_int_04_task_retries_with_backoff_until_answered(
    collector, make_child, gateway_reset, eager_retries
):

    verification = _pending_check(collector, make_child)
    fake = FakePopulationGateway({PID: TRUTH}, fail_times=2)
    use_gateway(fake)
    # when the task runs and the gateway fails twice (Celery retries it: autoretry_for GatewayUnavailable)
    outcome = population_check.apply(args=[verification.pk])
    # then the third attempt lands the answer, and the row counted every attempt
    assert outcome.get() == VerificationStatus.DONE
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.DONE and verification.attempts == 3 == len(fake.calls)


def test_r_int_04_attempt_limit_then_failed_for_good(collector, make_child, gateway_reset, eager_retries):

    verification = _pending_check(collector, make_child)
    fake = FakePopulationGateway({PID: TRUTH}, fail_times=100)
    use_gateway(fake)
    # when the gateway never answers
    outcome = population_check.apply(args=[verification.pk])
    # then the task gives up after MAX_ATTEMPTS calls (one counter: the row's), marking the check FAILED
    assert outcome.get() == VerificationStatus.FAILED
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.FAILED
    assert verification.attempts == MAX_ATTEMPTS == len(fake.calls)
    # and FAILED sticks: the periodic sweep and a redelivered task leave it alone
    Verification.objects.filter(pk=verification.pk).update(
        requested_at=verification.requested_at - SWEEP_AFTER * 2
    )
    assert population_retry_pending() == 0
    assert population_check.apply(args=[verification.pk]).get() == VerificationStatus.FAILED
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.FAILED and len(fake.calls) == MAX_ATTEMPTS


def test_r_int_04_retry_options_agree_with_the_attempt_limit_and_the_sweep(settings):

    assert population_check.autoretry_for == (GatewayUnavailable,)
    assert population_check.max_retries == MAX_ATTEMPTS - 1
    assert population_check.retry_backoff and population_check.retry_jitter
    # the longest a task can still be retrying: every backoff at its maximum, plus every call timing out
    window = (
        sum(
            min(population_check.retry_backoff_max, int(population_check.retry_backoff) * 2**n)
            for n in range(MAX_ATTEMPTS - 1)
        )
        + MAX_ATTEMPTS * settings.POPULATION_GATEWAY_TIMEOUT
    )
    assert SWEEP_AFTER.total_seconds() > window  # the sweep never doubles a task that is still retrying


def test_r_int_04_sweep_requeues_only_lost_pending_checks(collector, make_child, gateway_reset):

    verification = _pending_check(collector, make_child)
    fake = FakePopulationGateway({PID: TRUTH})
    use_gateway(fake)
    assert population_retry_pending() == 0  # young: its task may still be retrying
    Verification.objects.filter(pk=verification.pk).update(
        requested_at=verification.requested_at - SWEEP_AFTER * 2
    )
    assert population_retry_pending() == 1  # lost: queued again (eager here: answered at once)
    verification.refresh_from_db()
    assert verification.status == VerificationStatus.DONE


def test_r_int_04_child_page_starts_a_check_through_the_registry_hook(
    collector, make_child, gateway_reset, django_capture_on_commit_callbacks
):
    """The registry page knows no gateway: the integrations app provides the check (registry.hooks)."""
    child = make_child()
    use_gateway(FakePopulationGateway({PID: TRUTH}))
    client = Client()
    client.force_login(collector)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("registry:child_verify", args=[child.public_id]))
    assert response.status_code == 302
    child.refresh_from_db()
    assert child.id_verification_result == "match" and child.id_verified
