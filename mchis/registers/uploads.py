"""Excel uploads: preview (a dry run of every row, nothing written) → confirm (one transaction) or discard.

The file is streamed in chunks; the preview keeps its validated rows in an HMAC-signed file so the confirmation
need not parse the workbook again (locks and stored records are re-checked at write time by the engine).
Rejected rows go to a downloadable error workbook. Unconfirmed previews expire after a day (`uploads_expire`).
"""

from __future__ import annotations

import hashlib
import json
import pickle
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac
from openpyxl.utils import get_column_letter

from mchis.accounts.permissions import require
from mchis.accounts.principals import as_person, person_of
from mchis.core.audit import log_event
from mchis.core.errors import Conflict, PermissionDeniedError
from mchis.core.principal import Principal
from mchis.core.scoping import scope_path_of, within

from . import excel, legacy
from .definitions import RegisterDef, get_register
from .ingest import build_context, principal_key_of, records_upsert
from .models import BatchChannel, BatchStatus, IngestBatch, PendingUpload, UploadStatus
from .validation import Outcome, validate_record

EXCEL_CHUNK = 5000
PREVIEW_SAMPLE = 200


def _upload_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "registers" / "uploads"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _excel_chunks(
    *, actor: Principal, reg: RegisterDef, path: Path, default_facility: str
) -> Iterator[tuple[Any, list[Any], list[dict[str, Any]], list[Outcome]]]:
    """Stream the file in chunks: (reader, rows, raws, outcomes). Duplicate record keys become row errors."""
    reader = excel.open_rows(path, reg)
    seen: dict[tuple[str, str], int] = {}
    rows: list[Any] = []
    encoding: list[str] = []  # detected once, from the first chunk: one file, one keyboard

    def flush() -> tuple[Any, list[Any], list[dict[str, Any]], list[Outcome]]:
        raws = [r.raw for r in rows]
        if not encoding:
            texts = [v for raw in raws for v in raw.values() if isinstance(v, str)]
            encoding.append(legacy.detect_encoding(texts))
        ctx = build_context(principal=actor, reg=reg, records=raws)
        ctx.text_encoding = encoding[0]
        outcomes = [validate_record(reg, raw, ctx, channel=BatchChannel.EXCEL) for raw in raws]
        for row, outcome in zip(rows, outcomes, strict=True):
            if getattr(row, "duplicate_of", None):
                outcome.errors.append(
                    {
                        "field": "source_record_id",
                        "reason": f"Trùng bản ghi với dòng {row.duplicate_of} trong cùng tệp.",
                    }
                )
        return reader, list(rows), raws, outcomes

    for row in reader.rows:
        raw = row.raw
        if not raw.get("facility"):
            raw["facility"] = default_facility
        raw["source_system"] = BatchChannel.EXCEL
        rid = str(raw.get("source_record_id") or "").strip()
        if not rid:
            rid = excel.natural_key(raw, reg.key)
        raw["source_record_id"] = rid
        key = (str(raw["facility"]), rid)
        if key in seen:
            row.duplicate_of = seen[key]  # type: ignore[attr-defined]
        else:
            seen[key] = row.number
        rows.append(row)
        if len(rows) >= EXCEL_CHUNK:
            yield flush()
            rows = []
    if rows:
        yield flush()


def _letters(reader: Any) -> dict[str, str]:
    return {col.key: get_column_letter(i + 1) for i, col in enumerate(reader.columns) if col is not None}


def _row_errors(letters: dict[str, str], outcome: Outcome) -> list[dict[str, str]]:
    return [
        {"column": letters.get(err["field"], ""), "field": err["field"], "reason": err["reason"]}
        for err in outcome.errors
    ]


def _file_mac(path: Path) -> str:
    return salted_hmac("registers.upload-outcomes", _sha256_file(path)).hexdigest()


def _commit_chunks(
    actor: Principal, reg: RegisterDef, upload: PendingUpload, path: Path
) -> Iterator[tuple[Any, ...]]:
    """The preview's validated chunks when their signed file is intact, else the workbook parsed again.
    Locks and stored records are always re-checked at write time by the engine."""
    kept = path.with_suffix(".outcomes.pkl")
    mac = upload.summary.get("outcomes_mac")
    if mac and kept.exists() and constant_time_compare(_file_mac(kept), mac):
        with kept.open("rb") as fh:
            while True:
                try:
                    chunk = pickle.load(fh)  # noqa: S301 - our own file, HMAC-verified above
                except EOFError:
                    return
                yield (chunk["headers"], chunk["letters"], chunk["numbers"], chunk["values"], chunk["raws"],
                       chunk["outcomes"])  # fmt: skip
    for reader, rows, raws, outcomes in _excel_chunks(
        actor=actor, reg=reg, path=path, default_facility=upload.unit.code
    ):
        yield (
            reader.headers,
            _letters(reader),
            [r.number for r in rows],
            [r.values for r in rows],
            raws,
            outcomes,
        )


def upload_preview(
    *, actor: Principal, register: str, unit: Any, filename: str, chunks: Iterable[bytes]
) -> PendingUpload:
    """Store the file under MEDIA_ROOT, dry-run every row, keep the per-row outcomes (nothing written yet)."""
    require(actor, "register.write")
    reg = get_register(register)
    if not within(actor, unit.path):
        raise PermissionDeniedError("Đơn vị nằm ngoài phạm vi quản lý của bạn.", field="unit")
    upload_id = uuid.uuid4()
    path = _upload_dir() / f"{upload_id}.xlsx"
    preview_path = path.with_suffix(".preview.jsonl")
    outcomes_path = path.with_suffix(".outcomes.pkl")
    try:
        digest, size = hashlib.sha256(), 0
        with path.open("wb") as fh:
            for block in chunks:
                size += len(block)
                if size > excel.MAX_FILE_BYTES:
                    raise excel.BadFile(f"Tệp quá lớn; tối đa {excel.MAX_FILE_BYTES // 1_048_576} MB.")
                digest.update(block)
                fh.write(block)
        counts = {"create": 0, "update": 0, "unchanged": 0, "error": 0}
        sample: list[dict[str, Any]] = []
        with preview_path.open("w", encoding="utf-8") as out, outcomes_path.open("wb") as kept:
            for reader, rows, raws, outcomes in _excel_chunks(
                actor=actor, reg=reg, path=path, default_facility=unit.code
            ):
                letters = _letters(reader)
                # The validated rows are kept for the confirmation (signed below), so it need not re-parse.
                pickle.dump(
                    {"headers": reader.headers, "letters": _letters(reader), "numbers": [r.number for r in rows],
                     "values": [r.values for r in rows], "raws": raws, "outcomes": outcomes},
                    kept, protocol=pickle.HIGHEST_PROTOCOL,
                )  # fmt: skip
                result = records_upsert(
                    actor=actor, register=reg.key, records=raws, channel=BatchChannel.EXCEL, dry_run=True,
                    outcomes=outcomes, check_duplicates=False,
                )  # fmt: skip
                actions = {r["index"]: r["action"] for r in result.rows}
                for index, (row, outcome) in enumerate(zip(rows, outcomes, strict=True)):
                    action = actions.get(index, "error") if outcome.ok else "error"
                    entry: dict[str, Any] = {"row": row.number, "action": action}
                    if action == "error":
                        entry["errors"] = _row_errors(letters, outcome)
                    entry["name"] = outcome.clean.get("full_name", "")
                    entry["date"] = (
                        outcome.clean["event_date"].isoformat() if outcome.clean.get("event_date") else ""
                    )
                    counts[action] += 1
                    out.write(json.dumps(entry, ensure_ascii=False) + "\n")
                    if len(sample) < PREVIEW_SAMPLE and (
                        action == "error" or len(sample) < PREVIEW_SAMPLE // 2
                    ):
                        sample.append(entry)
        with transaction.atomic():
            upload = PendingUpload.objects.create(
                id=upload_id,
                register=reg.key,
                unit=unit,
                uploaded_by=as_person(actor),
                original_name=filename[:255],
                file_path=str(path),
                checksum=digest.hexdigest(),
                size=size,
                preview_path=str(preview_path),
                summary={
                    "counts": counts,
                    "rows": sum(counts.values()),
                    "sample": sample,
                    "outcomes_mac": _file_mac(outcomes_path),
                },
            )
            log_event(
                actor=actor,
                action="register.excel_preview",
                object_type="PendingUpload",
                object_id=str(upload.pk),
                scope_path=unit.path,
                changes={
                    "file": [None, filename],
                    "rows": [None, sum(counts.values())],
                    "checksum": [None, upload.checksum],
                },
            )
    except BaseException:
        # Nothing of a failed preview stays on disk (issue 10 item 10): the file, its preview, its outcomes.
        for leftover in (path, preview_path, outcomes_path):
            leftover.unlink(missing_ok=True)
        raise
    return upload


def upload_commit(*, actor: Principal, upload: PendingUpload) -> PendingUpload:
    """Write every valid row in one transaction; rejected rows go to a downloadable error workbook."""
    require(actor, "register.write")
    reg = get_register(upload.register)
    path = Path(upload.file_path)
    with transaction.atomic():
        locked = PendingUpload.objects.select_for_update().get(pk=upload.pk)
        if locked.status != UploadStatus.PREVIEWED:
            raise Conflict("Tệp này đã được ghi hoặc đã hủy.", code="upload_done")
        if not path.exists() or _sha256_file(path) != locked.checksum:
            raise Conflict("Tệp tải lên đã thay đổi hoặc không còn trên máy chủ: hãy tải lên lại.")
        batch = IngestBatch.objects.create(
            register=reg.key,
            channel=BatchChannel.EXCEL,
            actor=person_of(actor),
            principal_key=principal_key_of(actor),
            principal_unit_path=scope_path_of(actor) or "",
            status=BatchStatus.RUNNING,
        )
        totals = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0, "records": 0}
        error_path = path.with_suffix(".errors.xlsx")
        wb = ws = None
        for headers, letters, numbers, values, raws, outcomes in _commit_chunks(actor, reg, locked, path):
            result = records_upsert(
                actor=actor, register=reg.key, records=raws, channel=BatchChannel.EXCEL, outcomes=outcomes,
                batch=batch, audit=False, check_duplicates=False,
            )  # fmt: skip
            totals["records"] += len(raws)
            for name in ("created", "updated", "unchanged", "rejected"):
                totals[name] += getattr(result, name)
            rejected = {c["index"] for c in result.conflicts}
            for index in sorted(rejected):
                if wb is None:
                    wb, ws = excel.error_workbook_writer(headers)
                outcome = outcomes[index]
                reasons = "; ".join(
                    (f"Cột {e['column']}: " if e["column"] else "") + e["reason"]
                    for e in _row_errors(letters, outcome)
                )
                assert ws is not None
                ws.append([*values[index], numbers[index], reasons])  # the workbook neutralises formulas
        if wb is not None:
            wb.save(error_path)
        batch.record_count = totals["records"]
        batch.created, batch.updated = totals["created"], totals["updated"]
        batch.unchanged, batch.rejected = totals["unchanged"], totals["rejected"]
        ok = totals["created"] + totals["updated"] + totals["unchanged"]
        batch.status = (
            BatchStatus.SUCCESS
            if not totals["rejected"]
            else (BatchStatus.WARNING if ok else BatchStatus.ERROR)
        )
        batch.finished_at = timezone.now()
        summary = {
            "status": {"success": "OK", "warning": "WARNING", "error": "ERROR"}[batch.status],
            "total": totals["records"],
            "created": totals["created"],
            "updated": totals["updated"],
            "unchanged": totals["unchanged"],
            "rejected": totals["rejected"],
        }
        batch.response = summary
        batch.save()
        locked.status = UploadStatus.COMMITTED
        locked.committed_at = timezone.now()
        locked.batch = batch
        locked.error_file_path = str(error_path) if wb is not None else ""
        locked.summary = {**locked.summary, "result": summary}
        locked.save()
        log_event(
            actor=actor,
            action="register.excel_batch",
            object_type="IngestBatch",
            object_id=str(batch.pk),
            scope_path=locked.unit.path,
            changes={
                "register": [None, reg.key],
                "file": [None, locked.original_name],
                "checksum": [None, locked.checksum],
                **{k: [0, v] for k, v in totals.items()},
            },
        )
    return locked


@transaction.atomic
def upload_discard(*, actor: Principal, upload: PendingUpload) -> None:
    require(actor, "register.write")
    locked = PendingUpload.objects.select_for_update().get(pk=upload.pk)
    if locked.status != UploadStatus.PREVIEWED:
        raise Conflict("Tệp này đã được ghi hoặc đã hủy.", code="upload_done")
    locked.status = UploadStatus.DISCARDED
    locked.save(update_fields=["status"])
    for name in (
        locked.file_path,
        locked.preview_path,
        str(Path(locked.file_path).with_suffix(".outcomes.pkl")),
    ):
        if name:
            Path(name).unlink(missing_ok=True)
    log_event(
        actor=actor,
        action="register.excel_discard",
        object_type="PendingUpload",
        object_id=str(locked.pk),
        scope_path=locked.unit.path,
        changes={"status": [UploadStatus.PREVIEWED, UploadStatus.DISCARDED]},
    )


UPLOAD_PREVIEW_TTL_HOURS = 24  # a preview not confirmed within a day expires; its files are removed


def _upload_files(upload: PendingUpload) -> list[str]:
    return [
        name
        for name in (
            upload.file_path,
            upload.preview_path,
            str(Path(upload.file_path).with_suffix(".outcomes.pkl")) if upload.file_path else "",
        )
        if name
    ]


@transaction.atomic
def uploads_expire(
    *, now: datetime | None = None, ttl_hours: int = UPLOAD_PREVIEW_TTL_HOURS
) -> dict[str, int]:
    """Cleanup job (issue 10 item 10): previews older than `ttl_hours` are discarded and their files removed;
    files in the upload folder that no upload refers to (a crash between writing and recording) are removed
    once as old. Error workbooks of committed uploads stay (they are downloaded later). Idempotent."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=ttl_hours)
    expired = list(
        PendingUpload.objects.select_for_update().filter(status=UploadStatus.PREVIEWED, created_at__lt=cutoff)
    )
    for upload in expired:
        for name in _upload_files(upload):
            Path(name).unlink(missing_ok=True)
    if expired:
        PendingUpload.objects.filter(pk__in=[u.pk for u in expired]).update(status=UploadStatus.DISCARDED)
    known: set[str] = set()
    for upload in PendingUpload.objects.exclude(status=UploadStatus.DISCARDED):
        known.update(_upload_files(upload))
        if upload.error_file_path:
            known.add(upload.error_file_path)
    strays = 0
    for path in _upload_dir().iterdir():
        if path.is_file() and str(path) not in known and path.stat().st_mtime < cutoff.timestamp():
            path.unlink(missing_ok=True)
            strays += 1
    if expired or strays:
        log_event(
            actor=None,
            action="register.excel_expire",
            object_type="PendingUpload",
            object_id="*",
            changes={"expired": [0, len(expired)], "stray_files": [0, strays]},
        )
    return {"expired": len(expired), "stray_files": strays}
