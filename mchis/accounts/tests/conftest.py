from __future__ import annotations

from typing import Any

import pytest

from mchis.accounts.testing import enrol_totp


@pytest.fixture
def enrol():
    """enrol(user) -> (TOTPDevice, recovery codes): a confirmed second factor."""

    def factory(user: Any) -> tuple[Any, list[str]]:
        return enrol_totp(user)

    return factory


@pytest.fixture
def admin_a(tree, make_user):
    """Quản trị đơn vị at TTYT A (its subtree: TYT A1, TYT A2)."""
    return make_user("unit_admin", tree.ttyt_a, username="admin_ttyt_a")


@pytest.fixture
def sysadmin(tree, make_user):
    return make_user("system_admin", tree.ministry, username="sysadmin")
