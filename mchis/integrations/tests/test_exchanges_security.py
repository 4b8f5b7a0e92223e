"""R-INT-05 beyond the push partners: the population gateway client is authenticated and signed like every
outbound exchange (the simulated registry verifies), and the handbook app (its own process) pulls our
signed feed, keeps consenting persons and drops a withdrawn one."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from datetime import date

import pytest

from mchis.integrations.exchange import keys, signing
from mchis.integrations.handbook.app import Handbook
from mchis.integrations.handbook.services import handbook_consent_give, handbook_consent_withdraw
from mchis.integrations.population import IdentityQuery
from mchis.integrations.population.http import HttpPopulationGateway
from mchis.integrations.population.services import _sign
from mchis.integrations.population.types import GatewayUnavailable
from mchis.registers.services import records_upsert
from mchis.registers.tests.conftest import anc

from .receivers import free_port

PERSON = {
    "personal_id": "008219000123",
    "full_name": "Lò Thị Hoa",
    "date_of_birth": "2019-06-01",
    "sex": "F",
    "father_name": "",
    "mother_name": "Lò Thị Mai",
}


def _wait(url: str, process: subprocess.Popen[bytes]) -> None:
    for _ in range(150):
        try:
            with urllib.request.urlopen(url + "/health", timeout=1):  # noqa: S310 - our own test service
                return
        except OSError:
            time.sleep(0.1)
    process.kill()
    pytest.fail(f"{url} did not start")


def test_r_int_05_the_population_gateway_client_is_authenticated_and_signed(db, tmp_path):
    keys.active_private_jwk()
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps(keys.public_jwks()), encoding="utf-8")
    data = tmp_path / "population.jsonl"
    data.write_text(json.dumps(PERSON, ensure_ascii=False), encoding="utf-8")
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "mchis.integrations.population.simulator", "--port", str(port),
            "--data", str(data), "--token", "gw-token", "--jwks", str(jwks),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(url, process)
        query = IdentityQuery(
            personal_id=PERSON["personal_id"],
            full_name=PERSON["full_name"],
            date_of_birth=date(2019, 6, 1),
            sex="F",
        )
        signed = HttpPopulationGateway(url, token="gw-token", signer=_sign)
        assert signed.check_identity(query).kind.value == "match"
        with pytest.raises(GatewayUnavailable, match="HTTP 401"):
            HttpPopulationGateway(url, token="gw-token").check_identity(query)  # unsigned
        forged = HttpPopulationGateway(url, token="gw-token", signer=lambda body: _sign(body + b" "))
        with pytest.raises(GatewayUnavailable, match="HTTP 401"):
            forged.check_identity(query)  # a signature over other bytes
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_r_int_05_the_handbook_app_refuses_a_tampered_page():
    private = signing.generate_private_jwk("k1")
    app = Handbook(feed="http://127.0.0.1:9/feed", token="t", jwks="http://127.0.0.1:9/jwks")
    app.jwks = {"keys": [signing.public_jwk(private)]}
    body = b'{"persons":[]}'
    good = signing.sign_detached(body, private_jwk=private, audience="handbook")
    app.verify(good, body)
    with pytest.raises(signing.SignatureRejected, match="chữ ký"):
        app.verify(good, body.replace(b"[]", b"[1]"))


@pytest.mark.django_db(transaction=True)
def test_r_int_02_the_handbook_app_process_pulls_the_signed_feed(live_server, tree, make_user):
    from mchis.accounts.services import api_client_create

    clerk = make_user("collector", tree.tyt_a1)
    records_upsert(
        actor=clerk,
        register="anc",
        records=[anc(rid="A-1", personal_id="008195000123"), anc(rid="A-2", personal_id="008195000456")],
    )
    handbook_consent_give(actor=clerk, personal_id="008195000123")
    handbook_consent_give(actor=clerk, personal_id="008195000456")
    keys.active_private_jwk()
    _, token = api_client_create(actor=None, name="So SKBMTE", unit=tree.doh_a, scopes=["handbook.view"])
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable, "-m", "mchis.integrations.handbook.app", "--port", str(port),
            "--feed", f"{live_server.url}/api/v1/handbook/feed", "--token", token,
            "--jwks", f"{live_server.url}/api/v1/exchanges/jwks", "--interval", "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def pull() -> dict:
        request = urllib.request.Request(url + "/pull", data=b"", method="POST")  # noqa: S310
        with urllib.request.urlopen(request, timeout=60) as answer:  # noqa: S310
            return json.loads(answer.read())

    try:
        _wait(url, process)
        state = pull()
        assert state["persons"] == ["008195000123", "008195000456"] and state["refusals"] == {}
        handbook_consent_withdraw(actor=clerk, personal_id="008195000456", reason="rút")
        assert pull()["persons"] == ["008195000123"]  # the tombstone removed her from the app
    finally:
        process.terminate()
        process.wait(timeout=10)
