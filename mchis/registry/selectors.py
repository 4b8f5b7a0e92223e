"""Every read of the child registry, scoped through mchis.core.scoping (R-SEC-01)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from django.db import connection
from django.db.models import CharField, Count, Q, QuerySet, Value
from django.db.models.functions import Concat, Lower, Substr
from django.http import Http404
from django.utils import timezone

from mchis.accounts.principals import person_of
from mchis.core.audit import log_read
from mchis.core.principal import Principal
from mchis.core.scoping import access, visible_to
from mchis.places.models import AdminUnit, CodeVersion, Level
from mchis.units.models import ReportingUnit
from mchis.units.provinces import province_code_of, province_codes_for

from .models import (
    ChangeRequest,
    ChangeRequestQuerySet,
    Child,
    ChildQuerySet,
    ChildStatus,
    ChildVersion,
    CorrectionRequest,
    CorrectionRequestQuerySet,
    RequestKind,
    RequestStatus,
    Verification,
    VerificationStatus,
)
from .personal_id import province_prefixes, structure_errors
from .search import in_province, parse_query, relevance, search_filter
from .validation import parent_guardian_gaps

PAGE_SIZE = 50


def children_visible(principal: Principal) -> ChildQuerySet:
    """Children in the principal's jurisdiction, scoped by the ids of the visible units.

    Same rows as `visible_to(Child.objects.all(), principal)` (SCOPE_PATH = unit__path), but a list of unit
    ids lets PostgreSQL estimate the scope (a LIKE on the joined path is estimated at one row) and pick
    the right index on 1,000,000 children.
    """

    return Child.objects.filter(unit_id__in=_visible_unit_ids(principal))


def _visible_unit_ids(principal: Principal) -> list[int]:

    return list(visible_to(ReportingUnit.objects.all(), principal).values_list("id", flat=True))


def _units_by_province(principal: Principal, units: list[int]) -> dict[str, list[int]]:
    """The visible units grouped by province code: one group for a user of a province (or below), one per
    province for the Ministry, plus "" for the units above the provinces."""
    code = province_code_of(principal.unit.pk) if principal.unit is not None else ""
    if code:
        return {code: units}
    groups: dict[str, list[int]] = {}
    for unit_id, unit_code in province_codes_for(units).items():
        groups.setdefault(unit_code, []).append(unit_id)
    return groups


# A commune's station (with the committee placed in it) holds a few thousand children: reading them through
# the unit index and testing the names row by row beats the trigram indexes, which scan matches of the whole
# country's table before the unit narrows them (a common syllable like "thi" matches half the names).
SMALL_SCOPE_UNITS = 3
UNINDEXED = {
    "search_name": Concat("name_folded", Value(""), output_field=CharField()),
    "search_guardian": Concat("guardian_name_folded", Value(""), output_field=CharField()),
    "search_parents": Concat("parents_folded", Value(""), output_field=CharField()),
}
UNINDEXED_COLUMNS = {"name": "search_name", "guardian": "search_guardian", "parents": "search_parents"}


def child_search(
    principal: Principal,
    *,
    q: str = "",
    unit_code: str = "",
    village_id: int | None = None,
    include_inactive: bool = False,
    first: int | None = None,
    province: str = "",
) -> QuerySet[Child]:
    """Danh sách/tìm kiếm: name without diacritics, DOB, ID number, guardian; filter by unit, village and
    (for users above a province) the 2025 province code.

    `first`: the caller reads at most this many rows (a page and its capped count); a national search then
    takes only each province's first `first` matches before ordering them all.
    """
    units = _visible_unit_ids(principal)
    if province:  # within the scope: a province outside it narrows to nothing
        units = [uid for uid, code in province_codes_for(units).items() if code == province]

    def scoped(unit_ids: list[int]) -> QuerySet[Child]:
        rows = Child.objects.filter(unit_id__in=unit_ids)
        if not include_inactive:
            rows = rows.filter(status=ChildStatus.ACTIVE)
        if unit_code:
            rows = rows.filter(unit__code=unit_code)
        if village_id:
            rows = rows.filter(village_id=village_id)
        return rows

    qs = scoped(units).select_related("village")
    if not q.strip():
        return qs.order_by("name_folded", "id")
    rank = relevance(q)

    def ordered(rows: QuerySet[Child]) -> QuerySet[Child]:
        # Lower() (a no-op on the folded key) keeps the planner from walking the name index in order: the
        # matches of one full name sit together in that order, so "first 50" could scan most of the index.
        if rank is not None:
            return rows.annotate(relevance=rank).order_by("relevance", Lower("name_folded"), "id")
        return rows.order_by(Lower("name_folded"), "id")

    if len(units) <= SMALL_SCOPE_UNITS or unit_code or village_id:
        return ordered(qs.annotate(**UNINDEXED).filter(search_filter(q, columns=UNINDEXED_COLUMNS)))
    condition = search_filter(q)
    parsed = parse_query(q)
    if not parsed.name:  # a date of birth or an ID number: one index lookup, whatever the scope
        return ordered(qs.filter(condition))
    # A name: named in the query, the province lets PostgreSQL read its own trigram indexes (ADR 0081; the
    # nation's posting lists cost a province search 1.2–2.2 s at 10 M children).
    groups = _units_by_province(principal, units)
    if len(groups) == 1:
        return ordered(in_province(qs, next(iter(groups)), condition))
    if not parsed.name_only:  # the date's or the ID's index narrows the nation at once
        return ordered(qs.filter(condition))
    # Above the provinces: each province answers from its own indexes with its own units (its best `first`
    # when the caller reads no more), UNION ALL, then the rows by primary key, as a Citus multi-shard query
    # would. An OR of per-province arms would not do: PostgreSQL factors the common condition out of them and
    # is left with the province test alone. Rows without a province code (normally none) are looked for
    # among every visible unit.
    groups[""] = units
    each_first = first if connection.features.supports_slicing_ordering_in_compound else None  # not SQLite
    arms: list[QuerySet[Any]] = []
    for code, unit_ids in sorted(groups.items()):
        arm = in_province(scoped(unit_ids), code, condition)
        arms.append(ordered(arm).values("pk")[:each_first] if each_first else arm.values("pk"))
    ids: QuerySet[Any] = arms[0].union(*arms[1:], all=True)
    return ordered(qs.filter(pk__in=ids))


SEARCH_COUNT_CAP = 1_000


@dataclass(frozen=True)
class SearchPage:
    items: list[Child]
    count: int  # matches, counted up to SEARCH_COUNT_CAP
    more: bool  # more than SEARCH_COUNT_CAP matches


def child_search_page(
    principal: Principal,
    *,
    q: str = "",
    unit_code: str = "",
    village_id: int | None = None,
    limit: int = PAGE_SIZE,
    offset: int = 0,
    cap: int = SEARCH_COUNT_CAP,
    province: str = "",
) -> SearchPage:
    """One page of `child_search` and its match count up to `cap`, from ONE run of the search: the ids of
    the first max(cap + 1, offset + limit) matches in order, then the page's rows by primary key. Counting
    in a second statement ran the whole search twice (issue 20: the API call at 189 ms p95 on 1 M
    children); sorting a thousand ids more costs little next to finding the matches."""
    wanted = max(cap + 1, offset + limit)
    qs = child_search(
        principal, q=q, unit_code=unit_code, village_id=village_id, first=wanted, province=province
    )
    ids = list(qs.values_list("pk", flat=True)[:wanted])
    page_ids = ids[offset : offset + limit]
    rows = Child.objects.select_related("unit", "village").in_bulk(page_ids)
    return SearchPage([rows[pk] for pk in page_ids], min(len(ids), cap), len(ids) > cap)


def search_provinces(principal: Principal) -> list[tuple[str, str]]:
    """(code, name) of the 2025 provinces a user above the provinces can narrow a search to; [] for a user of
    one province or below (the search is already that province's)."""
    if principal.unit is not None and province_code_of(principal.unit.pk):
        return []
    codes = set(province_codes_for(_visible_unit_ids(principal)).values()) - {""}
    return [
        (code, name)
        for code, name in AdminUnit.objects.filter(
            version=CodeVersion.V2025, level=Level.PROVINCE, code__in=codes
        )
        .order_by("code")  # the official order of the list of provinces
        .values_list("code", "name")
    ]


def child_get(principal: Principal, public_id: Any) -> Child:
    """One record (any status) or 404 — missing and forbidden look the same."""
    return access(
        Child.objects.select_related("unit", "village", "merged_into"), principal, public_id=public_id
    )


def child_read(principal: Principal, public_id: Any, *, channel: str = "web") -> Child:
    """Detail view of personal data: audited as a read (R-SEC-06)."""
    child = child_get(principal, public_id)
    log_read(
        actor=principal,
        object_type="child",
        object_id=str(child.public_id),
        scope_path=child.unit.path,
        purpose=channel,
    )
    return child


def child_history(child: Child) -> QuerySet[ChildVersion]:
    """Timeline (R-CH-04): the record's versions and those of records merged into it."""
    merged = Child.objects.filter(merged_into=child).values_list("pk", flat=True)
    return (
        ChildVersion.objects.filter(Q(child=child) | Q(child__in=list(merged)))
        .select_related("proposed_by", "approved_by", "change_request", "child")
        .prefetch_related("change_request__evidence")
        .order_by("approved_at", "id")
    )


def child_as_of(child: Child, when: date | datetime) -> dict[str, Any] | None:
    """The record as it was at the end of `when` (a date) or at `when` (a datetime); None = not yet."""
    moment = when if isinstance(when, datetime) else timezone.make_aware(datetime.combine(when, time.max))
    version = ChildVersion.objects.filter(child=child, approved_at__lte=moment).order_by("-version").first()
    if version is not None:
        return dict(version.snapshot, version=version.version)
    if child.created_at is None or child.created_at > moment:
        return None
    # Loaded in bulk (the demo generator, an older import) without a creation version: the record existed from
    # its creation time, as it was before its first approved change (or as it is, if never changed).
    first = ChildVersion.objects.filter(child=child).order_by("version").first()
    if first is None:
        from .services import child_snapshot

        return dict(child_snapshot(child), version=0)
    if first.kind == RequestKind.CREATE:
        return None
    before = dict(first.snapshot)
    for name, pair in (first.diff or {}).items():
        before[name] = pair[0] if isinstance(pair, list | tuple) and pair else None
    return dict(before, version=0)


def request_key_used(principal: Principal, client_key: str | None) -> bool:
    """Has this person already sent a request with this client-generated key (offline resend, API retry)?
    Keys belong to their proposer: another principal's key is invisible here."""
    person = person_of(principal)
    return (
        bool(client_key)
        and person is not None
        and ChangeRequest.objects.filter(client_key=client_key, proposer=person).exists()
    )


def verifications_pending_ids(*, requested_before: datetime) -> list[int]:
    """System read for the retry sweep (no principal): identity checks still pending since before the cutoff."""
    return list(
        Verification.objects.filter(
            status=VerificationStatus.PENDING, requested_at__lt=requested_before
        ).values_list("pk", flat=True)
    )


def requests_visible(principal: Principal) -> ChangeRequestQuerySet:
    return visible_to(ChangeRequest.objects.all(), principal).select_related(  # type: ignore[return-value]
        "unit", "child", "survivor", "proposer", "decided_by"
    )


def request_get(principal: Principal, public_id: Any) -> ChangeRequest:
    return access(
        ChangeRequest.objects.select_related("unit", "child", "survivor", "proposer", "decided_by"),
        principal,
        public_id=public_id,
    )


def my_requests(principal: Principal) -> QuerySet[ChangeRequest]:
    """A collector's own open requests (pending or returned to them)."""
    person = person_of(principal)
    if person is None:  # a machine client proposes nothing
        return requests_visible(principal).none().order_by("-proposed_at")
    return requests_visible(principal).filter(proposer=person).order_by("-proposed_at")


def leader_queue(principal: Principal) -> QuerySet[ChangeRequest]:
    """Pending requests a leader decides: those of their own unit."""
    return (
        requests_visible(principal)
        .filter(status=RequestStatus.PENDING, unit_id=getattr(principal, "unit_id", None))
        .order_by("proposed_at")
    )


def queue_counts(principal: Principal) -> dict[str, int]:
    rows = (
        requests_visible(principal)
        .filter(status=RequestStatus.PENDING, unit_id=getattr(principal, "unit_id", None))
        .values("kind")
        .annotate(n=Count("id"))
    )
    return {row["kind"]: row["n"] for row in rows}


# --- review lists (R-CH-02 step 3) --------------------------------------------------------------------

REVIEW_KINDS = {
    "no_id": "Chưa có số định danh",
    "bad_id": "Số định danh sai định dạng",
    "missing_basic": "Thiếu/nghi sai thông tin cơ bản (tên, ngày sinh, giới tính, dân tộc, cha/mẹ/người giám hộ)",
}


@dataclass(frozen=True)
class ReviewRow:
    child: Child
    problems: list[str]


def _basic_problems(child: Child, today: date) -> list[str]:
    problems = []
    if not child.full_name.strip() or len(child.full_name.split()) < 2:
        problems.append("Họ tên thiếu hoặc chỉ một từ")
    if any(ch.isdigit() for ch in child.full_name):
        problems.append("Họ tên có chữ số")
    if child.date_of_birth is None:
        problems.append("Thiếu ngày sinh")
    elif child.date_of_birth > today or (today.year - child.date_of_birth.year) > 16:
        problems.append("Ngày sinh bất thường")
    if not child.sex:
        problems.append("Thiếu giới tính")
    if not child.ethnicity_code:
        problems.append("Thiếu dân tộc")
    # the same rule as the data-quality finding DQ_MISSING (one rule, R-CH-02 c)
    problems.extend(
        message
        for _field, message in parent_guardian_gaps(child.father_name, child.mother_name, child.guardian_name)
    )
    return problems


def review_rows(principal: Principal, kind: str, *, village_id: int | None = None) -> list[ReviewRow]:
    """The rows of one review list, computed by the same rules as the form (pure functions)."""
    today = timezone.localdate()
    qs = children_visible(principal).filter(status=ChildStatus.ACTIVE).select_related("village", "unit")
    if village_id:
        qs = qs.filter(village_id=village_id)
    rows: list[ReviewRow] = []
    if kind == "no_id":
        return [
            ReviewRow(c, ["Chưa có số định danh"]) for c in qs.filter(personal_id="").order_by("name_folded")
        ]
    if kind == "bad_id":
        # SQL narrows to the suspects (not 12 digits, bad century digit, unknown prefix); the pure rule decides.
        suspects = (
            ~Q(personal_id__regex=r"^[0-9]{12}$")
            | Q(personal_id__regex=r"^[0-9]{3}[6-9]")
            | ~Q(prefix__in=list(province_prefixes()))
        )
        candidates = qs.exclude(personal_id="").annotate(prefix=Substr("personal_id", 1, 3)).filter(suspects)
        for child in candidates.order_by(
            "name_folded"
        ):  # no server-side cursor: it makes PG walk the name index
            errors = structure_errors(child.personal_id)
            if errors:
                rows.append(ReviewRow(child, [e.message for e in errors]))
        return rows
    if kind == "missing_basic":
        suspicious = (
            Q(date_of_birth__isnull=True)
            | Q(sex="")
            | Q(ethnicity_code="")
            | Q(guardian_name="", father_name="")
            | Q(guardian_name="", mother_name="")
            | ~Q(full_name__contains=" ")
            | Q(date_of_birth__gt=today)
            | Q(date_of_birth__lt=date(today.year - 17, 1, 1))
            | Q(full_name__regex=r"[0-9]")
        )
        for child in qs.filter(suspicious).order_by(
            "name_folded"
        ):  # no server-side cursor: it makes PG walk the name index
            problems = _basic_problems(child, today)
            if problems:
                rows.append(ReviewRow(child, problems))
        return rows
    raise ValueError(kind)


def review_counts_by_village(rows: list[ReviewRow]) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for row in rows:
        name = str(row.child.village) if row.child.village_id else "(chưa có thôn)"
        counts[name] = counts.get(name, 0) + 1
    return sorted(counts.items())


# --- correction requests (R-CH-06) --------------------------------------------------------------------


def corrections_involving(principal: Principal) -> CorrectionRequestQuerySet:
    return CorrectionRequest.objects.involving(principal).select_related(
        "child", "unit", "from_unit", "filed_by"
    )


def correction_get(principal: Principal, public_id: Any) -> CorrectionRequest:
    qs = corrections_involving(principal).filter(public_id=public_id)
    obj = qs.first() if _is_uuid(public_id) else None
    if obj is None:
        raise Http404("Không tìm thấy.")
    return obj


def _is_uuid(value: Any) -> bool:

    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True


# --- offline entry (docs/offline.md) ------------------------------------------------------------------------


def conflicts_open(principal: Principal) -> QuerySet[ChangeRequest]:
    """Pending offline change proposals with a conflict, for the leader of their unit to resolve (ADR 0042)."""
    return (
        leader_queue(principal)
        .filter(conflict_resolved_at__isnull=True)
        .exclude(conflict={})
        .order_by("proposed_at")
    )


def own_unit_children(principal: Principal, *, limit: int = 5000) -> list[dict[str, Any]]:
    """The children of the person's own unit only (not the subtree below it): what a station's device keeps for
    search and duplicate hints while offline."""
    unit_id = getattr(principal, "unit_id", None)
    if unit_id is None:
        return []
    rows = (
        children_visible(principal)
        .filter(unit_id=unit_id, status=ChildStatus.ACTIVE)
        .order_by("name_folded")
        .values(
            "public_id",
            "full_name",
            "date_of_birth",
            "sex",
            "village_id",
            "mother_name",
            "personal_id",
            "version",
        )[:limit]
    )
    return [
        {
            "id": str(r["public_id"]),
            "name": r["full_name"],
            "dob": r["date_of_birth"].strftime("%d/%m/%Y") if r["date_of_birth"] else "",
            "sex": r["sex"],
            "village": r["village_id"],
            "mother": r["mother_name"],
            "pid": r["personal_id"],  # offline duplicate hint: the same personal ID
            "version": r["version"],
        }
        for r in rows
    ]
