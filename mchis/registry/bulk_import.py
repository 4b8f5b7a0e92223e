"""The initial migration at scale (QĐ 3978 Điều 20): streamed rows → checked in chunks → bulk-written.

`services.children_import` is the write (one transaction, audit per commune); this module holds its parts:

- `VillageResolver`: a village name as written in a file → a village of the commune: exact (code, name,
  "Thôn X", folded, leading zeros ignored), else fuzzy (rapidfuzz, numbers must agree), else a new
  *pending* village for the leader to confirm. A village name never makes a file fail.
- `RowChecker`: one row → canonical data (the same pure rules as the web form: `validation.normalise` and
  `validation.validate`) plus issues naming the row and the template column, in Vietnamese.
- `ChunkWriter`: a chunk of good rows → set-based checks in SQL, one indexed lookup per chunk (record numbers
  already imported from this source → skipped; repeated within the file → error naming the first row, from
  a temporary staging table the chunk's record numbers are COPYed into), then bulk inserts (COPY on
  PostgreSQL) of the children, one history row (`ChildVersion`) each, and their circumstance memberships.

Memory stays flat: the file is streamed, a chunk is at most `CHUNK` rows, and the record numbers seen so
far live in a temporary table, not in Python.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from django.db import connection
from rapidfuzz import fuzz, process

from mchis.accounts.permissions import require
from mchis.core.bulk import BulkTable, day, next_ids, uid
from mchis.core.errors import DomainError, PermissionDeniedError
from mchis.core.scoping import within
from mchis.core.text import fold
from mchis.places.models import Level, Village
from mchis.units.models import ReportingUnit
from mchis.units.provinces import province_codes_for

from . import validation
from .importing import FIELD_OF, normalised_row, source_ref
from .models import Child, ChildStatus, ChildVersion, CircumstanceMembership, RequestKind

CHUNK = 5_000
_fold_word = lru_cache(maxsize=65_536)(fold)


def _fold_by_word(text: str) -> str:
    """`fold(text)` a word at a time: a province has a million names but a few thousand distinct words."""
    return " ".join([w for w in map(_fold_word, text.split()) if w])


_fold = lru_cache(maxsize=200_000)(
    _fold_by_word
)  # names repeat a lot: folding is a hot spot at a million rows
SEEN_TABLE = "registry_import_seen"

# Validation field → template column (issues name the column the person typed in).
COLUMN_OF: dict[str, str] = {target: source for source, target in FIELD_OF.items()}
COLUMN_OF.update({"village": "thon", "circumstances": "nhom_hoan_canh", "supports": ""})

# Text columns of the record and their size limits (a too-long value is a row error, never a failed COPY).
_LIMITS: dict[str, int] = {
    f.attname: f.max_length
    for f in Child._meta.concrete_fields
    if f.attname in validation.FIELDS and f.max_length is not None
}


@dataclass(frozen=True)
class ImportIssue:
    row: int
    column: str  # template column key (ma_don_vi, thon, ngay_sinh, …); "" = the whole row
    level: str  # "error": the row is not loaded; "warning": loaded, worth a look
    kind: str  # stable code for the summary (parse, required, village_pending, duplicate_ref, …)
    message: str  # Vietnamese, names the field

    def as_row(self) -> tuple[int, str, str, str, str]:
        level = "lỗi" if self.level == "error" else "cảnh báo"
        return (self.row, self.column, level, self.kind, self.message)


@dataclass
class ImportSummary:
    source: str
    rows: int = 0
    created: int = 0
    skipped: int = 0  # already imported from the same source (same ma_ho_so): re-runs change nothing
    rejected: int = 0
    by_kind: dict[tuple[str, str, str], tuple[int, str]] = field(default_factory=dict)
    created_by_unit: dict[str, int] = field(default_factory=dict)
    skipped_by_unit: dict[str, int] = field(default_factory=dict)
    villages_created: list[str] = field(default_factory=list)

    def count(self, issue: ImportIssue) -> None:
        key = (issue.level, issue.column, issue.kind)
        n, example = self.by_kind.get(key, (0, issue.message))
        self.by_kind[key] = (n + 1, example)


# --- villages -------------------------------------------------------------------------------------

_KIND_WORDS = (
    ("to dan pho", "to_dan_pho"),
    ("tdp", "to_dan_pho"),
    ("thon", "thon"),
    ("ban", "ban"),
    ("ap", "ap"),
    ("khom", "khom"),
    ("xom", "other"),
    ("khu pho", "other"),
    ("khu", "other"),
    ("to", "to_dan_pho"),
    ("doi", "other"),
    ("lang", "other"),
    ("buon", "other"),
    ("plei", "other"),
)
_PUNCT = re.compile(r"[^\w\s]", re.UNICODE)
_NUMBER = re.compile(r"\d+")
FUZZY_CUTOFF = 88.0
FUZZY_MARGIN = 6.0


def village_key(text: str) -> tuple[str, str]:
    """(kind, core) of a village name: "Thôn Đông Hà" → ("thon", "dong ha"); "TDP 05" → ("to_dan_pho", "5")."""
    folded = _PUNCT.sub(" ", fold(text))
    folded = " ".join(folded.split())
    kind = ""
    for words, code in _KIND_WORDS:
        if folded == words:
            break
        if folded.startswith(words + " "):
            kind, folded = code, folded[len(words) + 1 :]
            break
    return kind, _NUMBER.sub(lambda m: str(int(m.group())), folded)


def name_without_kind(text: str) -> str:
    """ "Thôn Nà Phạ" → "Nà Phạ" (the kind is stored apart); a bare "Thôn" stays as it is."""
    words = text.split()
    folded = [fold(_PUNCT.sub("", w)) for w in words]
    for prefix, _ in _KIND_WORDS:
        parts = prefix.split()
        if len(words) > len(parts) and folded[: len(parts)] == parts:
            return " ".join(words[len(parts) :])
    return text


class VillageResolver:
    """Village names of one commune's rows → village ids; unknown names become pending villages."""

    def __init__(self, *, commune: Any, add_pending: Callable[[str, str], Any]) -> None:

        self.commune = commune
        self._add_pending = add_pending
        self._exact: dict[str, int] = {}
        self._kind_core: dict[tuple[str, str], int] = {}
        self._core: dict[str, set[int]] = {}
        self._names: dict[int, str] = {}
        self._memo: dict[str, tuple[int | None, str, str]] = {}
        self._pending: set[int] = set()
        for v in Village.objects.filter(commune_id=commune.pk):
            self._remember(v.pk, str(v), v.kind, v.code, v.name)
            if v.pending:
                self._pending.add(v.pk)

    def _remember(self, pk: int, label: str, kind: str, code: str, *names: str) -> None:
        """Codes match exactly only ("002" is not "Thôn 2"); names also by their folded core."""
        self._names[pk] = label
        self._exact.setdefault(fold(code), pk)
        for text in (*names, label):
            self._exact.setdefault(fold(text), pk)
            written_kind, core = village_key(text)
            if core:
                self._kind_core.setdefault((written_kind or kind, core), pk)
                self._core.setdefault(core, set()).add(pk)

    def resolve(self, text: str) -> tuple[int | None, str, str]:
        """(village id, how, label): how = "" (blank), exact, fuzzy or pending (a village not yet confirmed)."""
        text = validation.nfc_cached(text)  # a commune's rows name the same few villages
        if not text:
            return None, "", ""
        if text in self._memo:
            return self._memo[text]
        pk, how, label = self._resolve(text)
        if pk in self._pending:
            how = "pending"  # every row pointing at an unconfirmed village says so
        self._memo[text] = (pk, how, label)
        return pk, how, label

    def _resolve(self, text: str) -> tuple[int | None, str, str]:
        folded = fold(text)
        pk = self._exact.get(folded)
        kind, core = village_key(text)
        if pk is None and core:
            pk = self._kind_core.get((kind, core)) if kind else None
            if pk is None and len(self._core.get(core, ())) == 1:
                pk = next(iter(self._core[core]))
        if pk is not None:
            return pk, "exact", self._names[pk]
        pk = self._fuzzy(core)
        if pk is not None:
            return pk, "fuzzy", self._names[pk]
        village = self._add_pending(name_without_kind(text), kind or "thon")
        self._remember(village.pk, str(village), village.kind, village.code, village.name, text)
        self._pending.add(village.pk)
        return village.pk, "pending", str(village)

    def _fuzzy(self, core: str) -> int | None:
        """Best fuzzy match of the name part when it is clearly better than the next; numbers must agree."""
        if not core or not self._core:
            return None
        digits = _NUMBER.findall(core)
        choices = [c for c, pks in self._core.items() if len(pks) == 1 and _NUMBER.findall(c) == digits]
        found = process.extract(core, choices, scorer=fuzz.ratio, limit=2)
        if not found or found[0][1] < FUZZY_CUTOFF:
            return None
        if len(found) > 1 and found[0][1] - found[1][1] < FUZZY_MARGIN:
            return None  # two villages about as close: a person decides
        return next(iter(self._core[found[0][0]]))


# --- rows -----------------------------------------------------------------------------------------


@dataclass
class GoodRow:
    row: int
    ref: str
    unit: Any
    data: dict[str, Any]
    warnings: list[ImportIssue]
    # The shard key (ADR 0075), looked up by the checker: the writer thread has no ORM connection of its own.
    province_code: str = ""


class RowChecker:
    """One template row → GoodRow or the issues that keep it out; units and villages are cached."""

    def __init__(
        self,
        *,
        approver: Any,
        unit: Any | None,
        context: validation.Context,
        add_pending: Callable[[Any, str, str], Any],
        before_db: Callable[[], None] = lambda: None,
    ) -> None:
        self.approver = approver
        self.fixed_unit = unit
        self.context = context
        self._add_pending = add_pending
        self._before_db = (
            before_db  # the writer thread must be idle before this thread queries (see ChunkWriter)
        )
        self._units: dict[str, Any] = {}
        self._villages: dict[int, VillageResolver] = {}
        self._provinces: dict[int, str] = {}
        if unit is not None:
            self._check_unit(unit)

    def _check_unit(self, unit: Any) -> None:
        if not within(self.approver, unit.path):
            raise PermissionDeniedError(
                f"Người duyệt '{self.approver.username}' không phải lãnh đạo của đơn vị {unit.code} "
                "hoặc của một đơn vị cấp trên: không ghi dữ liệu nào.",
                field="approved_by",
            )

    def unit_of(self, row: dict[str, Any]) -> tuple[Any | None, ImportIssue | None]:
        if self.fixed_unit is not None:
            return self.fixed_unit, None

        code = str(row.get("ma_don_vi") or "").strip()
        number = row["_row"]
        if not code:
            return None, ImportIssue(
                number, "ma_don_vi", "error", "unit_missing", "Mã đơn vị: bắt buộc khi không chọn --unit."
            )
        if code not in self._units:
            self._before_db()
            found = ReportingUnit.objects.select_related("admin_unit").filter(code=code).first()
            if found is not None:
                self._check_unit(found)
            self._units[code] = found if found is None or keeps_registry(found) else False
        unit = self._units[code]
        if unit is None:
            return None, ImportIssue(
                number, "ma_don_vi", "error", "unit_unknown", f"Mã đơn vị: không có đơn vị mã '{code}'."
            )
        if unit is False:
            return None, ImportIssue(
                number,
                "ma_don_vi",
                "error",
                "unit_not_commune",
                f"Mã đơn vị: '{code}' không phải đơn vị cấp xã quản lý sổ trẻ em (trạm y tế xã).",
            )
        return unit, None

    def _resolver(self, unit: Any) -> VillageResolver:
        resolver = self._villages.get(unit.admin_unit_id)
        if resolver is None:
            self._before_db()
            resolver = VillageResolver(
                commune=unit.admin_unit,
                add_pending=lambda name, kind: self._add_pending(unit.admin_unit, name, kind),
            )
            self._villages[unit.admin_unit_id] = resolver
        return resolver

    def check(self, row: dict[str, Any]) -> GoodRow | list[ImportIssue]:
        number = row["_row"]
        unit, problem = self.unit_of(row)
        if problem is not None:
            return [problem]
        issues: list[ImportIssue] = []
        # The village column is resolved below, after the checks (a refused row adds no pending village).
        data, parse_issues = normalised_row(row)
        found = parse_issues or validation.validate(data, self.context)
        for name, limit in _LIMITS.items():
            value = data.get(name)
            if isinstance(value, str) and len(value) > limit:
                found.append(
                    validation.Issue(
                        "error", name, "too_long", f"{validation.LABELS[name]}: tối đa {limit} ký tự."
                    )
                )
        for issue in found:
            column = COLUMN_OF.get(issue.field, issue.field)
            issues.append(ImportIssue(number, column, issue.level, issue.code, issue.message))
        if any(i.level == "error" for i in issues):
            return issues  # before the village: a refused row never adds a pending village
        written = str(row.get("thon") or "").strip()
        data["village"], how, label = self._resolver(unit).resolve(written)
        if how == "fuzzy":
            issues.append(
                ImportIssue(
                    number,
                    "thon",
                    "warning",
                    "village_fuzzy",
                    f"Thôn/tổ dân phố: '{written}' được hiểu là '{label}'.",
                )  # fmt: skip
            )
        elif how == "pending":
            issues.append(
                ImportIssue(
                    number,
                    "thon",
                    "warning",
                    "village_pending",
                    f"Thôn/tổ dân phố: '{written}' chưa có trong danh sách của xã; ghi vào '{label}' "
                    "(mới thêm, chờ lãnh đạo xác nhận).",
                )  # fmt: skip
            )
        return GoodRow(number, source_ref(row), unit, data, issues, self._province_of(unit))

    def _province_of(self, unit: Any) -> str:
        if unit.pk not in self._provinces:
            self._before_db()
            self._provinces.update(province_codes_for([unit.pk]))
        return self._provinces.get(unit.pk, "")


# --- writing --------------------------------------------------------------------------------------

CHILD_COLUMNS = (
    "id", "public_id", "unit_id", "commune_id",
    *(validation.column_of(name) for name in validation.ROW_FIELDS),
    "name_folded", "guardian_name_folded", "parents_folded", "status", "source", "source_ref", "version",
    "province_code",
)  # fmt: skip
_DATE_FIELD = tuple(validation.FIELDS[name][0] == "date" for name in validation.ROW_FIELDS)
VERSION_COLUMNS = (
    "child_id", "version", "kind", "snapshot", "diff", "proposed_by_id", "proposed_at", "approved_by_id",
    "approved_at", "reason",
)  # fmt: skip
MEMBERSHIP_COLUMNS = ("child_id", "group_code", "subgroup_code", "start_date", "end_date")


def _date(value: str | None) -> Any:
    return day(_iso_day(value)) if value else None


# Dates repeat a lot in a file and `date` objects are immutable: parse each distinct ISO text once.
_iso_day = lru_cache(maxsize=65_536)(date.fromisoformat)
# `json.dumps(..., ensure_ascii=False)` builds a new encoder per call: one encoder, the same output.
_json = json.JSONEncoder(ensure_ascii=False).encode
# How the snapshot shows each field when it is blank (`services.child_snapshot`), in FIELDS order: computed once.
_SNAPSHOT_BLANK: tuple[tuple[str, Any], ...] = tuple(
    (name, None if kind in ("date", "list") or name == "village" else "")
    for name, (kind, _) in validation.FIELDS.items()
)
_LIST_FIELDS = tuple(name for name, (kind, _) in validation.FIELDS.items() if kind == "list")


def snapshot_of(data: dict[str, Any]) -> dict[str, Any]:
    """What `services.child_snapshot` returns for a record created from `data` (canonical, normalised)."""
    snap = {name: data.get(name) or blank for name, blank in _SNAPSHOT_BLANK}
    for name in _LIST_FIELDS:  # a copy of each list (the circumstances by date); the key keeps its place
        snap[name] = list(data.get(name) or [])
    snap["circumstances"].sort(key=lambda m: (m["start_date"], m["group_code"]))
    snap["status"] = ChildStatus.ACTIVE.value
    snap["merged_into"] = None
    return snap


class ChunkWriter:
    """A staging table for set-based checks, then bulk inserts; one instance per import run."""

    def __init__(self, *, source: str, approver: Any, reason: str, now: datetime) -> None:
        self.source = source
        self.approver = approver
        self.reason = reason
        self.now = now
        self.pg = connection.vendor == "postgresql"
        # On PostgreSQL `write` may run in a writer thread (services.children_import): it then uses the
        # psycopg connection under Django's (same session, same transaction), never Django's thread-local
        # `connection`, which would open another session outside the transaction.
        connection.ensure_connection()
        self.raw = connection.connection if self.pg else None
        self.children = BulkTable(Child, CHILD_COLUMNS, now)
        self.versions = BulkTable(ChildVersion, VERSION_COLUMNS, now)
        self.memberships = BulkTable(CircumstanceMembership, MEMBERSHIP_COLUMNS, now)
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {SEEN_TABLE}")
            cursor.execute(
                f"CREATE TEMPORARY TABLE {SEEN_TABLE} (ref varchar(64) PRIMARY KEY, row_no integer NOT NULL)"
            )
            self.foreign_keys = self._deferred_foreign_keys(cursor) if self.pg else ""

    @staticmethod
    def _deferred_foreign_keys(cursor: Any) -> str:
        """The deferred foreign keys of the written tables, for `SET CONSTRAINTS`.

        They are checked at the end of each chunk's statements instead of at COMMIT: the same checks, but the
        backend never queues a whole file's worth of them (decision 0080: its peak RSS 261 → 170 MB for a
        million rows, flat with the file's size). A violation fails the run at its chunk, and the run is one
        transaction: nothing is written.
        """
        tables = [Child._meta.db_table, ChildVersion._meta.db_table, CircumstanceMembership._meta.db_table]
        cursor.execute(
            "SELECT string_agg(quote_ident(conname), ', ' ORDER BY conname) FROM pg_constraint "
            "WHERE contype = 'f' AND condeferrable AND condeferred AND conrelid = ANY(%s::regclass[])",
            [tables],
        )
        return cursor.fetchone()[0] or ""

    def close(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE IF EXISTS {SEEN_TABLE}")

    def _any(self, column: str, values: list[str]) -> tuple[str, list[Any]]:
        """`column` is one of `values`, as an index lookup per value (never a hash join over the table).

        A join against a staging table made the planner (with no statistics on rows loaded a moment ago)
        hash the whole source on every chunk: quadratic over a million rows.
        """
        if self.pg:
            return f"{column} = ANY(%s)", [values]
        return f"{column} IN ({', '.join(['%s'] * len(values))})", list(values)

    def _cursor(self) -> Any:
        return self.raw.cursor() if self.raw is not None else connection.cursor()

    def _remember(self, cursor: Any, rows: list[tuple[str, int]]) -> None:
        """Staging table of the record numbers met so far in the file (COPY on PostgreSQL)."""
        if not rows:
            return
        if self.pg:
            with cursor.copy(f"COPY {SEEN_TABLE} (ref, row_no) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(f"INSERT INTO {SEEN_TABLE} (ref, row_no) VALUES (%s, %s)", rows)  # noqa: S608

    def write(self, good: list[GoodRow]) -> tuple[list[GoodRow], list[GoodRow], list[ImportIssue]]:
        """(created, skipped as already imported, issues): set-based checks, then the bulk insert."""
        issues: list[ImportIssue] = []
        first_in_chunk: dict[str, int] = {}
        unique: list[GoodRow] = []
        for g in good:
            if g.ref in first_in_chunk:
                issues.append(self._duplicate(g, first_in_chunk[g.ref]))
            else:
                first_in_chunk[g.ref] = g.row
                unique.append(g)
        refs = [g.ref for g in unique]
        seen: dict[str, int] = {}
        loaded: set[str] = set()
        with self._cursor() as cursor:
            if refs:
                where, params = self._any("ref", refs)
                cursor.execute(f"SELECT ref, row_no FROM {SEEN_TABLE} WHERE {where}", params)  # noqa: S608
                seen = dict(cursor.fetchall())
                where, params = self._any("source_ref", refs)
                cursor.execute(
                    f"SELECT source_ref FROM {Child._meta.db_table} WHERE source = %s AND {where}",  # noqa: S608
                    [self.source, *params],
                )
                loaded = {r[0] for r in cursor.fetchall()}
            self._remember(cursor, [(g.ref, g.row) for g in unique if g.ref not in seen])
            fresh: list[GoodRow] = []
            skipped: list[GoodRow] = []
            for g in unique:
                if g.ref in seen:
                    issues.append(self._duplicate(g, seen[g.ref]))
                elif g.ref in loaded:
                    skipped.append(g)
                else:
                    fresh.append(g)
            self._insert(cursor, fresh)
        return fresh, skipped, issues

    def _duplicate(self, g: GoodRow, first: int) -> ImportIssue:
        return ImportIssue(
            g.row, "ma_ho_so", "error", "duplicate_ref",
            f"Mã hồ sơ nguồn: '{g.ref}' trùng với dòng {first}; dòng này không được nhập.",
        )  # fmt: skip

    def _insert(self, cursor: Any, rows: list[GoodRow]) -> None:
        if not rows:
            return
        if self.pg:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                [Child._meta.db_table, len(rows)],
            )
            ids = [r[0] for r in cursor.fetchall()]
        else:
            ids = next_ids(Child, len(rows))
        active = ChildStatus.ACTIVE.value
        # `day`/`uid` ask the connection's vendor on every call: decide once per chunk (same values).
        as_day = _iso_day if self.pg else (lambda text: day(_iso_day(text)))
        as_uid = str if self.pg else (lambda u: uid(str(u)))
        row_fields = tuple(zip(validation.ROW_FIELDS, _DATE_FIELD, strict=True))

        def child_rows() -> Iterable[tuple[Any, ...]]:
            for pk, g in zip(ids, rows, strict=True):
                d = g.data
                fields = [
                    (as_day(d[name]) if d[name] else None) if is_date else d[name]
                    for name, is_date in row_fields
                ]
                yield (
                    pk, as_uid(uuid.uuid4()), g.unit.pk, g.unit.admin_unit_id, *fields,
                    _fold(d["full_name"]), _fold(d["guardian_name"]),
                    " | ".join(p for p in (_fold(d["father_name"]), _fold(d["mother_name"])) if p),
                    active, self.source, g.ref, 1, g.province_code,
                )  # fmt: skip

        approver = self.approver.pk
        now = self.now if self.pg else connection.ops.adapt_datetimefield_value(self.now)

        def version_rows() -> Iterable[tuple[Any, ...]]:
            for pk, g in zip(ids, rows, strict=True):
                yield (
                    pk, 1, RequestKind.CREATE.value,
                    _json(snapshot_of(g.data)), _json(validation.creation_diff(g.data)),
                    approver, now, approver, now, f"{self.reason}, dòng {g.row}",
                )  # fmt: skip

        def membership_rows() -> Iterable[tuple[Any, ...]]:
            for pk, g in zip(ids, rows, strict=True):
                for m in g.data.get("circumstances") or []:
                    yield (
                        pk,
                        m["group_code"],
                        m["subgroup_code"],
                        _date(m["start_date"]),
                        _date(m["end_date"]),
                    )

        pg_cursor = cursor if self.pg else None
        if self.foreign_keys:
            cursor.execute(f"SET CONSTRAINTS {self.foreign_keys} IMMEDIATE")
        self.children.write(child_rows(), pg_cursor=pg_cursor)
        self.versions.write(version_rows(), pg_cursor=pg_cursor)
        self.memberships.write(membership_rows(), pg_cursor=pg_cursor)
        if self.foreign_keys:
            cursor.execute(f"SET CONSTRAINTS {self.foreign_keys} DEFERRED")


REGISTRY_UNIT_KINDS = frozenset({"tyt", "child_protection", "ubnd_xa"})


def keeps_registry(unit: Any) -> bool:
    """Does this unit keep a commune's child registry (TYT xã, child-protection facility, UBND xã)?"""

    admin = unit.admin_unit
    return unit.kind in REGISTRY_UNIT_KINDS and admin is not None and admin.level == Level.COMMUNE


def check_approver(approver: Any, *, unit: Any | None) -> None:
    """An active leader; with `unit`, of that unit or above it (per-row units are checked as they come)."""

    require(approver, "child.approve")
    if unit is not None and not keeps_registry(unit):
        raise DomainError(
            f"Đơn vị {unit.code} không phải đơn vị cấp xã quản lý sổ trẻ em (trạm y tế xã).", field="unit"
        )
