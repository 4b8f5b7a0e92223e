"""Search terms for the child registry: name without diacritics in any case, DOB, ID number, guardian.

"nguyen van an" finds "Nguyễn Văn An" through `name_folded` (mchis.core.text.fold); so do "Nguyễn An" and
"an nguyen": every word of the query must appear as a word of the name. On PostgreSQL the folded columns
carry pg_trgm GIN indexes (migration 0003), so the `LIKE '%…%'` terms are index scans; SQLite uses LIKE.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Case, IntegerField, Q, Value, When

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


def search_filter(q: str) -> Q:
    parsed = parse_query(q)
    condition = Q()
    if parsed.name:
        condition &= (
            _name_terms("name_folded", parsed)
            | Q(guardian_name_folded__contains=parsed.name)
            | Q(parents_folded__contains=parsed.name)
        )
    for day in parsed.dates:
        condition &= Q(date_of_birth=day)
    for digits in parsed.id_prefixes:
        condition &= Q(personal_id__startswith=digits)
    return condition


def own_name_first(q: str) -> Case | None:
    """Sort key: records whose own name matches come before those found by a guardian's or parent's name."""
    parsed = parse_query(q)
    if not parsed.name:
        return None
    return Case(
        When(_name_terms("name_folded", parsed), then=Value(0)), default=Value(1), output_field=IntegerField()
    )
