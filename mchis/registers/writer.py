"""Writing register rows fast: one statement per chunk, sorted by key so concurrent batches lock rows in the
same order and never deadlock or duplicate.

PostgreSQL: COPY into a session temp table, then one INSERT … ON CONFLICT DO UPDATE … RETURNING (plain attribute
rows, not model instances: Model.__init__ is the slowest part of a batch). Other databases: Django's
bulk_create(update_conflicts=True). Newborns are replaced whole under their locked delivery rows; every record
with a personal ID is linked to its Person (created when new).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from operator import itemgetter
from types import SimpleNamespace
from typing import Any

from django.db import connection
from django.utils import timezone

from mchis.units.provinces import province_codes_for

from .models import Newborn, Person
from .validation import Outcome

WRITE_CHUNK = 1000
# the registers' unique key (ADR 0075): with the province (the partition key), which the facility fixes
KEY_FIELDS = ("facility", "source_system", "source_record_id", "province_code")
_KEY_COLUMNS = ("facility_id", "source_system", "source_record_id", "province_code")


def existing_rows(
    model: Any, keys: set[tuple[int, str, str]], *, lock: bool, extra: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Stored rows with these (facility, source system, record id) keys; locked in key order when writing, so
    concurrent batches on the same records queue instead of racing. PostgreSQL: one probe of the unique index
    per key (a LATERAL sub-query over the unnested, sorted key arrays), whatever the table size; the
    facilities' provinces are named (`province_code = ANY(…)`) so a partitioned register reads only their
    partitions (ADR 0075).

    Why LATERAL and not a join: with a plain join the planner chose by the partition's statistics, and a
    province partition that filled faster than autovacuum analysed it (a new deployment, a month-start burst)
    was estimated at a few dozen rows, so it hashed the whole partition: 217 ms a batch at 145,000 rows,
    growing with the table, against 12 ms for 1,000 index probes (issue 20). A LATERAL sub-query can only be
    probed per key; the rows are locked in the keys' order (the function scan drives the loop)."""
    names = [
        "id",
        "facility_id",
        "source_system",
        "source_record_id",
        "month",
        "row_hash",
        "voided_at",
        *extra,
    ]
    if not keys:
        return []
    if connection.vendor == "postgresql":
        table = model._meta.db_table
        provinces = province_codes_for({k[0] for k in keys})
        sql = (
            f"SELECT {', '.join('t.' + n for n in names)} "  # noqa: S608 - identifiers from the model
            "FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::text[]) WITH ORDINALITY AS k(p, f, s, r, o) "
            f"CROSS JOIN LATERAL (SELECT {', '.join(names)} FROM {table} t "
            "WHERE t.province_code = k.p AND t.facility_id = k.f AND t.source_system = k.s "
            "AND t.source_record_id = k.r AND t.province_code = ANY(%s::text[])"
            + (" FOR UPDATE OF t" if lock else "")
            + ") t ORDER BY k.o"
        )
        ordered = sorted(keys)
        with connection.cursor() as cursor:
            cursor.execute(
                sql,
                [
                    [provinces.get(k[0], "") for k in ordered],
                    [k[0] for k in ordered],
                    [k[1] for k in ordered],
                    [k[2] for k in ordered],
                    sorted({provinces.get(k[0], "") for k in ordered}),
                ],
            )
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    facility_ids = {k[0] for k in keys}
    qs = model.objects.filter(facility_id__in=facility_ids, source_record_id__in={k[2] for k in keys})
    if lock:
        qs = qs.select_for_update().order_by("facility_id", "source_system", "source_record_id")
    return [
        row
        for row in qs.values(*names)
        if (row["facility_id"], row["source_system"], row["source_record_id"]) in keys
    ]


def writable_fields(model: Any) -> list[str]:
    skip = {"id", "facility", "source_system", "source_record_id", "created_at"}
    return [f.name for f in model._meta.concrete_fields if f.name not in skip]


def upsert_rows(model: Any, cleans: list[dict[str, Any]]) -> list[Any]:
    """Insert or update these clean records (already sorted by key); returns the written rows with their pk."""
    fields = writable_fields(model)
    accepted = {getattr(model._meta.get_field(f), "attname", f) for f in fields} | set(_KEY_COLUMNS)
    provinces = province_codes_for({clean["facility_id"] for clean in cleans})
    for clean in cleans:
        clean["province_code"] = provinces.get(clean["facility_id"], "")
    if connection.vendor == "postgresql":
        defaults = _model_defaults(model)
        # the COPY rows take only the columns (`_layout`), the other keys of a clean record are never read:
        # no per-key filtering here
        datas = [{**defaults, **clean} for clean in cleans]
        objs: list[Any] = [SimpleNamespace(**data, pk=None) for data in datas]
        _pg_upsert(model, objs, datas)
    else:
        objs = [model(**{k: v for k, v in clean.items() if k in accepted}) for clean in cleans]
        chunk = max(1, min(WRITE_CHUNK, 30_000 // (len(fields) + 3)))
        for start in range(0, len(objs), chunk):
            model.objects.bulk_create(
                objs[start : start + chunk],
                update_conflicts=True,
                unique_fields=list(KEY_FIELDS),
                update_fields=fields,
            )
    if any(obj.pk is None for obj in objs):  # backends that do not return ids on upsert
        by_key = {(o.facility_id, o.source_system, o.source_record_id): o for o in objs}
        for pk, fid, src, rid in model.objects.filter(
            facility_id__in={o.facility_id for o in objs},
            source_record_id__in=[o.source_record_id for o in objs],
        ).values_list("id", "facility_id", "source_system", "source_record_id"):
            if (fid, src, rid) in by_key:
                by_key[(fid, src, rid)].pk = pk
    return objs


def link_persons(cleans: list[dict[str, Any]]) -> None:
    """Attach (creating when new) the Person of every record that carries a personal ID."""
    pids = {c["personal_id"] for c in cleans if c.get("personal_id")}
    if not pids:
        for c in cleans:
            c["person_id"] = None
        return
    known = dict(Person.objects.filter(personal_id__in=pids).values_list("personal_id", "id"))
    missing = [
        Person(
            personal_id=c["personal_id"],
            full_name=c.get("full_name", ""),
            full_name_folded=c.get("full_name_folded", ""),
            dob=c.get("dob"),
            sex=c.get("sex") or "U",
            ethnicity_code=c.get("ethnicity_code", ""),
        )
        for c in {
            c["personal_id"]: c for c in cleans if c.get("personal_id") and c["personal_id"] not in known
        }.values()
    ]
    if missing:
        Person.objects.bulk_create(missing, ignore_conflicts=True)
        known = dict(Person.objects.filter(personal_id__in=pids).values_list("personal_id", "id"))
    for c in cleans:
        c["person_id"] = known.get(c.get("personal_id") or "")


def write_newborns(deliveries: list[Any], outcomes: list[Outcome]) -> None:
    ids = [d.pk for d in deliveries]
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM registers_newborn WHERE delivery_id = ANY(%s)", [ids])
    else:
        Newborn.objects.filter(delivery_id__in=ids).delete()
    nb_cleans = [nb for o in outcomes for nb in o.newborns]
    link_persons(nb_cleans)
    pairs = [(d, nb) for d, outcome in zip(deliveries, outcomes, strict=True) for nb in outcome.newborns]

    def common(d: Any) -> dict[str, Any]:
        return {"delivery_id": d.pk, "facility_id": d.facility_id, "month": d.month, "event_date": d.event_date,
                "place": d.place, "province_code": d.province_code}  # fmt: skip

    if connection.vendor == "postgresql":
        defaults = _model_defaults(Newborn)
        _pg_copy(Newborn, [{**defaults, **common(d), **nb} for d, nb in pairs])
    else:
        Newborn.objects.bulk_create([Newborn(**common(d), **nb) for d, nb in pairs], batch_size=WRITE_CHUNK)


_STAMPS = ("created_at", "updated_at")  # written as the batch's `now`


@lru_cache(maxsize=32)
def _layout(model: Any) -> tuple[list[str], Any, int]:
    """The COPY column order (the timestamps last), a getter of the other columns' values from a row dict (by
    attribute name, in C: building rows attribute by attribute was a tenth of a batch, issue 20), and how many
    timestamps follow."""
    fields = [f for f in model._meta.concrete_fields if f.column != "id"]
    plain = [f for f in fields if f.column not in _STAMPS]
    stamps = [f for f in fields if f.column in _STAMPS]
    getter = itemgetter(*[f.attname for f in plain])
    return [f.column for f in plain] + [f.column for f in stamps], getter, len(stamps)


def _rows(model: Any, datas: list[dict[str, Any]], now: Any) -> tuple[list[str], Any]:
    """(columns, rows) of these row dicts (every attribute name present, as `_model_defaults` fills them)."""
    columns, getter, stamps = _layout(model)
    tail = (now,) * stamps
    if len(columns) - stamps == 1:  # itemgetter of one name gives the value, not a tuple
        return columns, ((getter(data),) + tail for data in datas)
    return columns, (getter(data) + tail for data in datas)


@lru_cache(maxsize=32)
def _model_defaults(model: Any) -> dict[str, Any]:
    return {f.attname: f.get_default() for f in model._meta.concrete_fields if f.attname != "id"}


def _pg_copy(model: Any, datas: list[dict[str, Any]]) -> None:
    """Plain insert through COPY (newborn rows, whose delivery rows are locked by the caller)."""
    if not datas:
        return
    columns, rows = _rows(model, datas, timezone.now())
    with connection.cursor() as cursor:
        raw = cursor.cursor
        table = model._meta.db_table
        with raw.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)


def _pg_upsert(model: Any, objs: list[Any], datas: list[dict[str, Any]]) -> None:
    """PostgreSQL fast path: COPY into a session temp table, then one INSERT … ON CONFLICT DO UPDATE in key
    order (row locks taken in the same order by every batch: no deadlocks); sets obj.pk from RETURNING.
    `datas`: the objects' attributes as dicts (the COPY rows are read from them)."""
    if not objs:
        return
    columns, rows = _rows(model, datas, timezone.now())
    table = model._meta.db_table
    digest = hashlib.sha1(",".join(columns).encode(), usedforsecurity=False).hexdigest()[:8]
    temp = f"tmp_{table}_{digest}"
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in columns if c not in _KEY_COLUMNS and c != "created_at")
    col_list = ", ".join(columns)
    with connection.cursor() as cursor:
        create = (
            f"CREATE TEMP TABLE IF NOT EXISTS {temp} ON COMMIT DELETE ROWS AS SELECT {col_list} FROM {table} "  # noqa: S608
        )
        cursor.execute(create + "WITH NO DATA")  # identifiers from the model
        cursor.execute(f"TRUNCATE {temp}")
        raw = cursor.cursor
        with raw.copy(f"COPY {temp} ({col_list}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        cursor.execute(  # identifiers come from the model, values travel through COPY
            f"INSERT INTO {table} ({col_list}) SELECT {col_list} FROM {temp} "  # noqa: S608
            f"ORDER BY facility_id, source_system, source_record_id "
            f"ON CONFLICT ({', '.join(_KEY_COLUMNS)}) DO UPDATE SET {updates} "
            f"RETURNING id, facility_id, source_system, source_record_id"
        )
        ids = {(fid, src, rid): pk for pk, fid, src, rid in cursor.fetchall()}
    for obj in objs:
        obj.pk = ids.get((obj.facility_id, obj.source_system, obj.source_record_id))
