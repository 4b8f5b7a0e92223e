"""`manage.py create_account --username U --unit CODE --role ROLE [--full-name ...]`: prints the one-time password."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mchis.accounts.roles import Role
from mchis.accounts.services import account_create, account_issue_enrolment_code
from mchis.core.errors import DomainError
from mchis.units.models import ReportingUnit


class Command(BaseCommand):
    help = (
        "Tạo tài khoản trong một đơn vị; in mật khẩu ban đầu (dùng một lần, phải đổi khi đăng nhập lần đầu)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--username", required=True)
        parser.add_argument("--unit", required=True, help="Mã đơn vị báo cáo (ReportingUnit.code)")
        parser.add_argument("--role", required=True, choices=Role.values)
        parser.add_argument("--full-name", default="")
        parser.add_argument("--email", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        unit = ReportingUnit.objects.filter(code=options["unit"]).first()
        if unit is None:
            raise CommandError(f"Không có đơn vị mã '{options['unit']}'.")
        try:
            user, password = account_create(
                actor=None,
                username=options["username"],
                unit=unit,
                role=options["role"],
                full_name=options["full_name"],
                email=options["email"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(f"Đã tạo tài khoản {user.username} ({user.get_role_display()}) tại {unit.name}.")
        code = account_issue_enrolment_code(actor=None, account=user)
        self.stderr.write(f"Mã đăng ký xác thực hai lớp (dùng một lần, trong 72 giờ): {code}")
        self.stderr.write("Mật khẩu ban đầu (chỉ hiển thị một lần, phải đổi khi đăng nhập lần đầu):")
        self.stdout.write(password)
