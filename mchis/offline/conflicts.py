"""The side-by-side rows of an offline register edit that met a newer server version (ADR 0042). Pure."""

from __future__ import annotations

from typing import Any

from mchis.registers.definitions import RegisterDef
from mchis.registers.webform import form_specs, same_value


def conflict_rows(
    reg: RegisterDef, base: dict[str, Any], ours: dict[str, Any], theirs: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """The fields on which the offline edit and the server's record differ, each with the value when the form
    was opened and a suggestion: the side that changed it ("" when both did - the person must choose)."""
    rows: dict[str, dict[str, Any]] = {}
    for name, (spec, label) in form_specs(reg, [*theirs, *ours]).items():
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
