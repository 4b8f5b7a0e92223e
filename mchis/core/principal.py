"""Who is acting: a person (user account) or a machine client (API token) — never confused (R-SEC-02).

Both kinds of principal expose `ref`, a `PrincipalRef(kind, id)`. Identity is compared as a whole: token 7 is
not user 7. Code that needs "is this the same actor?" compares refs (`same_principal`), and code that writes a
person into a foreign key asks `person_or_none` instead of guessing from `pk`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

PrincipalKind = Literal["user", "token"]


@dataclass(frozen=True)
class PrincipalRef:
    """The typed identity of whoever acts: `user:12` or `token:3`."""

    kind: PrincipalKind
    id: int

    def __str__(self) -> str:
        return f"{self.kind}:{self.id}"

    @classmethod
    def user(cls, pk: int) -> PrincipalRef:
        return cls("user", int(pk))

    @classmethod
    def token(cls, pk: int) -> PrincipalRef:
        return cls("token", int(pk))


def principal_ref(principal: Any) -> PrincipalRef | None:
    """The identity of an authenticated principal, or None (anonymous, unsaved, or unknown object)."""
    if principal is None or not getattr(principal, "is_authenticated", False):
        return None
    ref = getattr(principal, "ref", None)
    return ref if isinstance(ref, PrincipalRef) else None


def is_person(principal: Any) -> bool:
    ref = principal_ref(principal)
    return ref is not None and ref.kind == "user"


def is_machine(principal: Any) -> bool:
    ref = principal_ref(principal)
    return ref is not None and ref.kind == "token"


def person_or_none(principal: Any) -> Any:
    """The principal if it is a person (a user row, fit for a foreign key), else None."""
    return principal if is_person(principal) else None


def same_principal(principal: Any, ref: PrincipalRef | None) -> bool:
    """Is `principal` exactly the identity `ref` (kind and id)? False when either is unknown."""
    own = principal_ref(principal)
    return own is not None and ref is not None and own == ref
