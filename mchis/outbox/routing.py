"""Topic → partners. Filled from above (mchis.integrations' AppConfig.ready); read by `outbox_enqueue`.

A topic nobody subscribed to enqueues nothing, so a domain write costs one dictionary lookup when no
exchange is configured.
"""

from __future__ import annotations

_routes: dict[str, list[str]] = {}


def subscribe(topic: str, partner: str) -> None:
    partners = _routes.setdefault(topic, [])
    if partner not in partners:
        partners.append(partner)


def partners_for(topic: str) -> list[str]:
    return list(_routes.get(topic, ()))


def topics_of(partner: str) -> list[str]:
    return sorted(topic for topic, partners in _routes.items() if partner in partners)


def all_partners() -> list[str]:
    return sorted({p for partners in _routes.values() for p in partners})
