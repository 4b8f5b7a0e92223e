"""The running release for API clients (R-OPS-03): GET /api/v1/version."""

from __future__ import annotations

from ninja import Router, Schema

import mchis

router = Router(tags=["Vận hành"])


class VersionOut(Schema):
    version: str
    api: str


@router.get("/version", response=VersionOut, summary="Phiên bản đang chạy")
def version(request: object) -> dict[str, str]:
    return {"version": mchis.__version__, "api": "1"}
