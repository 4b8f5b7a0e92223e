"""manage.py report_form_schema [--check] — write the JSON Schema of the form-definition files.

The schema (``mchis/reports/forms/form.schema.json``) is generated from ``mchis.reports.formfile``; it is
committed so editors validate a form file while it is typed (``"$schema": "./form.schema.json"``) and served at
``GET /api/v1/reports/form-schema``. ``--check`` writes nothing and fails when the committed file is stale (CI).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mchis.reports.formfile import SCHEMA_FILE, schema_text


class Command(BaseCommand):
    help = "Sinh JSON Schema của tệp định nghĩa biểu mẫu (mchis/reports/forms/form.schema.json)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="Chỉ kiểm tra: báo lỗi nếu tệp đã commit khác với schema sinh ra, không ghi gì",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        text = schema_text()
        current = SCHEMA_FILE.read_text(encoding="utf-8") if SCHEMA_FILE.exists() else None
        if options["check"]:
            if current != text:
                raise CommandError(
                    f"{SCHEMA_FILE.name} đã cũ so với mchis/reports/formfile.py: "
                    "chạy 'python manage.py report_form_schema' rồi commit tệp."
                )
            self.stdout.write(f"{SCHEMA_FILE.name}: đúng với mô hình tệp biểu")
            return
        if current == text:
            self.stdout.write(f"{SCHEMA_FILE.name}: không thay đổi")
            return
        SCHEMA_FILE.write_text(text, encoding="utf-8")
        self.stdout.write(f"{SCHEMA_FILE.name}: đã cập nhật")
