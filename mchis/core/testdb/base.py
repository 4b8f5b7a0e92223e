"""The test suite's PostgreSQL backend: Django's, except how a transactional test empties the database.

Why: Django flushes after every transactional and browser test with one `TRUNCATE` of every table. Ours cascade
into the partitioned registers (6 × 36 partitions and their indexes), so each flush recreated some two thousand
files: 2.6–3.1 s, ~50 flushes a run. Test data is a few rows per table, so `DELETE` is far cheaper. Every foreign
key is deferrable (Django creates them so; `tests/test_testdb.py` checks it), so the order of the statements
does not matter inside the flush's transaction.

Tables guarded by our triggers (the append-only audit log, signed audit campaigns) refuse `DELETE` even in
tests; they, and every table referring to them, are emptied by one `TRUNCATE` as before (none is partitioned),
which the audit log's trigger lets through for the test suite's connections (`mchis.test_purge`).
"""

from __future__ import annotations

from typing import Any

from django.db.backends.postgresql import base, operations

# Tables with a trigger of ours, and every table whose foreign keys lead to one (TRUNCATE needs them all).
GUARDED_TABLES = """
WITH RECURSIVE guarded(rel) AS (
    SELECT tgrelid FROM pg_trigger WHERE NOT tgisinternal
    UNION
    SELECT c.conrelid FROM pg_constraint c JOIN guarded g ON c.confrelid = g.rel WHERE c.contype = 'f'
)
SELECT relname FROM pg_class WHERE oid IN (SELECT rel FROM guarded) AND NOT relispartition
"""


class DatabaseOperations(operations.DatabaseOperations):
    _guarded: frozenset[str] | None = None

    def sql_flush(
        self, style: Any, tables: Any, *, reset_sequences: bool = False, allow_cascade: bool = False
    ) -> list[str]:
        if not tables or reset_sequences:  # a test asking for fresh sequences gets Django's TRUNCATE
            return list(
                super().sql_flush(style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade)
            )
        if self._guarded is None:
            with self.connection.cursor() as cursor:
                cursor.execute(GUARDED_TABLES)
                self._guarded = frozenset(name for (name,) in cursor.fetchall())
        truncated = [table for table in tables if table in self._guarded]
        deleted = [table for table in tables if table not in self._guarded]
        return (
            ["SET CONSTRAINTS ALL DEFERRED;"]
            + list(super().sql_flush(style, truncated, allow_cascade=allow_cascade))
            + [f"{style.SQL_KEYWORD('DELETE FROM')} {style.SQL_FIELD(self.quote_name(t))};" for t in deleted]
        )


class DatabaseWrapper(base.DatabaseWrapper):
    ops_class = DatabaseOperations
