"""ADX (IHE QRPH, urn:ihe:qrph:adx:2015) documents: one builder for every export of aggregate values (the
reports' export to the Health Statistics software, the public portal's open data). Pure: no models.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from lxml import etree

ADX_NS = "urn:ihe:qrph:adx:2015"


@dataclass
class AdxValue:
    data_element: str
    value: str
    attributes: dict[str, str] = field(default_factory=dict)  # disaggregations, e.g. categoryOptionCombo


@dataclass
class AdxGroup:
    org_unit: str
    period: str  # SDMX time range, e.g. 2026-01-01/P1M
    data_set: str
    values: list[AdxValue]
    attributes: dict[str, str] = field(default_factory=dict)  # completeDate, …


def adx_xml(groups: Iterable[AdxGroup], exported: datetime) -> bytes:
    root = etree.Element(f"{{{ADX_NS}}}adx", nsmap={None: ADX_NS})
    root.set("exported", exported.replace(microsecond=0).isoformat())
    for g in groups:
        group = etree.SubElement(root, f"{{{ADX_NS}}}group")
        group.set("orgUnit", g.org_unit)
        group.set("period", g.period)
        group.set("dataSet", g.data_set)
        for name, value in g.attributes.items():
            group.set(name, value)
        for v in g.values:
            dv = etree.SubElement(group, f"{{{ADX_NS}}}dataValue")
            dv.set("dataElement", v.data_element)
            for name, value in v.attributes.items():
                dv.set(name, value)
            dv.set("value", v.value)
    out: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out
