"""Reading catalog CSV files (seed fixtures, or a full list such as ICD-10). No database access.

Columns: code,name_vi,name_en[,parent_code][,sort_order][,extra] (extra = a JSON object).
A malformed row is refused with its line number; nothing is loaded from a file with any bad row.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from mchis.core.text import nfc

from .services import CODE_RE, ItemRow

FIXTURES = Path(__file__).resolve().parent / "fixtures"
MANIFEST = FIXTURES / "catalogs.json"
REQUIRED = ("code", "name_vi", "name_en")
OPTIONAL = ("parent_code", "sort_order", "extra")


class CatalogFileError(ValueError):
    """Malformed catalog file; the message names the file and the line."""


def read_manifest(path: Path = MANIFEST) -> list[dict[str, Any]]:
    return list(json.loads(path.read_text(encoding="utf-8")))


def read_items(path: Path) -> list[ItemRow]:
    name = path.name
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CatalogFileError(f"{name}: tệp không phải UTF-8 ({exc.reason}).") from exc
    except OSError as exc:
        raise CatalogFileError(f"{name}: không đọc được tệp ({exc.strerror}).") from exc
    reader = csv.reader(text.splitlines())
    header = [h.strip() for h in next(reader, [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise CatalogFileError(
            f"{name}, dòng 1: thiếu cột {', '.join(missing)} (cần code,name_vi,name_en[,parent_code])."
        )
    unknown = [c for c in header if c not in REQUIRED + OPTIONAL]
    if unknown:
        raise CatalogFileError(f"{name}, dòng 1: cột lạ {', '.join(unknown)}.")
    rows: list[ItemRow] = []
    seen: dict[str, int] = {}
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            raise CatalogFileError(
                f"{name}, dòng {line}: có {len(values)} cột, cần {len(header)} (thiếu dấu ngoặc kép?)."
            )
        r = dict(zip(header, values, strict=True))
        code = nfc(r["code"])
        if not CODE_RE.fullmatch(code):
            raise CatalogFileError(f"{name}, dòng {line}: mã '{code}' không hợp lệ.")
        if code in seen:
            raise CatalogFileError(f"{name}, dòng {line}: mã '{code}' trùng với dòng {seen[code]}.")
        seen[code] = line
        name_vi = nfc(r["name_vi"])
        if not name_vi:
            raise CatalogFileError(f"{name}, dòng {line}: thiếu name_vi.")
        if len(name_vi) > 300 or len(nfc(r["name_en"])) > 300:
            raise CatalogFileError(f"{name}, dòng {line}: tên dài quá 300 ký tự.")
        sort_text = (r.get("sort_order") or "").strip()
        if sort_text and not sort_text.isdigit():
            raise CatalogFileError(f"{name}, dòng {line}: sort_order '{sort_text}' không phải số.")
        extra: dict[str, Any] = {}
        if (r.get("extra") or "").strip():
            try:
                extra = json.loads(r["extra"])
            except json.JSONDecodeError as exc:
                raise CatalogFileError(f"{name}, dòng {line}: extra không phải JSON ({exc.msg}).") from exc
            if not isinstance(extra, dict):
                raise CatalogFileError(f"{name}, dòng {line}: extra phải là một đối tượng JSON.")
        rows.append(
            ItemRow(
                line=line,
                code=code,
                name_vi=name_vi,
                name_en=nfc(r["name_en"]),
                parent_code=nfc(r.get("parent_code") or ""),
                sort_order=int(sort_text) if sort_text else line - 1,
                extra=extra,
            )
        )
    if not rows:
        raise CatalogFileError(f"{name}: tệp không có dòng dữ liệu nào.")
    return rows
