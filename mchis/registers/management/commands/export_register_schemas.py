"""manage.py export_register_schemas [--out DIR] [--register KEY] — the JSON Schema of each register's record.

Writes one `<register>.schema.json` per register into DIR (the offline entry form validates in the browser
from these files), or prints one register's schema with --register and no --out. The schemas come from the
pydantic models in `mchis.registers.schemas`, the same ones `GET /api/v1/registers/{register}/schema` serves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from mchis.registers.definitions import REGISTERS
from mchis.registers.schemas import record_json_schema


class Command(BaseCommand):
    help = "Xuất lược đồ JSON (JSON Schema) của bản ghi từng sổ, cho biểu mẫu nhập ngoại tuyến."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--out", help="Thư mục ghi các tệp <sổ>.schema.json")
        parser.add_argument("--register", choices=sorted(REGISTERS), help="Chỉ một sổ")

    def handle(self, *args: Any, **options: Any) -> None:
        keys = [options["register"]] if options["register"] else list(REGISTERS)
        if not options["out"]:
            if len(keys) != 1:
                raise CommandError("Cần --out THƯ_MỤC (hoặc --register SỔ để in ra màn hình).")
            self.stdout.write(_dump(record_json_schema(keys[0])))
            return
        out = Path(options["out"])
        try:
            out.mkdir(parents=True, exist_ok=True)
            for key in keys:
                path = out / f"{key}.schema.json"
                path.write_text(_dump(record_json_schema(key)) + "\n", encoding="utf-8")
                self.stdout.write(f"{path}")
        except OSError as exc:
            raise CommandError(f"Không ghi được vào {out}: {exc.strerror or exc}.") from exc


def _dump(schema: dict[str, Any]) -> str:
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True)
