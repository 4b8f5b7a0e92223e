"""HTTP for the exchanges (stdlib): one signed, authenticated POST; failures named by kind."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request
from dataclasses import dataclass, field

from .signing import HEADER


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)


class TransportFailure(Exception):
    """No HTTP answer: `kind` is timeout or unreachable."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


def post(
    url: str,
    body: bytes,
    *,
    content_type: str,
    token: str,
    signature: str,
    idempotency_key: str,
    timeout: float,
) -> Response:
    if not url.startswith(("http://", "https://")):
        raise TransportFailure("unreachable", f"URL không hợp lệ: {url!r}")
    headers = {
        "Content-Type": content_type,
        "Authorization": f"Bearer {token}",
        HEADER: signature,
        "Idempotency-Key": idempotency_key,
    }
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - scheme checked
            return Response(answer.status, answer.read(), dict(answer.headers.items()))
    except urllib.error.HTTPError as exc:
        return Response(exc.code, exc.read() or b"", dict(exc.headers.items()) if exc.headers else {})
    except TimeoutError as exc:
        raise TransportFailure("timeout", f"hết {timeout:g} giây chờ") from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            raise TransportFailure("timeout", f"hết {timeout:g} giây chờ") from exc
        raise TransportFailure("unreachable", str(exc.reason)[:200]) from exc
    except OSError as exc:  # connection reset mid-answer
        raise TransportFailure("unreachable", str(exc)[:200]) from exc
