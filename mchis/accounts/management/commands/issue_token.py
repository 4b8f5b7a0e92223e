"""`manage.py issue_token --client NAME --unit CODE --scopes a,b [--days N]`: prints the token once."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mchis.accounts.services import api_client_create
from mchis.core.errors import DomainError
from mchis.units.models import ReportingUnit


class Command(BaseCommand):
    help = "Cấp mã truy cập cho máy khách tích hợp; mã chỉ in ra một lần (hệ thống chỉ lưu bản băm)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--client", required=True, help="Tên máy khách (duy nhất)")
        parser.add_argument("--unit", required=True, help="Mã đơn vị: phạm vi dữ liệu của máy khách")
        parser.add_argument("--scopes", required=True, help="Các thao tác được phép, cách nhau bằng dấu phẩy")
        parser.add_argument("--days", type=int, default=365, help="Thời hạn (ngày), mặc định 365")

    def handle(self, *args: Any, **options: Any) -> None:
        unit = ReportingUnit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"Không có đơn vị mã '{options['unit']}'.")
        scopes = [s.strip() for s in options["scopes"].split(",") if s.strip()]
        try:
            client, token = api_client_create(
                actor=None, name=options["client"], unit=unit, scopes=scopes, days=options["days"]
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Đã cấp mã cho {client.name} (đơn vị {unit.code}, quyền {', '.join(client.scopes)}, "
            f"hết hạn {client.expires_at:%Y-%m-%d}). Mã chỉ hiển thị một lần:"
        )
        self.stdout.write(token)
