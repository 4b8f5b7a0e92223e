"""A simulated Health Statistics software (its own process): verifies our signature, validates ADX against
the IHE ADX schema (or dataValueSets JSON), keeps the values and answers a DHIS2-style import summary.

    python -m mchis.integrations.statistics.receiver --port 8782 --token T --jwks keys.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lxml import etree

from ..exchange.receiver import ReceiverState, Refused, make_server

ADX_NS = "urn:ihe:qrph:adx:2015"
XSD = Path(__file__).resolve().parents[2] / "reports" / "fixtures" / "adx" / "adx_loose.xsd"
_schema: etree.XMLSchema | None = None


def schema() -> etree.XMLSchema:
    global _schema
    if _schema is None:
        _schema = etree.XMLSchema(etree.parse(str(XSD)))
    return _schema


def _adx_values(body: bytes) -> list[tuple[tuple[str, ...], str]]:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        doc = etree.fromstring(body, parser)
    except etree.XMLSyntaxError as exc:
        raise Refused(f"XML không hợp lệ: {exc}") from exc
    if not schema().validate(doc):
        raise Refused(f"ADX sai lược đồ: {schema().error_log.last_error}")
    out: list[tuple[tuple[str, ...], str]] = []
    for group in doc.iter(f"{{{ADX_NS}}}group"):
        head = (group.get("dataSet", ""), group.get("orgUnit", ""), group.get("period", ""))
        for dv in group.iter(f"{{{ADX_NS}}}dataValue"):
            extra = tuple(sorted((k, v) for k, v in dv.attrib.items() if k not in ("dataElement", "value")))
            out.append(((*head, dv.get("dataElement", ""), json.dumps(extra)), dv.get("value", "")))
    return out


def _dvs_values(body: bytes) -> list[tuple[tuple[str, ...], str]]:
    try:
        data = json.loads(body)
        rows = data["dataValues"]
        return [
            ((r["period"], r["orgUnit"], r["dataElement"], r.get("categoryOptionCombo", "")), str(r["value"]))
            for r in rows
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise Refused("dataValueSets không hợp lệ") from exc


def handle(state: ReceiverState, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    adx = headers.get("Content-Type", "").startswith("application/adx+xml")
    values = _adx_values(body) if adx else _dvs_values(body)
    counts = {"imported": 0, "updated": 0, "ignored": 0, "deleted": 0}
    conflicts = []
    with state.lock:
        store: dict[str, str] = state.data.setdefault("_values", {})
        for key, value in values:
            try:
                float(value)
            except ValueError:
                counts["ignored"] += 1
                conflicts.append({"object": key[3], "value": f"giá trị không phải số: {value!r}"})
                continue
            k = "|".join(key)
            if k not in store:
                counts["imported"] += 1
            elif store[k] != value:
                counts["updated"] += 1
            else:
                counts["ignored"] += 1
            store[k] = value
        state.data["imports"] = state.data.get("imports", 0) + 1
        state.data["values"] = len(store)
        state.apply_entries([state.data["imports"]])
    status = "WARNING" if conflicts else "SUCCESS"
    return 200, {"status": status, "importCount": counts, "conflicts": conflicts}, "application/json"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Phần mềm Thống kê y tế mô phỏng (ADX / dataValueSets)")
    parser.add_argument("--port", type=int, default=8782)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--token", required=True)
    parser.add_argument("--jwks", required=True, help="mchis public keys: a JSON file or its /jwks URL")
    parser.add_argument("--max-bytes", type=int, default=2_000_000)
    args = parser.parse_args(argv)
    state = ReceiverState(
        name="statistics", token=args.token, jwks_source=args.jwks, max_bytes=args.max_bytes
    )
    server = make_server(state, path="/api/dataValueSets", handle=handle, host=args.host, port=args.port)
    print(f"ready on http://{args.host}:{server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
