"""Writes to accounts. Every change is audited in the same transaction."""

from __future__ import annotations

import secrets
import string
from typing import Any

from django.db import transaction

from mchis.core.audit import log_event
from mchis.core.errors import DomainError

from .models import User
from .roles import Role


def generate_initial_password(length: int = 14) -> str:
    """A one-time password that satisfies the complexity rules (R-SEC-03)."""
    alphabet = string.ascii_letters + string.digits
    while True:
        core = "".join(secrets.choice(alphabet) for _ in range(length - 2))
        candidate = core + secrets.choice("!@#$%&*?") + secrets.choice(string.digits)
        if any(c.isupper() for c in candidate) and any(c.islower() for c in candidate):
            return candidate


@transaction.atomic
def account_create(
    *,
    actor: Any,
    username: str,
    unit: Any,
    role: str,
    full_name: str = "",
    email: str = "",
    password: str | None = None,
) -> tuple[User, str]:
    """Create an account inside `unit` with a one-time initial password; returns (user, password)."""
    if role not in Role.values:
        raise DomainError(f"Vai trò '{role}' không hợp lệ.", field="role")
    if User.objects.filter(username=username).exists():
        raise DomainError(f"Tên đăng nhập '{username}' đã tồn tại.", field="username", code="duplicate")
    initial = password or generate_initial_password()
    user = User(username=username, unit=unit, role=role, email=email, must_change_password=True)
    if full_name:
        parts = full_name.rsplit(" ", 1)
        user.last_name, user.first_name = (parts[0], parts[1]) if len(parts) == 2 else ("", parts[0])
    user.set_password(initial)
    user.save()
    log_event(
        actor=actor,
        action="account.create",
        object_type="account",
        object_id=user.pk,
        scope_path=unit.path if unit else "",
        changes={
            "username": [None, username],
            "role": [None, role],
            "unit": [None, getattr(unit, "code", None)],
        },
    )
    return user, initial
