"""Who is acting: a person (user account) or a machine client (API token) — never confused (R-SEC-02).

Both kinds of principal expose `ref`, a `PrincipalRef(kind, id)`. Identity is compared as a whole: token 7 is
not user 7. Code that needs "is this the same actor?" compares refs (`same_principal`), and code that writes a
person into a foreign key asks `person_or_none` instead of guessing from `pk`.
"""

from __future__ import annotations

from collections.abc import Set
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeGuard

if TYPE_CHECKING:  # for the type checker only: core imports no domain app at run time (see lint-imports)
    from mchis.units.models import ReportingUnit

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


class Principal(Protocol):
    """Whoever calls a selector or a service: a person (`accounts.User`), a machine client
    (`accounts.auth.ClientPrincipal`, or `registers.services.StoredPrincipal` rebuilt in a worker).

    Pages for signed-in people annotate their request as `mchis.core.http.AuthedRequest` and API handlers as
    `ApiRequest`, so `request.user` / `request.auth` fit here; an anonymous visitor never reaches a service.
    Attributes are read directly (no probing): a principal without a unit is the bootstrap superuser.
    """

    @property
    def is_authenticated(self) -> bool: ...
    @property
    def is_active(self) -> bool: ...
    @property
    def is_superuser(self) -> bool: ...
    @property
    def role(self) -> str | None: ...
    @property
    def unit(self) -> ReportingUnit | None: ...
    @property
    def ref(self) -> PrincipalRef | None: ...


class MachinePrincipal(Principal, Protocol):
    """A machine client: scopes instead of a role (R-SEC-02). `client_id` is None only for a stored principal
    rebuilt in a worker from a batch whose client row is gone."""

    @property
    def scopes(self) -> Set[str]: ...
    @property
    def client_name(self) -> str: ...
    @property
    def client_id(self) -> int | None: ...


def is_machine_client(principal: Principal | None) -> TypeGuard[MachinePrincipal]:
    """A machine client holds scopes instead of a role (ClientPrincipal, or a stored one in a worker)."""
    return getattr(principal, "scopes", None) is not None


def principal_ref(principal: Principal | None) -> PrincipalRef | None:
    """The identity of an authenticated principal, or None (anonymous, unsaved, or unknown object)."""
    if principal is None or not principal.is_authenticated:
        return None
    return principal.ref


def is_person(principal: Principal | None) -> bool:
    ref = principal_ref(principal)
    return ref is not None and ref.kind == "user"


def is_machine(principal: Principal | None) -> bool:
    ref = principal_ref(principal)
    return ref is not None and ref.kind == "token"


def person_or_none(principal: Principal | None) -> Any:
    """The principal if it is a person (a user row, fit for a foreign key), else None."""
    return principal if is_person(principal) else None


def same_principal(principal: Principal | None, ref: PrincipalRef | None) -> bool:
    """Is `principal` exactly the identity `ref` (kind and id)? False when either is unknown."""
    own = principal_ref(principal)
    return own is not None and ref is not None and own == ref
