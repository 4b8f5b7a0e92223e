from typing import Any

from mchis.accounts.permissions import can


def offline_entry(request: Any) -> dict[str, bool]:
    """Does this person enter data at a station (child proposals or register records)? Their pages carry the
    offline outbox (the installable app, docs/offline.md)."""
    user = getattr(request, "user", None)
    if user is None or not getattr(user, "is_authenticated", False):
        return {"offline_entry": False}
    return {"offline_entry": can(user, "child.propose") or can(user, "register.write")}
