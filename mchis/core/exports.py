"""The audit log as an Excel workbook (xuất nhật ký). The caller logs the export itself (R-SEC-06)."""

from __future__ import annotations

from io import BytesIO
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl.cell import WriteOnlyCell

from .audit_labels import action_label, object_label
from .models import AuditEvent
from .spreadsheets import workbook as new_workbook

EXPORT_COLUMNS = [
    ("id", "STT"),
    ("at", "Thời điểm"),
    ("actor_username", "Tài khoản"),
    ("actor_unit_code", "Đơn vị người thực hiện"),
    ("client_name", "Máy khách tích hợp"),
    ("action", "Hành động"),
    ("object_type", "Loại đối tượng"),
    ("object_id", "Mã đối tượng"),
    ("changes", "Thay đổi (trước → sau)"),
    ("reason", "Lý do"),
    ("evidence_ref", "Minh chứng"),
    ("ip", "Địa chỉ IP"),
    ("user_agent", "Trình duyệt"),
    ("entry_hash", "Mã băm"),
]


def audit_log_workbook(events: QuerySet[AuditEvent], *, limit: int) -> tuple[bytes, int]:
    """(xlsx bytes, number of rows) for at most `limit` entries, streamed row by row (write-only mode)."""
    workbook = new_workbook(write_only=True)
    sheet = workbook.create_sheet("Nhật ký")
    sheet.append(
        [label for _, label in EXPORT_COLUMNS] + ["Hành động (diễn giải)", "Loại đối tượng (diễn giải)"]
    )
    rows = 0
    for values in events.values_list(*[name for name, _ in EXPORT_COLUMNS])[:limit].iterator():
        row: list[Any] = list(values)
        at = WriteOnlyCell(
            sheet, value=timezone.localtime(row[1]).replace(tzinfo=None)
        )  # Excel has no time zones
        at.number_format = "dd/mm/yyyy hh:mm:ss"  # dates as people write them, not ISO
        row[1] = at
        row[8] = str(row[8]) if row[8] else ""
        row += [action_label(row[5]), object_label(row[6])]  # the codes stay searchable, the words are read
        sheet.append(row)
        rows += 1
    buffer = BytesIO()
    workbook.save(buffer)
    return buffer.getvalue(), rows
