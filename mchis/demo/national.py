"""The national dataset at full size (issue 20): multiply a generated base inside PostgreSQL, set-based.

`generate_demo --province all` writes realistic children and registers through Python (~1,000 children/s on
this machine): 10 M would take hours. Here a base of N children (every province, every commune, a year of all
seven registers) is copied K times with INSERT … SELECT, one transaction per copy, no Python per row. Each copy:

* new primary keys (`id + k × base max id`, so the copies of a delivery's newborns, a child's circumstance
  memberships and supports follow their parent by arithmetic), new public UUIDs (md5 of seed, copy, old UUID);
* new unique identifiers: `source_ref` / `source_record_id` + `~k` (the unique keys `child_unique_source_ref`
  and `<register>_source_unique`); personal IDs keep their first 6 digits (birth-registration province, century
  and sex, year of birth: R-CH-08's format and what `personal_id.check` decodes) and get the last 6 through
  a bijection per copy (`7x + k·123457 mod 10⁶`), the same function everywhere so a woman's ID in the ANC
  register, her child's `mother_personal_id` and the `Person` row agree; `Person.personal_id` is unique
  (`ON CONFLICT DO NOTHING`: two women whose mapped IDs collide share a Person, as the writer would link them);
* names recombined: the family name stays, the middle and given names come from the base's pool of
  "middle + given" of the same sex, picked by a hash of (name, copy, seed) — the same person gets the same new
  name in every register and in the child's parents; folded columns (`name_folded`, `parents_folded`,
  `guardian_name_folded`, `full_name_folded`) are the folded family name + the pool's folded part, which is what
  `core.text.fold` gives for the joined name (it folds character by character);
* the same unit, commune, village and facility as the base row (so `province_code` and the distribution by
  province and commune are the base's exactly), the same register dates and months (so the derived columns —
  ages, z-scores, adolescent, trimester… — stay right, and the analytics dirty unit-months of the base already
  cover the copies); the children's dates of birth move by −14…+14 days inside their year (the personal ID
  holds the year), never past today;
* `row_hash` = "" (the fingerprint of the canonical payload, which the copies changed: a re-sent copy is an
  update, not "unchanged"); created/updated now.

Not copied: the outbox and the audit log (one audit entry for the run), which no hot query reads.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Model

from mchis.core.errors import DomainError
from mchis.registers.models import (
    Abortion,
    AncVisit,
    ChildExam,
    Contraception,
    Death,
    Delivery,
    GynExam,
    Newborn,
    Person,
)
from mchis.registry.models import Child, CircumstanceMembership, SupportReceived

REGISTERS: tuple[type[Model], ...] = (AncVisit, Delivery, Abortion, GynExam, Contraception, ChildExam, Death)
# Tables whose secondary indexes are dropped during the copy and rebuilt after (constraint indexes stay: they
# guard the unique keys and Person's ON CONFLICT).
BULK_TABLES: tuple[type[Model], ...] = (
    Child, CircumstanceMembership, SupportReceived, Person, *REGISTERS, Newborn,
)  # fmt: skip
STATE_TABLE = "demo_national_state"
INDEX_TABLE = "demo_national_index"
ID_MULTIPLIER = 7
ID_STRIDE = 123457


@dataclass
class NationalReport:
    base_children: int
    copies_before: int
    copies_done: int = 0
    children: int = 0
    steps: list[tuple[str, float, int]] = field(default_factory=list)  # (label, seconds, rows)


def _q(sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else []


def _exec(sql: str, params: list[Any] | None = None) -> int:
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return int(cur.rowcount)


def _table(model: type[Model]) -> str:
    return model._meta.db_table


def _columns(model: type[Model]) -> list[str]:
    return [str(f.column) for f in model._meta.concrete_fields]


def check_postgresql() -> None:
    if connection.vendor != "postgresql":
        raise DomainError(
            "generate_national chỉ chạy trên PostgreSQL (nhân bản dữ liệu bằng SQL theo tập hợp); cơ sở dữ "
            f"liệu hiện tại là {connection.vendor}. Dùng generate_demo cho SQLite.",
            field="database",
        )


# --- SQL building blocks ------------------------------------------------------------------------------


def pid_sql(col: str, k: int) -> str:
    """Copy k's personal ID: first 6 digits kept, last 6 through a bijection of 0..999999 (per copy)."""
    return (
        f"CASE WHEN {col} ~ '^[0-9]{{12}}$' THEN left({col}, 6) || lpad((((right({col}, 6)::int::bigint * "
        f"{ID_MULTIPLIER}) + {k * ID_STRIDE}) % 1000000)::text, 6, '0') ELSE {col} END"
    )


@dataclass(frozen=True)
class Pool:
    males: int
    females: int


class NameMap:
    """A joined pool row per mapped name: new display name and new folded name."""

    def __init__(self, pool: Pool, k: int, seed: int) -> None:
        self.pool, self.salt = pool, f":{k}:{seed}"
        self.joins: list[str] = []

    def add(self, alias: str, name: str, sex: str) -> None:
        """`name`: the display-name expression; `sex`: an SQL expression giving 'M' or 'F'."""
        key = f"(hashtext({name} || '{self.salt}')::bigint + 2147483648)"
        n = f"(CASE WHEN {sex} = 'M' THEN {self.pool.males} ELSE {self.pool.females} END)"
        self.joins.append(
            f"LEFT JOIN {STATE_TABLE}_pool {alias} ON {alias}.sex = {sex} AND {alias}.idx = {key} % {n}"
        )

    @staticmethod
    def name(alias: str, name: str) -> str:
        return (
            f"(CASE WHEN {alias}.rest IS NULL OR strpos({name}, ' ') = 0 THEN {name} "
            f"ELSE split_part({name}, ' ', 1) || ' ' || {alias}.rest END)"
        )

    @staticmethod
    def folded(alias: str, name: str, folded: str) -> str:
        return (
            f"(CASE WHEN {alias}.rest IS NULL OR strpos({name}, ' ') = 0 THEN {folded} "
            f"ELSE split_part({folded}, ' ', 1) || ' ' || {alias}.rest_folded END)"
        )


def _sex(col: str) -> str:
    return f"(CASE WHEN {col} = 'M' THEN 'M' ELSE 'F' END)"


def _insert(model: type[Model], overrides: dict[str, str], joins: list[str], where: str) -> str:
    cols = _columns(model)
    select = ", ".join(overrides.get(c, f"t.{c}") for c in cols)
    return (
        f"INSERT INTO {_table(model)} ({', '.join(cols)}) SELECT {select} FROM {_table(model)} t "  # noqa: S608
        + " ".join(joins)
        + f" WHERE {where}"
    )


def child_copy_sql(k: int, seed: int, span: int, base_max: int, pool: Pool) -> str:
    names = NameMap(pool, k, seed)
    names.add("pc", "t.full_name", _sex("t.sex"))
    names.add("pf", "t.father_name", "'M'")
    names.add("pm", "t.mother_name", "'F'")
    father_f = "(CASE WHEN t.father_name = '' THEN '' ELSE split_part(t.parents_folded, ' | ', 1) END)"
    mother_f = (
        "(CASE WHEN t.mother_name = '' THEN '' WHEN t.father_name = '' THEN t.parents_folded "
        "ELSE split_part(t.parents_folded, ' | ', 2) END)"
    )
    father, mother = NameMap.name("pf", "t.father_name"), NameMap.name("pm", "t.mother_name")
    father_new_f = NameMap.folded("pf", "t.father_name", father_f)
    mother_new_f = NameMap.folded("pm", "t.mother_name", mother_f)
    shift = f"((((t.id + {k * 53}) % 29) - 14)::int)"
    dob = (
        f"GREATEST(date_trunc('year', t.date_of_birth)::date, LEAST(t.date_of_birth + {shift}, "
        "(date_trunc('year', t.date_of_birth) + interval '1 year - 1 day')::date, current_date))"
    )
    overrides = {
        "id": f"t.id + {k * span}",
        "public_id": f"md5('{seed}:{k}:' || t.public_id::text)::uuid",
        "full_name": NameMap.name("pc", "t.full_name"),
        "name_folded": NameMap.folded("pc", "t.full_name", "t.name_folded"),
        "date_of_birth": dob,
        "personal_id": pid_sql("t.personal_id", k),
        "father_name": father,
        "mother_name": mother,
        "father_personal_id": pid_sql("t.father_personal_id", k),
        "mother_personal_id": pid_sql("t.mother_personal_id", k),
        "guardian_personal_id": pid_sql("t.guardian_personal_id", k),
        "guardian_name": (
            f"(CASE WHEN t.guardian_name = '' THEN '' WHEN t.guardian_name = t.father_name THEN {father} "
            f"WHEN t.guardian_name = t.mother_name THEN {mother} ELSE t.guardian_name END)"
        ),
        "guardian_name_folded": (
            f"(CASE WHEN t.guardian_name = '' THEN '' WHEN t.guardian_name = t.father_name THEN {father_new_f} "
            f"WHEN t.guardian_name = t.mother_name THEN {mother_new_f} ELSE t.guardian_name_folded END)"
        ),
        "parents_folded": f"concat_ws(' | ', NULLIF({father_new_f}, ''), NULLIF({mother_new_f}, ''))",
        "merged_into_id": f"t.merged_into_id + {k * span}",
        "source_ref": f"t.source_ref || '~{k}'",
        "created_at": "now()",
        "updated_at": "now()",
    }
    return _insert(Child, overrides, names.joins, f"t.id <= {base_max}")


def child_rows_copy_sql(model: type[Model], k: int, span: int, base_max: int) -> str:
    cols = [c for c in _columns(model) if c != "id"]
    select = ", ".join(f"t.child_id + {k * span}" if c == "child_id" else f"t.{c}" for c in cols)
    return (
        f"INSERT INTO {_table(model)} ({', '.join(cols)}) SELECT {select} FROM {_table(model)} t "  # noqa: S608
        f"WHERE t.child_id <= {base_max}"
    )


def person_copy_sql(k: int, seed: int, base_max: int, pool: Pool) -> str:
    names = NameMap(pool, k, seed)
    names.add("pp", "t.full_name", _sex("t.sex"))
    cols = [c for c in _columns(Person) if c != "id"]
    overrides = {
        "personal_id": pid_sql("t.personal_id", k),
        "full_name": NameMap.name("pp", "t.full_name"),
        "full_name_folded": NameMap.folded("pp", "t.full_name", "t.full_name_folded"),
        "created_at": "now()",
        "updated_at": "now()",
    }
    select = ", ".join(overrides.get(c, f"t.{c}") for c in cols)
    return (
        f"INSERT INTO {_table(Person)} ({', '.join(cols)}) SELECT {select} FROM {_table(Person)} t "  # noqa: S608
        + " ".join(names.joins)
        + f" WHERE t.id <= {base_max} AND t.personal_id ~ '^[0-9]{{12}}$' ON CONFLICT (personal_id) DO NOTHING"
    )


def register_copy_sql(
    model: type[Model], k: int, seed: int, span: int, base_max: int, pool: Pool, delivery_span: int = 0
) -> str:
    names = NameMap(pool, k, seed)
    names.add("pn", "t.full_name", _sex("t.sex"))
    new_pid = pid_sql("t.personal_id", k)
    joins = [
        *names.joins,
        f"LEFT JOIN {_table(Person)} np ON np.personal_id = {new_pid} AND t.person_id IS NOT NULL",
    ]
    overrides = {
        "full_name": NameMap.name("pn", "t.full_name"),
        "personal_id": new_pid,
        "person_id": "np.id",
    }
    if model is Newborn:
        overrides["delivery_id"] = f"t.delivery_id + {k * delivery_span}"
        cols = [c for c in _columns(model) if c != "id"]
        select = ", ".join(overrides.get(c, f"t.{c}") for c in cols)
        return (
            f"INSERT INTO {_table(model)} ({', '.join(cols)}) SELECT {select} FROM {_table(model)} t "  # noqa: S608
            + " ".join(joins)
            + f" WHERE t.delivery_id <= {base_max}"
        )
    overrides |= {
        "id": f"t.id + {k * span}",
        "full_name_folded": NameMap.folded("pn", "t.full_name", "t.full_name_folded"),
        "source_record_id": f"t.source_record_id || '~{k}'",
        "row_hash": "''",
        "created_at": "now()",
        "updated_at": "now()",
    }
    if "mother_name" in _columns(model):
        names.add("pmo", "t.mother_name", "'F'")
        overrides["mother_name"] = NameMap.name("pmo", "t.mother_name")
        joins = [*names.joins, joins[-1]]
    return _insert(model, overrides, joins, f"t.id <= {base_max}")


# --- the run -------------------------------------------------------------------------------------------


def _state() -> dict[str, int]:
    _exec(f"CREATE TABLE IF NOT EXISTS {STATE_TABLE} (key text PRIMARY KEY, value bigint NOT NULL)")
    return dict(_q(f"SELECT key, value FROM {STATE_TABLE}"))  # noqa: S608


def _record_base() -> dict[str, int]:
    """The base's extent, recorded once: everything at or below these ids is the base."""
    state = _state()
    if state:
        return state
    values: dict[str, type[Model]] = {"child": Child, "person": Person, **{_table(m): m for m in REGISTERS}}
    for key, model in values.items():
        state[key] = int(_q(f"SELECT coalesce(max(id), 0) FROM {_table(model)}")[0][0])  # noqa: S608
    state["children"] = int(_q(f"SELECT count(*) FROM {_table(Child)}")[0][0])  # noqa: S608
    for key, value in state.items():
        _exec(f"INSERT INTO {STATE_TABLE} (key, value) VALUES (%s, %s)", [key, value])  # noqa: S608
    return state


def _pool(base_max: int) -> Pool:
    """Middle + given names of the base's children, by sex, numbered from 0 (rebuilt each run: tiny)."""
    _exec(f"DROP TABLE IF EXISTS {STATE_TABLE}_pool")
    _exec(
        f"CREATE TABLE {STATE_TABLE}_pool AS SELECT sex, (row_number() OVER (PARTITION BY sex ORDER BY rest_folded, "  # noqa: S608
        "rest) - 1)::bigint AS idx, rest, rest_folded FROM (SELECT DISTINCT CASE WHEN sex = 'M' THEN 'M' ELSE 'F' "
        "END AS sex, substr(full_name, strpos(full_name, ' ') + 1) AS rest, substr(name_folded, "
        f"strpos(name_folded, ' ') + 1) AS rest_folded FROM {_table(Child)} WHERE id <= {base_max} AND "
        "strpos(full_name, ' ') > 0 AND strpos(name_folded, ' ') > 0) d"
    )
    _exec(f"CREATE UNIQUE INDEX ON {STATE_TABLE}_pool (sex, idx)")
    counts = dict(_q(f"SELECT sex, count(*) FROM {STATE_TABLE}_pool GROUP BY sex"))  # noqa: S608
    if not counts.get("M") or not counts.get("F"):
        raise DomainError("Dữ liệu gốc không có đủ tên trẻ nam và nữ để ghép tên.", field="base")
    return Pool(males=int(counts["M"]), females=int(counts["F"]))


def drop_secondary_indexes() -> int:
    """Save and drop the indexes that back no constraint (rebuilt by `rebuild_indexes`, also after a crash). A
    partitioned table's are its parent's: dropping one drops its partitions' indexes with it."""
    _exec(f"CREATE TABLE IF NOT EXISTS {INDEX_TABLE} (name text PRIMARY KEY, definition text NOT NULL)")
    tables = [_table(m) for m in BULK_TABLES]
    rows = _q(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = ANY(%s) AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)",
        [tables],
    )
    for name, definition in rows:
        _exec(
            f"INSERT INTO {INDEX_TABLE} (name, definition) VALUES (%s, %s) ON CONFLICT DO NOTHING",  # noqa: S608
            [name, definition],
        )
        _exec(f'DROP INDEX IF EXISTS "{name}"')
    return len(rows)


def rebuild_statement(definition: str) -> str:
    """The statement rebuilding a saved index. A partitioned register's index (ADR 0075) reads "CREATE INDEX …
    ON ONLY parent": as such it would make an invalid index on the parent alone; "ON parent" builds one per
    partition and attaches them (what the dropped index was)."""
    statement = definition.replace("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
    return statement.replace(" ON ONLY ", " ON ", 1)


def rebuild_indexes(step: Callable[[str, float, int], None]) -> None:
    if not _q("SELECT to_regclass(%s)", [INDEX_TABLE])[0][0]:
        return
    _exec("SET maintenance_work_mem = '1GB'")
    for name, definition in _q(f"SELECT name, definition FROM {INDEX_TABLE} ORDER BY name"):  # noqa: S608
        t = time.perf_counter()
        _exec(rebuild_statement(definition))
        _exec(f"DELETE FROM {INDEX_TABLE} WHERE name = %s", [name])  # noqa: S608
        step(f"index {name}", time.perf_counter() - t, 0)
    _exec(f"DROP TABLE {INDEX_TABLE}")


def copies_present(state: dict[str, int]) -> int:
    top = int(_q(f"SELECT coalesce(max(id), 0) FROM {_table(Child)}")[0][0])  # noqa: S608
    return max(0, math.ceil((top - state["child"]) / state["child"])) if state["child"] else 0


def generate_national(
    *, children: int, seed: int, keep_indexes: bool = False, step: Callable[[str, float, int], None]
) -> NationalReport:
    """Copy the base until the registry holds at least `children` children; rebuild indexes; ANALYZE."""
    check_postgresql()
    if children <= 0:
        raise DomainError("--children phải là số dương.", field="children")
    state = _record_base()
    base_children, base_max = state["children"], state["child"]
    if base_children == 0:
        raise DomainError(
            "Chưa có dữ liệu gốc: chạy generate_demo --province all (hoặc dùng --base N).", field="base"
        )
    wanted = max(0, math.ceil(children / base_children) - 1)
    present = copies_present(state)
    report = NationalReport(base_children=base_children, copies_before=present)
    pool = _pool(base_max)
    superuser = bool(_q("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")[0][0])
    if present < wanted and not keep_indexes:
        t = time.perf_counter()
        dropped = drop_secondary_indexes()
        step("drop secondary indexes", time.perf_counter() - t, dropped)
    for k in range(present + 1, wanted + 1):
        with transaction.atomic():
            # The copies reference exactly the rows their base rows reference: skip the per-row FK checks.
            if superuser:
                _exec("SET LOCAL session_replication_role = replica")
            _exec("SET LOCAL synchronous_commit = off")
            _exec("SET LOCAL work_mem = '256MB'")
            plan: list[tuple[str, str]] = [
                ("children", child_copy_sql(k, seed, base_max, base_max, pool)),
                ("circumstances", child_rows_copy_sql(CircumstanceMembership, k, base_max, base_max)),
                ("supports", child_rows_copy_sql(SupportReceived, k, base_max, base_max)),
                ("persons", person_copy_sql(k, seed, state["person"], pool)),
            ]
            for model in REGISTERS:
                top = state[_table(model)]
                plan.append((model.__name__, register_copy_sql(model, k, seed, top, top, pool)))
            top = state[_table(Delivery)]
            plan.append(("Newborn", register_copy_sql(Newborn, k, seed, top, top, pool, delivery_span=top)))
            for label, sql in plan:
                t = time.perf_counter()
                rows = _exec(sql)
                step(f"copy {k} {label}", time.perf_counter() - t, rows)
                if label == "children":
                    report.children += rows
        report.copies_done += 1
    t = time.perf_counter()
    sequenced: tuple[type[Model], ...] = (Child, *REGISTERS)
    for model in sequenced:
        _exec(
            f"SELECT setval(pg_get_serial_sequence('{_table(model)}', 'id'), "  # noqa: S608
            f"(SELECT coalesce(max(id), 1) FROM {_table(model)}))"
        )
    step("sequences", time.perf_counter() - t, 0)
    rebuild_indexes(step)
    t = time.perf_counter()
    for model in BULK_TABLES:
        _exec(f"ANALYZE {_table(model)}")
    step("analyze", time.perf_counter() - t, 0)
    _exec(f"DROP TABLE IF EXISTS {STATE_TABLE}_pool")
    return report
