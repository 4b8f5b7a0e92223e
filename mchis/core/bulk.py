"""Bulk writes for large loads (demo generator, initial migration): COPY on PostgreSQL, executemany on SQLite.

Rows are tuples in the order of the `provided` columns; every other column gets its model default (or
`now` for auto_now / auto_now_add fields). Callers run inside their service's transaction and write their
own audit entry: this module only moves rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.db import connection, models

from .errors import DomainError


class BulkTable:
    """Insert rows of `model` giving values for `provided` columns; other columns get their default."""

    def __init__(
        self,
        model: type[models.Model],
        provided: Sequence[str],
        now: datetime,
        *,
        stamped: Sequence[str] = (),
    ) -> None:
        """`stamped`: other columns that take `now` too (besides auto_now / auto_now_add fields)."""
        self.model = model
        self.table = model._meta.db_table
        self.pg = connection.vendor == "postgresql"
        fields = [f for f in model._meta.concrete_fields if f.attname in provided or not f.primary_key]
        by_name = {f.attname: f for f in fields}
        missing = [name for name in provided if name not in by_name]
        if missing:
            raise DomainError(f"Mô hình {self.table} không có cột {missing}.")
        extra = [f for f in fields if f.attname not in provided]
        self.columns: list[str] = [str(by_name[n].column) for n in provided] + [str(f.column) for f in extra]
        constants: list[Any] = []
        for f in extra:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) or f.attname in stamped:
                value: Any = now
            else:
                value = f.get_default()
            constants.append(value if self.pg else f.get_db_prep_save(value, connection))
        self.constants = tuple(constants)

    def write(self, rows: Iterable[tuple[Any, ...]], *, pg_cursor: Any = None) -> int:
        """Insert `rows`; on PostgreSQL `pg_cursor` may be a psycopg cursor of the same connection (a writer
        thread cannot use Django's thread-local connection)."""
        count = 0
        cols = ", ".join(connection.ops.quote_name(c) for c in self.columns)
        if self.pg and pg_cursor is not None:
            with pg_cursor.copy(f"COPY {connection.ops.quote_name(self.table)} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row + self.constants)
                    count += 1
            return count
        with connection.cursor() as cursor:
            if self.pg:
                raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
                with raw.copy(f"COPY {connection.ops.quote_name(self.table)} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row + self.constants)
                        count += 1
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                batch = [row + self.constants for row in rows]
                if batch:
                    cursor.executemany(f"INSERT INTO {connection.ops.quote_name(self.table)} ({cols}) VALUES ({marks})", batch)  # noqa: S608  # fmt: skip
                count = len(batch)
        return count


def next_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys of `model` (its sequence on PostgreSQL; after MAX(id) on SQLite).

    On SQLite the caller must insert the rows before asking again (the next MAX(id) counts them); the
    database is single-writer there, so nobody else takes the same numbers in between.
    """
    table = model._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count]
            )
            return [r[0] for r in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        start = int(cursor.fetchone()[0]) + 1
    return list(range(start, start + count))


def day(value: date | None) -> Any:
    """A date as the bulk writer wants it (a date for COPY, ISO text for SQLite)."""
    if connection.vendor == "postgresql" or value is None:
        return value
    return value.isoformat()


def uid(value: str) -> str:
    """A UUID as the bulk writer wants it (canonical text for COPY, 32 hex digits for SQLite)."""
    return value if connection.vendor == "postgresql" else value.replace("-", "")
