"""Writes of the demo-data generator (dữ liệu mô phỏng): unit tree, villages, children, demo accounts.

Children are written in bulk (COPY on PostgreSQL, executemany on SQLite) in streaming chunks, inside
ONE transaction with ONE audit event summarising the run (not one per row).
"""

from __future__ import annotations

import csv
import json
import os
import random
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from mchis.accounts.models import User
from mchis.accounts.roles import Role
from mchis.accounts.services import account_create, account_issue_enrolment_code
from mchis.core.audit import log_event
from mchis.core.bulk import BulkTable as _BulkTable
from mchis.core.errors import DomainError
from mchis.places.models import AdminUnit, CodeVersion, Level, Village
from mchis.registry.models import Child, ChildStatus, CircumstanceMembership, SupportReceived
from mchis.registry.personal_id import province_prefixes
from mchis.registry.validation import FIELDS, ROW_FIELDS, column_of
from mchis.units.models import ReportingUnit, UnitKind

from .models import DemoRun
from .people import PROFILES, ChildRow, CommuneInfo, PeopleGenerator, TruthRow
from .regions import DEFAULT_MIX, ETHNIC_MIX
from .tree import ProvinceTree, ensure_tree, province_communes

SOURCE = "demo"
CHUNK_SIZE = 50_000
NOT_LOADED = "Chưa nạp đơn vị hành chính: chạy manage.py load_admin_units"
TRUTH_COLUMNS = ("kind", "record_ids", "detail")


@dataclass
class GenerationReport:
    run: DemoRun
    children: int = 0
    memberships: int = 0
    supports: int = 0
    without_id: int = 0
    units_created: int = 0
    villages_created: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    nguyen: int = 0


def _province(code: str) -> AdminUnit:
    if not AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.PROVINCE).exists():
        raise DomainError(NOT_LOADED, field="province", code="not_loaded")
    province = AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.PROVINCE, code=code).first()
    if province is None:
        raise DomainError(f"--province: không có tỉnh mã '{code}' (mã 2025, 34 tỉnh).", field="province")
    if not AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.COMMUNE, parent=province).exists():
        raise DomainError(NOT_LOADED + f" (tỉnh {code} chưa có xã).", field="province", code="not_loaded")
    return province


def _writable(path: Path | None, name: str) -> Path | None:
    """The temporary file a result is streamed to (renamed onto `path` on success)."""
    if path is None:
        return None
    part = path.with_name(path.name + ".part")
    try:
        part.parent.mkdir(parents=True, exist_ok=True)
        with part.open("w", encoding="utf-8"):
            pass
    except OSError as exc:
        raise DomainError(f"--{name}: không ghi được tệp '{path}' ({exc.strerror}).", field=name) from exc
    return part


def validate_arguments(
    *,
    province_code: str,
    children: int,
    error_rate: float,
    truth_path: Path | None,
    population_path: Path | None,
    seed: int = 0,
) -> AdminUnit:
    """Check every argument before anything is written; raise DomainError naming the argument."""
    if not -(2**63) <= seed < 2**63:
        raise DomainError("--seed phải là số nguyên 64 bit.", field="seed")
    if children < 0:
        raise DomainError("--children phải là số nguyên không âm.", field="children")
    if not 0.0 <= error_rate <= 1.0:
        raise DomainError("--error-rate phải nằm trong khoảng 0..1.", field="error_rate")
    province = _province(province_code)
    for path, name in ((truth_path, "truth"), (population_path, "population")):
        part = _writable(path, name)
        if part is not None:
            part.unlink(missing_ok=True)
    return province


# --- the commune facts the generator needs ---------------------------------------------------------


def _commune_infos(tree: ProvinceTree, rng: random.Random) -> tuple[list[CommuneInfo], list[str]]:
    province = tree.province
    communes = province_communes(province)
    own = sorted(p for p, v in province_prefixes().items() if v["province_2025_code"] == province.code)
    others = [p for p in province_prefixes() if p not in own]
    others = others + ["001", "079"] * 6  # many births are registered in the two big cities
    villages: dict[int, list[int]] = {}
    for commune_id, village_id in Village.objects.filter(commune__in=communes, active=True).order_by("code").values_list("commune_id", "id"):  # fmt: skip
        villages.setdefault(commune_id, []).append(village_id)
    mix = ETHNIC_MIX.get(province.code, DEFAULT_MIX)
    infos: list[CommuneInfo] = []
    for index, commune in enumerate(communes):
        origin = tree.origins.get(commune.pk)
        prefix = f"0{origin.province_code}" if origin and f"0{origin.province_code}" in own else ""
        if not prefix:  # without the mapping, communes are ordered by old province: split in blocks
            prefix = own[index * len(own) // len(communes)] if own else "001"
        urban = (commune.division_type or commune.name).lower().startswith("phường")
        # Ethnic groups cluster by commune: perturb the province mix; towns are mostly Kinh.
        local = []
        for code, weight in mix.items():
            factor = rng.gammavariate(0.7, 1.0) + 0.02
            if urban and code == "01":
                factor *= 6
            local.append((code, weight * factor))
        infos.append(
            CommuneInfo(
                admin_id=commune.pk,
                code=commune.code,
                unit_id=tree.tyt_of_commune[commune.pk].pk,
                village_ids=tuple(villages.get(commune.pk, ())),
                birth_prefix=prefix,
                ethnic_mix=tuple(local),
                weight=1.6 if urban else (0.5 if "đặc khu" in commune.name.lower() else 1.0),
            )
        )
    return infos, others


# --- bulk writing ----------------------------------------------------------------------------------


CHILD_COLUMNS = (
    "id", "public_id", "unit_id", "commune_id", *(column_of(name) for name in ROW_FIELDS),
    "name_folded", "guardian_name_folded", "parents_folded", "status", "source", "source_ref", "province_code",
)  # fmt: skip
_ROW_ATTRS = tuple(column_of(name) for name in ROW_FIELDS)  # ChildRow attributes, named like the columns
_DATE_FIELD = tuple(FIELDS[name][0] == "date" for name in ROW_FIELDS)


class _Writer:
    def __init__(self, now: datetime, province_code: str) -> None:
        self.province_code = province_code
        self.pg = connection.vendor == "postgresql"
        self.children = _BulkTable(Child, CHILD_COLUMNS, now)
        self.memberships = _BulkTable(
            CircumstanceMembership, ("child_id", "group_code", "subgroup_code", "start_date", "end_date"), now
        )
        self.supports = _BulkTable(
            SupportReceived, ("child_id", "support_type_code", "date", "provider"), now
        )
        self._next_id = 0
        if not self.pg:
            with connection.cursor() as cursor:
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {Child._meta.db_table}")  # noqa: S608
                self._next_id = int(cursor.fetchone()[0])

    def _ids(self, count: int) -> list[int]:
        if self.pg:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [Child._meta.db_table, count],
                )
                return [r[0] for r in cursor.fetchall()]
        start = self._next_id + 1
        self._next_id += count
        return list(range(start, start + count))

    def write(self, rows: list[ChildRow]) -> tuple[int, int, int]:
        ids = self._ids(len(rows))
        if self.pg:
            day: Callable[[date | None], Any] = _identity
            uid: Callable[[str], str] = _identity
        else:
            day, uid = _iso, _hex
        active = ChildStatus.ACTIVE.value

        def child_rows() -> Iterable[tuple[Any, ...]]:
            for pk, r in zip(ids, rows, strict=True):
                c = r.commune
                fields = [
                    day(getattr(r, attr)) if is_date else getattr(r, attr)
                    for attr, is_date in zip(_ROW_ATTRS, _DATE_FIELD, strict=True)
                ]
                yield (pk, uid(r.public_id), c.unit_id, c.admin_id, *fields, r.name_folded,
                       r.guardian_name_folded, r.parents_folded, active, SOURCE, r.source_ref, self.province_code)  # fmt: skip

        def membership_rows() -> Iterable[tuple[Any, ...]]:
            for pk, r in zip(ids, rows, strict=True):
                for group, sub, start, end in r.circumstances:
                    yield (pk, group, sub, day(start), day(end))

        def support_rows() -> Iterable[tuple[Any, ...]]:
            for pk, r in zip(ids, rows, strict=True):
                for kind, when, provider in r.supports:
                    yield (pk, kind, day(when), provider)

        return (
            self.children.write(child_rows()),
            self.memberships.write(membership_rows()),
            self.supports.write(support_rows()),
        )


def _identity(value: Any) -> Any:
    return value


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _hex(value: str) -> str:
    return value.replace("-", "")


# --- the service -----------------------------------------------------------------------------------


@transaction.atomic
def demo_generate(
    *,
    province_code: str,
    children: int,
    seed: int,
    error_rate: float = 0.0,
    truth_path: Path | None = None,
    population_path: Path | None = None,
    as_of: date | None = None,
    chunk_size: int = CHUNK_SIZE,
    progress: Callable[[int], None] | None = None,
    profile: str = "a",
) -> GenerationReport:
    """Generate `children` synthetic children in one 2025 province (building its unit tree once).

    Deterministic: the same seed, province, as-of date and prior runs in the province give identical
    rows (names, dates, personal IDs, public UUIDs). Nothing is written if an argument is wrong or the
    run fails: one transaction; result files are renamed into place only after the rows are written.
    """
    if profile not in PROFILES:
        raise DomainError(f"--profile phải là một trong: {', '.join(PROFILES)}.", field="profile")
    province = validate_arguments(
        province_code=province_code, children=children, error_rate=error_rate,
        truth_path=truth_path, population_path=population_path, seed=seed,
    )  # fmt: skip
    as_of = as_of or timezone.localdate()
    # Two runs in one province would pick the same run number: serialise them on the province row.
    AdminUnit.objects.select_for_update().filter(pk=province.pk).first()
    tree = ensure_tree(province=province)
    run_no = DemoRun.objects.filter(province_code=province.code).count()
    run = DemoRun.objects.create(
        province_code=province.code,
        seed=seed,
        run_no=run_no,
        children=children,
        error_rate=error_rate,
        as_of=as_of,
    )
    report = GenerationReport(
        run=run, units_created=tree.units_created, villages_created=tree.villages_created
    )
    rng = random.Random(f"mchis-demo:{seed}:{province.code}:{run_no}")
    infos, other_prefixes = _commune_infos(tree, rng)
    generator = PeopleGenerator(
        rng=rng, communes=infos, as_of=as_of, other_prefixes=other_prefixes, error_rate=error_rate,
        ref_prefix=f"{province.code}-{run_no}-", run_offset=run_no * 100_000, profile=PROFILES[profile],
    )  # fmt: skip
    truth_part = _writable(truth_path, "truth")
    population_part = _writable(population_path, "population")
    truth_file = truth_part.open("w", encoding="utf-8", newline="") if truth_part else None
    population_file = population_part.open("w", encoding="utf-8") if population_part else None
    try:
        truth_writer = csv.writer(truth_file) if truth_file else None
        if truth_writer:
            truth_writer.writerow(TRUTH_COLUMNS)
        writer = _Writer(timezone.now(), province.code)
        chunk: list[ChildRow] = []
        truths: list[TruthRow] = []
        for row, truth in generator.stream(children):
            chunk.append(row)
            if truth:
                truths.append(truth)
            if len(chunk) >= chunk_size:
                _flush(writer, chunk, truths, truth_writer, population_file, report, progress)
                chunk, truths = [], []
        _flush(writer, chunk, truths, truth_writer, population_file, report, progress)
        log_event(
            actor=None,
            action="demo.generate",
            object_type="demo_run",
            object_id=run.pk,
            scope_path=tree.doh.path,
            changes={
                "province": [None, province.code],
                "seed": [None, seed],
                "run_no": [None, run_no],
                "children": [None, report.children],
                "memberships": [None, report.memberships],
                "supports": [None, report.supports],
                "error_rate": [None, error_rate],
                "errors": [None, dict(report.errors)],
                "units_created": [None, report.units_created],
                "villages_created": [None, report.villages_created],
                "as_of": [None, as_of],
            },  # fmt: skip
            reason="Sinh dữ liệu mô phỏng (manage.py generate_demo)",
        )
    except BaseException:
        for handle, part in ((truth_file, truth_part), (population_file, population_part)):
            if handle:
                handle.close()
            if part:
                part.unlink(missing_ok=True)
        raise
    for handle in (truth_file, population_file):
        if handle:
            handle.close()
    # Files appear under their final names only once every row is written (a failed run leaves none).
    for part, final in ((truth_part, truth_path), (population_part, population_path)):
        if part and final:
            os.replace(part, final)
    return report


def _flush(
    writer: _Writer,
    chunk: list[ChildRow],
    truths: list[TruthRow],
    truth_writer: Any,
    population_file: Any,
    report: GenerationReport,
    progress: Callable[[int], None] | None,
) -> None:
    if not chunk:
        return
    children, memberships, supports = writer.write(chunk)
    report.children += children
    report.memberships += memberships
    report.supports += supports
    for row in chunk:
        if not row.personal_id:
            report.without_id += 1
        if row.full_name.startswith("Nguyễn "):
            report.nguyen += 1
        if population_file is not None and row.true is not None:
            t = row.true
            population_file.write(json.dumps({
                "personal_id": t.personal_id, "full_name": t.full_name,
                "date_of_birth": t.date_of_birth.isoformat(), "sex": t.sex,
                "father_name": t.father_name, "mother_name": t.mother_name,
            }, ensure_ascii=False) + "\n")  # fmt: skip
    for truth in truths:
        report.errors[truth.kind] += 1
        if truth_writer is not None:
            truth_writer.writerow((truth.kind, "|".join(truth.record_ids), truth.detail))
    if progress:
        progress(report.children)


# --- the nation (issue 20) ----------------------------------------------------------------------------


def national_plan(children: int) -> list[tuple[str, int]]:
    """Children per 2025 province for a national run: shares by number of communes (every commune gets its
    health station, so every reporting unit of the nation has children), largest remainder rounding."""
    if not AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.COMMUNE).exists():
        raise DomainError(NOT_LOADED, field="province", code="not_loaded")
    if children < 0:
        raise DomainError("--children phải là số nguyên không âm.", field="children")
    counts: Counter[str] = Counter(
        AdminUnit.objects.filter(version=CodeVersion.V2025, level=Level.COMMUNE).values_list(
            "parent__code", flat=True
        )
    )
    total = sum(counts.values())
    shares = {code: children * n / total for code, n in counts.items()}
    plan = {code: int(share) for code, share in shares.items()}
    left = children - sum(plan.values())
    for code in sorted(shares, key=lambda c: (-(shares[c] - plan[c]), c))[:left]:
        plan[code] += 1
    return sorted(plan.items())


# --- demo accounts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountLine:
    username: str
    password: str | None  # None: the account already existed (its password is not shown again)
    role: str
    unit_code: str
    unit_name: str
    enrolment_code: str = ""  # one-time code to enrol the second factor (R-SEC-04), for a new account


def _account_plan(province: AdminUnit) -> list[tuple[str, ReportingUnit]]:
    pc = province.code
    tyt = ReportingUnit.objects.filter(kind=UnitKind.TYT, code__startswith="TYT", admin_unit__parent=province).order_by("code").first()  # fmt: skip
    if tyt is None:
        raise DomainError(
            "Chưa có cây đơn vị của tỉnh: chạy generate_demo trước --accounts.", field="province"
        )
    ttyt = tyt.parent
    by_code = {u.code: u for u in ReportingUnit.objects.filter(code__in=[f"SYT{pc}", f"CDC{pc}", "BYT"])}
    doh, cdc, ministry = by_code[f"SYT{pc}"], by_code[f"CDC{pc}"], by_code["BYT"]
    assert ttyt is not None
    return [
        (Role.COLLECTOR, tyt), (Role.LEADER, tyt), (Role.REPORTER, tyt), (Role.LEADER, ttyt),
        (Role.LEADER, cdc), (Role.LEADER, doh), (Role.AUDITOR, doh), (Role.UNIT_ADMIN, doh),
        (Role.SYSTEM_ADMIN, ministry), (Role.VIEWER, doh),
    ]  # fmt: skip


@transaction.atomic
def demo_accounts_ensure(*, province_code: str) -> list[AccountLine]:
    """One demo account per role (R-SEC-02) with a one-time password; existing accounts are left as they are."""
    province = _province(province_code)
    lines: list[AccountLine] = []
    for role, unit in _account_plan(province):
        username = f"{role}_{unit.code.lower()}"
        if User.objects.filter(username=username).exists():
            lines.append(AccountLine(username, None, role, unit.code, unit.name))
            continue
        user, password = account_create(actor=None, username=username, unit=unit, role=role)
        code = account_issue_enrolment_code(actor=None, account=user)
        lines.append(AccountLine(username, password, role, unit.code, unit.name, code))
    return lines
