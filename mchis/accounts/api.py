"""Accounts API (/api/v1/accounts): who am I, the accounts of my subtree, role change (critical)."""

from __future__ import annotations

from typing import Any

from ninja import Router, Schema
from pydantic import Field

from mchis.core.http import ApiRequest
from mchis.core.principal import is_machine_client

from . import selectors, services
from .permissions import require
from .principals import as_person

router = Router(tags=["accounts"])


class MeOut(Schema):
    kind: str = Field(examples=["user"], description="user (người dùng) hoặc client (máy khách)")
    name: str = Field(examples=["nguyenvana"])
    role: str | None = Field(default=None, examples=["collector"])
    unit_code: str | None = Field(default=None, examples=["TYT02269"])
    scopes: list[str] = Field(default_factory=list, examples=[["child.view"]])


class AccountOut(Schema):
    id: int
    username: str = Field(examples=["nguyenvana"])
    full_name: str = Field(examples=["Nguyễn Văn A"])
    role: str = Field(examples=["collector"])
    unit_code: str = Field(examples=["TYT02269"])
    is_active: bool


class RoleIn(Schema):
    role: str = Field(examples=["leader"])
    reason: str = Field(default="", examples=["Được bổ nhiệm trạm trưởng"])


def _account_out(account: Any) -> AccountOut:
    return AccountOut(
        id=account.pk,
        username=account.username,
        full_name=account.get_full_name(),
        role=account.role,
        unit_code=account.unit.code if account.unit else "",
        is_active=account.is_active,
    )


@router.get("/me", response=MeOut, summary="Tài khoản hoặc máy khách đang gọi")
def me(request: ApiRequest) -> MeOut:
    principal = request.auth
    unit_code = principal.unit.code if principal.unit else None
    if is_machine_client(principal):
        return MeOut(
            kind="client", name=principal.client_name, unit_code=unit_code, scopes=sorted(principal.scopes)
        )
    return MeOut(kind="user", name=as_person(principal).username, role=principal.role, unit_code=unit_code)


@router.get("/users", response=list[AccountOut], summary="Tài khoản trong phạm vi đơn vị")
def list_accounts(request: ApiRequest, q: str = "", role: str = "") -> list[AccountOut]:
    principal = request.auth
    require(principal, "account.manage")
    return [_account_out(a) for a in selectors.accounts_visible(principal, q=q, role=role)[:500]]


@router.get("/users/{account_id}", response=AccountOut, summary="Một tài khoản (404 nếu ngoài phạm vi)")
def get_account(request: ApiRequest, account_id: int) -> AccountOut:
    principal = request.auth
    require(principal, "account.manage")
    return _account_out(selectors.account_get(principal, account_id))


@router.post(
    "/users/{account_id}/role",
    response=AccountOut,
    summary="Đổi vai trò (thao tác quan trọng: cần xác thực lại, nếu không trả 403 step_up_required)",
)
def change_role(request: ApiRequest, account_id: int, payload: RoleIn) -> AccountOut:
    principal = request.auth
    require(principal, "account.manage")
    account = selectors.account_get(principal, account_id)
    account = services.account_change_role(
        actor=principal, account=account, role=payload.role, reason=payload.reason
    )
    return _account_out(account)
