"""manage.py load_report_forms [FILE …] — load report form versions (phiên bản biểu mẫu) from JSON files.

Without arguments, loads the shipped definitions in mchis/reports/forms/. Every file is validated first;
if any is malformed nothing is written and each problem is printed as ``file: path: reason``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mchis.reports.definitions import FormDefinitionError
from mchis.reports.services import forms_load, shipped_form_files


class Command(BaseCommand):
    help = "Nạp các phiên bản biểu mẫu báo cáo từ tệp JSON (mặc định: các biểu kèm theo)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("files", nargs="*", help="Tệp định nghĩa biểu (.json)")

    def handle(self, *args: Any, **options: Any) -> None:
        paths = [Path(f) for f in options["files"]] or shipped_form_files()
        try:
            result = forms_load(actor=None, paths=paths)
        except FormDefinitionError as exc:
            for problem in exc.problems:
                self.stderr.write(str(problem))
            raise CommandError(f"{len(exc.problems)} lỗi: không nạp tệp nào.") from exc
        for label in result.created:
            self.stdout.write(f"tạo mới  {label}")
        for label in result.updated:
            self.stdout.write(f"cập nhật {label}")
        for label in result.unchanged:
            self.stdout.write(f"không đổi {label}")
