"""`python manage.py load_catalogs [--file CSV --catalog CODE]` — seed or update shared catalogs (R-ORG-03)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from mchis.catalogs.files import FIXTURES, CatalogFileError, read_items, read_manifest
from mchis.catalogs.models import Catalog
from mchis.catalogs.services import CatalogLoadReport, catalog_create, catalog_load
from mchis.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Nạp các danh mục dùng chung từ tệp đi kèm (dân tộc, giới tính, quan hệ với trẻ, nhóm hoàn cảnh, "
        "hình thức trợ giúp, biện pháp tránh thai, nơi đẻ, nguyên nhân tử vong ICD-10), hoặc một danh mục "
        "từ tệp CSV (code,name_vi,name_en[,parent_code]). Chạy lại không thay đổi gì; mục đổi tên thành phiên bản mới."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--file", type=Path, help="Tệp CSV: code,name_vi,name_en[,parent_code]")
        parser.add_argument("--catalog", help="Mã danh mục nhận tệp (vd. cause_of_death)")
        parser.add_argument("--name", help="Tên danh mục khi tạo mới danh mục chưa có")
        parser.add_argument("--code-system", default="", help="Hệ mã khi tạo mới (vd. ICD-10)")

    def handle(self, *args: Any, **options: Any) -> None:
        if bool(options["file"]) != bool(options["catalog"]):
            raise CommandError("--file và --catalog phải đi cùng nhau.")
        manifest = {c["code"]: c for c in read_manifest()}
        if options["file"]:
            code = options["catalog"]
            spec = manifest.get(code) or {
                "code": code,
                "name_vi": options["name"] or "",
                "name_en": "",
                "code_system": options["code_system"],
            }
            if not Catalog.objects.filter(code=code).exists() and not spec["name_vi"]:
                raise CommandError(f"Chưa có danh mục '{code}': thêm --name (và --code-system) để tạo mới.")
            jobs = [(spec, options["file"])]
        else:
            jobs = [(spec, FIXTURES / spec["file"]) for spec in manifest.values()]
        try:
            parsed = [(spec, read_items(path)) for spec, path in jobs]  # every file checked before any write
            with transaction.atomic():
                reports = [self._load(spec, rows) for spec, rows in parsed]
        except CatalogFileError as exc:
            raise CommandError(f"Tệp không hợp lệ, không ghi gì: {exc}") from exc
        except DomainError as exc:
            raise CommandError(f"Không nạp được, không ghi gì: {exc.message}") from exc
        for r in reports:
            self.stdout.write(
                f"  {r.catalog:<22} {r.total:>6} mục  +{r.created} mới  ~{r.versioned} phiên bản mới"
            )
        changed = any(r.changed for r in reports)
        self.stdout.write(self.style.SUCCESS("Đã thay đổi dữ liệu." if changed else "Không có gì thay đổi."))

    def _load(self, spec: dict[str, Any], rows: list[Any]) -> CatalogLoadReport:
        catalog = Catalog.objects.filter(code=spec["code"]).first()
        if catalog is None:
            catalog = catalog_create(
                actor=None,
                code=spec["code"],
                name_vi=spec["name_vi"],
                name_en=spec.get("name_en", ""),
                code_system=spec.get("code_system") or "mchis",
                description=spec.get("description", ""),
            )
        return catalog_load(actor=None, catalog=catalog, rows=rows)
