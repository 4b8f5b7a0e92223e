from typing import Any

from django.core.management.base import BaseCommand

from mchis.analytics.docs import DOC, rewrite


class Command(BaseCommand):
    help = "Viết lại danh sách chỉ số trong docs/analytics.md từ fixtures/indicators.json."

    def handle(self, *args: Any, **options: Any) -> None:
        changed = rewrite()
        self.stdout.write(f"{DOC}: {'đã cập nhật' if changed else 'không thay đổi'}")
