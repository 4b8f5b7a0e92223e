"""A simulated EHR warehouse (its own process): verifies our signature, validates each Bundle entry with
fhir.resources, stores resources by type/id (PUT semantics) and answers a transaction-response Bundle.

    python -m mchis.integrations.ehr.receiver --port 8781 --token T --jwks keys.json [--max-bytes N]
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from ..exchange.receiver import ReceiverState, Refused, make_server
from .codes import OUTBOX_TAG_SYSTEM

ALLOWED = {"Patient", "RelatedPerson", "Encounter", "Observation", "Procedure", "Condition"}


def handle(state: ReceiverState, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    try:
        bundle = json.loads(body)
    except ValueError as exc:
        raise Refused("không phải JSON") from exc
    if (
        not isinstance(bundle, dict)
        or bundle.get("resourceType") != "Bundle"
        or bundle.get("type") != "transaction"
    ):
        raise Refused("cần một Bundle type=transaction")
    entries = bundle.get("entry") or []
    parsed: list[tuple[str, dict[str, Any]]] = []
    for index, entry in enumerate(entries):
        resource = entry.get("resource") or {}
        rtype = resource.get("resourceType")
        if rtype not in ALLOWED:
            raise Refused(f"entry[{index}]: loại tài nguyên không nhận: {rtype!r}")
        request = entry.get("request") or {}
        url = f"{rtype}/{resource.get('id')}"
        if request.get("method") != "PUT" or request.get("url") != url:
            raise Refused(f"entry[{index}]: request phải là PUT {url}")
        try:
            get_fhir_model_class(rtype).model_validate(resource)
        except ValueError as exc:
            raise Refused(f"entry[{index}] {url}: {str(exc)[:300]}") from exc
        parsed.append((url, resource))
    tags = [
        int(tag["code"])
        for tag in (bundle.get("meta") or {}).get("tag") or []
        if tag.get("system") == OUTBOX_TAG_SYSTEM and str(tag.get("code", "")).isdigit()
    ]
    if not tags:
        raise Refused("Bundle thiếu mã mục hàng đợi (meta.tag)")
    with state.lock:
        store: dict[str, Any] = state.data.setdefault("_resources", {})
        answers = []
        for url, resource in parsed:
            answers.append(
                {"response": {"status": "200 OK" if url in store else "201 Created", "location": url}}
            )
            store[url] = resource
        state.apply_entries(tags)
        counts: dict[str, int] = {}
        for url in store:
            rtype = url.split("/", 1)[0]
            counts[rtype] = counts.get(rtype, 0) + 1
        state.data["resource_counts"] = counts
    return (
        200,
        {"resourceType": "Bundle", "type": "transaction-response", "entry": answers},
        "application/fhir+json",
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Kho dữ liệu HSSKĐT mô phỏng (FHIR R4)")
    parser.add_argument("--port", type=int, default=8781)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token", required=True, help="the bearer token we expect from mchis")
    parser.add_argument("--jwks", required=True, help="mchis public keys: a JSON file or its /jwks URL")
    parser.add_argument("--max-bytes", type=int, default=4_000_000)
    args = parser.parse_args(argv)
    state = ReceiverState(name="ehr", token=args.token, jwks_source=args.jwks, max_bytes=args.max_bytes)
    server = make_server(state, path="/fhir", handle=handle, host=args.host, port=args.port)
    print(f"ready on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
