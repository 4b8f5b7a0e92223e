"""Who is acting and from where, for the audit log, without passing the request into services."""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class RequestMeta:
    ip: str = ""
    user_agent: str = ""
    client_name: str = ""  # machine client (integration token) acting, if any
    step_up_at: datetime | None = None  # last second-factor check of this session (R-SEC-04)


_current: ContextVar[RequestMeta] = ContextVar("mchis_request_meta", default=RequestMeta())  # noqa: B039


def current_meta() -> RequestMeta:
    return _current.get()


def set_meta(meta: RequestMeta) -> Token[RequestMeta]:  # returns a token for reset
    return _current.set(meta)


def reset_meta(token: Token[RequestMeta]) -> None:
    _current.reset(token)
