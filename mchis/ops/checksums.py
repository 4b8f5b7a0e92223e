"""Row counts and content checksums per table, identical for a database and a faithful copy of it.

Used by the backups (recorded in the manifest at the snapshot) and the restore drill (recomputed on the
restored copy and compared). Works on any DB-API cursor, so it runs on a scratch instance that Django does
not know about.
"""

from __future__ import annotations

import hashlib
from typing import Any

TableSums = dict[str, list[Any]]  # table -> [row count, sha/md5 of the rows]


def table_names(cursor: Any, vendor: str) -> list[str]:
    if vendor == "postgresql":
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
    else:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    return [row[0] for row in cursor.fetchall()]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_checksums(cursor: Any, vendor: str) -> TableSums:
    """{table: [count, checksum]} for every table (Django's and the migration history included)."""
    sums: TableSums = {}
    for table in table_names(cursor, vendor):
        q = _quote(table)
        if vendor == "postgresql":
            # md5 of each row's text form, aggregated in a fixed order: independent of physical order.
            cursor.execute(
                f"SELECT count(*), coalesce(md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))), '') "  # noqa: S608
                f"FROM {q} t"
            )
            count, digest = cursor.fetchone()
            sums[table] = [int(count), digest]
        else:
            digest_obj = hashlib.sha256()
            count = 0
            cursor.execute(f"SELECT * FROM {q} ORDER BY rowid")  # noqa: S608 - names from the catalog
            for row in cursor.fetchall():
                digest_obj.update(repr(row).encode("utf-8"))
                count += 1
            sums[table] = [count, digest_obj.hexdigest()]
    return sums


def compare(expected: TableSums, actual: TableSums) -> list[dict[str, Any]]:
    """One line per table: what the source had, what the copy has, whether they match."""
    lines = []
    for table in sorted(set(expected) | set(actual)):
        exp = expected.get(table)
        act = actual.get(table)
        lines.append(
            {
                "table": table,
                "expected_rows": exp[0] if exp else None,
                "actual_rows": act[0] if act else None,
                "match": exp is not None and act is not None and list(exp) == list(act),
            }
        )
    return lines


def sha256_file(path: Any, chunk: int = 1024 * 1024) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
