"""`manage.py client_signing_keys --client NAME --jwks FILE`: register the public keys (JWKS, Ed25519) a machine
client signs its submissions with (ADR 0070). To rotate: register old + new, switch the client, then new alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mchis.accounts.models import ApiClient
from mchis.accounts.services import api_client_set_signing_keys
from mchis.core.errors import DomainError


class Command(BaseCommand):
    help = "Đăng ký khóa công khai (JWKS, Ed25519) mà máy khách dùng để ký dữ liệu gửi đến."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client", required=True, help="Tên máy khách")
        parser.add_argument("--jwks", required=True, help="Tệp JWKS chứa khóa công khai của máy khách")

    def handle(self, *args: Any, **options: Any) -> None:
        client = ApiClient.objects.filter(name=options["client"]).select_related("unit").first()
        if client is None:
            raise CommandError(f"Không có máy khách '{options['client']}'.")
        try:
            jwks = json.loads(Path(options["jwks"]).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"Không đọc được tệp JWKS: {exc}") from exc
        try:
            api_client_set_signing_keys(actor=None, client=client, jwks=jwks)
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        kids = ", ".join(k["kid"] for k in client.signing_jwks["keys"])
        self.stdout.write(f"{client.name}: khóa ký đã đăng ký: {kids}")
