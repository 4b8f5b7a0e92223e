"""The side-by-side rows of an offline register edit that met a newer server version (ADR 0042). Pure."""

from __future__ import annotations

from typing import Any

from mchis.registers.definitions import RegisterDef
from mchis.registers.webform import form_specs, same_value, value_text


def conflict_rows(
    reg: RegisterDef, base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The fields on which the offline edit and the server's record differ, each with the value when the form
    was opened and a suggestion: the side that changed it ("" when both did - the person must choose)."""
    rows: dict[str, dict[str, Any]] = {}
    for name, (spec, label) in form_specs(reg, [*theirs, *ours]).items():
        if name not in ours and spec.kind != "bool":
            continue  # not on the form the person had (an unticked box is absent: it counts)
        if same_value(spec, ours.get(name), theirs.get(name)):
            continue
        was = base.get(name)
        suggest = ""
        if name in base and same_value(spec, was, theirs.get(name)):
            suggest = "ours"
        elif name in base and same_value(spec, was, ours.get(name)):
            suggest = "theirs"
        rows[name] = {
            "label": label,
            "base": "" if was is None else str(was),
            "theirs": theirs.get(name, ""),
            "ours": str(ours.get(name, "")),
            "suggest": suggest,
        }
    return rows


def with_texts(reg: RegisterDef, rows: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The rows with each side as a person reads it (names of choices and catalogs, Có/Không)."""
    specs = form_specs(reg, rows)
    out = {}
    for name, row in rows.items():
        spec = specs.get(name)
        for side in ("base", "theirs", "ours"):
            row = {**row, f"{side}_text": value_text(spec[0], row.get(side)) if spec else row.get(side, "")}
        out[name] = row
    return out
