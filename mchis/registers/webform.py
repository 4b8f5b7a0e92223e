"""The register entry form's posted fields → a record's raw values (the web page and the offline outbox's
queued entries go through the same reading)."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from mchis.core.inputs import InputRejected

from .definitions import MAX_NEWBORNS, NEWBORN_FIELDS, FieldSpec, RegisterDef

NEWBORN_FORM_SLOTS = 2
_NB_NAME = re.compile(r"^nb(\d)_([a-z_0-9]+)$")
_NOT_ON_FORM = ("facility", "source_system", "source_record_id")


def _newborn_slots(raw: str | None) -> int:
    """How many newborn blocks the form posted: 0..MAX_NEWBORNS, else a 422 (never a loop of a million)."""
    if raw in (None, ""):
        return NEWBORN_FORM_SLOTS
    if not raw.isdigit() or int(raw) > MAX_NEWBORNS:
        raise InputRejected(f"newborn_slots: phải là số từ 0 đến {MAX_NEWBORNS}.", field="newborn_slots")
    return int(raw)


def form_data(reg: RegisterDef, post: Any) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for spec in reg.all_fields:
        if spec.kind == "bool":
            data[spec.name] = spec.name in post
        elif spec.name in post:
            data[spec.name] = post.get(spec.name)
    if reg.newborns:
        newborns = []
        for slot in range(_newborn_slots(post.get("newborn_slots"))):
            prefix = f"nb{slot}_"
            nb = {}
            for spec in NEWBORN_FIELDS:
                key = prefix + spec.name
                if spec.kind == "bool":
                    if key in post:
                        nb[spec.name] = True
                elif post.get(key):
                    nb[spec.name] = post.get(key)
            if nb:
                newborns.append(nb)
        data["newborns"] = newborns
    return data


# --- a stored record as its form shows it (the offline edit's conflicts compare on these, ADR 0042) ----------


def _form_text(spec: FieldSpec, value: Any) -> str:
    if value is None:
        return ""
    if spec.kind == "bool":
        return "on" if value else ""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return str(value)


def record_form_fields(reg: RegisterDef, obj: Any) -> dict[str, str]:
    """The entry form's fields of a stored record as a browser posts them (flat names, strings; a ticked box is
    "on", an unticked one absent)."""
    out: dict[str, str] = {"facility": obj.facility.code}
    for spec in reg.all_fields:
        if spec.name in _NOT_ON_FORM or (reg.woman and spec.name == "sex"):  # as views._field_rows draws it
            continue
        out[spec.name] = _form_text(spec, getattr(obj, spec.name, None))
    if reg.newborns:
        for slot, nb in enumerate(obj.newborns.all()):
            for spec in NEWBORN_FIELDS:
                out[f"nb{slot}_{spec.name}"] = _form_text(spec, getattr(nb, spec.name, None))
    return post_of(reg, out)


def form_specs(reg: RegisterDef, names: Any) -> dict[str, tuple[FieldSpec, str]]:
    """The spec and the Vietnamese label of each posted field name that is data (not the form's plumbing)."""
    specs: dict[str, tuple[FieldSpec, str]] = {}
    plain = {
        s.name: s
        for s in reg.all_fields
        if s.name not in _NOT_ON_FORM and not (reg.woman and s.name == "sex")
    }
    newborn = {s.name: s for s in NEWBORN_FIELDS}
    for name in names:
        if name in plain:
            specs[name] = (plain[name], plain[name].label)
            continue
        match = _NB_NAME.match(name)
        if reg.newborns and match and match.group(2) in newborn and int(match.group(1)) < MAX_NEWBORNS:
            spec = newborn[match.group(2)]
            specs[name] = (spec, f"Trẻ sơ sinh {int(match.group(1)) + 1}: {spec.label}")
    return specs


def same_value(spec: FieldSpec, a: Any, b: Any) -> bool:
    """Equal as the record would store them: spaces, "2,5" vs "2.5", "07" vs "7", a box ticked or not."""
    return _canon(spec, a) == _canon(spec, b)


def _canon(spec: FieldSpec, value: Any) -> str:
    text = " ".join(str(value if value is not None else "").split())
    if spec.kind == "bool":
        return "1" if text.lower() not in ("", "0", "false", "off") else ""
    if spec.kind in ("int", "decimal") and text:
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            return text
        return format(number.normalize(), "f")
    return text


def post_of(reg: RegisterDef, flat: dict[str, str]) -> dict[str, str]:
    """Flat form fields → what a browser posts: an unticked box is absent, and the newborn blocks counted."""
    specs = form_specs(reg, flat)
    post = {
        k: v
        for k, v in flat.items()
        if not (k in specs and specs[k][0].kind == "bool" and not _canon(specs[k][0], v))
    }
    if reg.newborns:
        slots = [int(m.group(1)) for m in (_NB_NAME.match(k) for k in post) if m]
        post["newborn_slots"] = str(max([NEWBORN_FORM_SLOTS - 1, *slots]) + 1)
    return post


def value_text(spec: FieldSpec, value: Any) -> str:
    """A posted value as a person reads it: the choice's or the catalog's name, Có/Không for a box."""
    if spec.kind == "bool":
        return "Có" if _canon(spec, value) else "Không"
    text = _canon(spec, value)
    if not text:
        return ""
    if spec.kind == "choice" and spec.choices is not None:
        return str(dict(spec.choices.choices).get(text, text))
    if spec.kind == "catalog" and spec.catalog and spec.catalog != "icd10":
        from .catalogs import catalog_items  # the catalogs read the database: only when a name is asked for

        return next((f"{name} ({code})" for code, name in catalog_items(spec.catalog) if code == text), text)
    return text
