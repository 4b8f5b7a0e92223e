"""Search terms for the child registry: name without diacritics in any case, DOB, ID number, guardian.

"nguyen van an" finds "Nguyễn Văn An" through `name_folded` (mchis.core.text.fold); so do "Nguyễn An" and
"an nguyen": every word of the query must appear as a word of the name. On PostgreSQL the folded columns
carry pg_trgm GIN indexes, one per province (migration 0012, ADR 0081): the `LIKE '%…%'` terms are index
scans of the province's own posting lists when the query names the province (`selectors.child_search`);
SQLite uses LIKE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When

from mchis.core.text import fold

_DATE = re.compile(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})\Z")
_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})\Z")
_DIGITS = re.compile(r"^\d{6,12}\Z")


@dataclass(frozen=True)
class ParsedQuery:
    name: str = ""
    dates: tuple[date, ...] = ()
    id_prefixes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def words(self) -> list[str]:
        return self.name.split()

    @property
    def name_only(self) -> bool:
        """A name without a date of birth or an ID: above a province, only the names' per-province indexes can
        answer it (one arm per province, `selectors.child_search`), the slow national case."""
        return bool(self.name) and not self.dates and not self.id_prefixes


def parse_query(q: str) -> ParsedQuery:
    """Split a free-text query into a folded name part, dates (dd/mm/yyyy or ISO) and ID digits."""
    words: list[str] = []
    dates: list[date] = []
    ids: list[str] = []
    for token in (q or "").split():
        match = _DATE.match(token) or _ISO.match(token)
        if match:
            parts = [int(x) for x in match.groups()]
            day, month, year = (parts[2], parts[1], parts[0]) if _ISO.match(token) else tuple(parts)
            try:
                dates.append(date(year, month, day))
                continue
            except ValueError:
                pass
        if _DIGITS.match(token):
            ids.append(token)
            continue
        words.append(token)
    return ParsedQuery(name=fold(" ".join(words)), dates=tuple(dates), id_prefixes=tuple(ids))


def _word(column: str, word: str) -> Q:
    """`word` is one of the words of `column` (space-separated folded text)."""
    return (
        Q(**{column: word})
        | Q(**{f"{column}__startswith": word + " "})
        | Q(**{f"{column}__endswith": " " + word})
        | Q(**{f"{column}__contains": f" {word} "})
    )


def _name_terms(column: str, parsed: ParsedQuery) -> Q:
    # The whole phrase as a substring lets the trigram index do the work (and still finds "van an" in
    # "nguyen van an"); a query whose words are spread out ("nguyen an") needs every word as a word.
    words = parsed.words
    if len(words) <= 1:
        return Q(**{f"{column}__contains": parsed.name})
    every = Q()
    for word in words:
        every &= _word(column, word) if len(word) < 3 else Q(**{f"{column}__contains": word})
    return Q(**{f"{column}__contains": parsed.name}) | (
        every & Q(**{f"{column}__contains": max(words, key=len)})
    )


def parents_key(father_name: str, mother_name: str) -> str:
    """Search key of the parents' names: "nguyen van binh | tran thi cuc"."""
    return " | ".join(part for part in (fold(father_name), fold(mother_name)) if part)


INDEXED_COLUMNS = {"name": "name_folded", "guardian": "guardian_name_folded", "parents": "parents_folded"}
# The indexed columns and the short name of each in its per-province index (`child_name_trgm_p08`).
SEARCH_INDEX_COLUMNS = {
    "name_folded": "name",
    "guardian_name_folded": "guardian",
    "parents_folded": "parents",
}


def province_index_name(column: str, code: str) -> str:
    """Name of the trigram index of `column` for province `code` ("" = rows without a province)."""
    return f"child_{SEARCH_INDEX_COLUMNS[column]}_trgm_p{code or 'none'}"


def in_province(rows: QuerySet[Any], code: str, condition: Q) -> QuerySet[Any]:
    """`rows` of province `code` meeting `condition`, as `province_code = '08' AND (…)`: the shape whose name
    terms PostgreSQL answers from that province's partial trigram indexes (ADR 0081)."""
    return rows.filter(province_code=code).filter(condition)


def search_filter(q: str, columns: dict[str, str] | None = None) -> Q:
    """The search as one condition; `columns` names the folded name, guardian and parents columns (the
    indexed ones by default; a small scope passes unindexed copies, see `selectors.child_search`)."""
    col = columns or INDEXED_COLUMNS
    parsed = parse_query(q)
    condition = Q()
    if parsed.name:
        condition &= (
            _name_terms(col["name"], parsed)
            | Q(**{f"{col['guardian']}__contains": parsed.name})
            | Q(**{f"{col['parents']}__contains": parsed.name})
        )
    for day in parsed.dates:
        condition &= Q(date_of_birth=day)
    for digits in parsed.id_prefixes:
        condition &= Q(personal_id__startswith=digits)
    return condition


def _parent_is(name: str) -> Q:
    """A parent's or the guardian's whole folded name is `name` (parents_folded = "father | mother")."""
    return (
        Q(guardian_name_folded=name)
        | Q(parents_folded=name)
        | Q(parents_folded__startswith=f"{name} | ")
        | Q(parents_folded__endswith=f" | {name}")
    )


def _family_given(column: str, words: list[str]) -> Q:
    """First word = family name and last word = given name ("nguyen an" → "nguyen van an")."""
    return Q(**{f"{column}__startswith": words[0] + " "}) & Q(**{f"{column}__endswith": " " + words[-1]})


def relevance(q: str) -> Case | None:
    """Sort key, best first, for finding a child the way a station does (issue 13 §11).

    0 the child's whole name; 1 a parent's or the guardian's whole name (a mother gives her own name);
    2 the child's family + given name; 3 the child's name contains the words; 4 a parent's/guardian's name
    contains them. Within a rank, by name. Exact names first keep the intended child on the first page even
    when the words are common (hundreds of "nguyen … an" in a province).
    """
    parsed = parse_query(q)
    if not parsed.name:
        return None
    words = parsed.words
    whens = [When(Q(name_folded=parsed.name), then=Value(0)), When(_parent_is(parsed.name), then=Value(1))]
    if len(words) > 1:
        whens.append(When(_family_given("name_folded", words), then=Value(2)))
    whens.append(When(_name_terms("name_folded", parsed), then=Value(3)))
    return Case(*whens, default=Value(4), output_field=IntegerField())
