"""The person behind a principal, typed: what a foreign key to an account may hold.

`mchis.core.principal.Principal` names whoever acts by shape (core sits below accounts). Writes that file a
person into a foreign key (proposer, approver, uploader) ask here: `person_of` for "the person, if it is one",
`as_person` where the action is a person's act and `require(...)` has already refused machine clients.
"""

from __future__ import annotations

from mchis.core.errors import PermissionDeniedError
from mchis.core.principal import Principal

from .models import User
from .permissions import PERSON_REQUIRED_MESSAGE


def person_of(principal: Principal | None) -> User | None:
    """The principal if it is a person's account (fit for a foreign key), else None (machine client, system)."""
    return principal if isinstance(principal, User) else None


def as_person(principal: Principal | None) -> User:
    """The person acting; a machine client (or no one) is refused with 403 `person_required` (R-SEC-02)."""
    if isinstance(principal, User):
        return principal
    raise PermissionDeniedError(PERSON_REQUIRED_MESSAGE, code="person_required")
