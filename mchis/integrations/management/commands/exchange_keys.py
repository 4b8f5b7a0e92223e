"""exchange_keys [--rotate] [--encrypt] [--jwks FILE]: show or rotate our signing keys (stored encrypted,
ADR 0071); seal keys written in clear before; write the public key set."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand

from mchis.integrations.exchange import keys


class Command(BaseCommand):
    help = "Khóa ký liên thông: xoay khóa (--rotate), ghi bộ khóa công khai (--jwks FILE)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--rotate", action="store_true")
        parser.add_argument("--encrypt", action="store_true", help="mã hóa các khóa còn lưu dạng rõ")
        parser.add_argument("--jwks", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["encrypt"]:
            self.stdout.write(f"Đã mã hóa {keys.signing_keys_encrypt(actor=None)} khóa.")
        if options["rotate"]:
            self.stdout.write(f"Khóa mới: {keys.signing_key_rotate(actor=None)}")
        else:
            keys.active_private_jwk()
        jwks = keys.public_jwks()
        if options.get("jwks"):
            options["jwks"].write_text(json.dumps(jwks), encoding="utf-8")
        self.stdout.write(json.dumps(jwks, indent=1))
