"""Synthetic children, families and labelled errors. Pure functions over `random.Random`; no database.

Everything random comes from one `random.Random(seed)` so the same seed gives the same people,
personal IDs and public UUIDs (never `uuid4()`).
"""

from __future__ import annotations

import random
import unicodedata
import uuid
import zlib
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from itertools import accumulate

from mchis.core.text import fold
from mchis.registry.personal_id import compose

from .names import STYLE_OF_ETHNICITY, SURNAME_VARIANTS, NameStyle, styles

DAYS_0_TO_15_YEARS = 16 * 365 + 3  # "trẻ em" = under 16 (Luật Trẻ em 2016 Điều 1)

# Catalog codes written on demo rows (mchis/catalogs/fixtures: child_circumstance, support_type,
# child_relationship). Groups G01-G14 = Luật Trẻ em 2016 Điều 10; NGUY_CO = at risk.
CIRCUMSTANCE_GROUPS = (
    ("G04", 40), ("G13", 15), ("G01", 6), ("G03", 8), ("G02", 2), ("G08", 8), ("G09", 4), ("G05", 2),
    ("G06", 3), ("G10", 2), ("G11", 2), ("G12", 1), ("G07", 1), ("G14", 1), ("NGUY_CO", 45),
)  # fmt: skip
SUBGROUPS = {
    "G01": ("G01.1", "G01.2", "G01.3", "G01.3", "G01.4"),
    "G02": ("G02.1", "G02.2"),
    "G03": ("G03.1", "G03.2"),
}
NEEDS_GUARDIAN = frozenset(SUBGROUPS)
SUPPORT_TYPES = (
    ("TCXH", 35), ("BHYT", 25), ("GIAO_DUC", 12), ("Y_TE", 10), ("DINH_DUONG", 8), ("TU_VAN_TAM_LY", 5),
    ("HOA_NHAP", 3), ("PHAP_LY", 2),
)  # fmt: skip
SUPPORT_PROVIDERS = (
    "UBND xã",
    "Quỹ Bảo trợ trẻ em tỉnh",
    "Hội Chữ thập đỏ",
    "Trung tâm Công tác xã hội tỉnh",
)
# (relationship code, sex, maternal side)
GUARDIAN_RELATIONSHIPS = (
    ("ONG", "M", 0), ("BA", "F", 0), ("ONG", "M", 1), ("BA", "F", 1), ("CO_DI_CHU_BAC", "M", 0),
    ("CO_DI_CHU_BAC", "F", 1), ("ANH_CHI", "M", 0),
)  # fmt: skip

ERROR_KINDS = (("duplicate", 30), ("twin", 10), ("dropped_diacritics", 14), ("swapped_day_month", 10),
               ("missing_field", 14), ("malformed_id", 11), ("inconsistent_id", 11))  # fmt: skip


@dataclass(frozen=True)
class ErrorProfile:
    """How a run's errors and family habits are parameterised (rates, 0..1), so that a model fitted on one
    run can be scored on a run made with other rates (issue 14: figures on data the model was not tuned on).

    Duplicate differences are drawn independently with these probabilities (at least one per duplicate);
    family habits apply to H'Mông, Thái and Dao households (naming traditions with clan names and short
    given names)."""

    name: str = "a"
    dropped_diacritics: float = 0.30
    typo: float = 0.20
    transposition: float = 0.10  # two adjacent letters swapped: "Phan" → "Phna", "Toàn" → "Tàon"
    ocr: float = 0.06  # letters a scanner confuses: m/rn, ư/u, ơ/o, h/b …
    dropped_middle: float = 0.12  # "Nguyễn Thu Ngân" → "Nguyễn Ngân"
    surname_variant: float = 0.15  # Hoàng/Huỳnh, Vũ/Võ
    swapped_day_month: float = 0.15
    year_typo: float = 0.08  # birth year off by one, day and month kept
    missing_id: float = 0.25
    village: float = 0.15
    moved_commune: float = 0.06  # the family moved: the second record is in another commune
    mother_typo: float = 0.08
    missing_mother: float = 0.04
    # family naming habits
    short_given: float = 0.35  # H'Mông/Thái/Dao child given a short (2-3 letter) name
    sibling_same_name: float = 0.04  # two siblings given the same name (different birth dates)
    twin_near_name: float = 0.30  # twins whose short given names differ by one letter (Lử/Sử, Pó/Páo)


PROFILES = {
    "a": ErrorProfile(),
    # A differently parameterised run: fewer diacritic drops, many more structural errors and moves.
    "b": ErrorProfile(
        name="b", dropped_diacritics=0.15, typo=0.12, transposition=0.20, ocr=0.12, dropped_middle=0.20,
        surname_variant=0.08, swapped_day_month=0.10, year_typo=0.15, missing_id=0.40, village=0.25,
        moved_commune=0.12, mother_typo=0.15, missing_mother=0.08, short_given=0.55, sibling_same_name=0.08,
        twin_near_name=0.50,
    ),
}  # fmt: skip

# Short given names of the clan-name traditions (H'Mông, Thái, Dao), by sex.
SHORT_GIVEN = {
    "hmong": (("Pó", "Páo", "Sử", "Lử", "Tú", "Dế", "Chứ", "Chử", "Chá", "Vừ", "Di", "Dì", "Sì", "Mò", "Pá", "Lù"),
              ("Mỷ", "Dợ", "Sua", "Súa", "Vi", "Dí", "Pà", "Mí", "Sò", "Dua", "Mai", "Lia", "Lỳ", "Ly")),
    "thai": (("Ón", "Ăm", "Un", "Ọi", "Pọm", "Inh", "Ánh", "Hỏi", "Sỏi", "Pó"),
             ("Én", "Ỏn", "Ín", "Ọp", "Ịn", "Un", "Ưn", "Xinh", "Ly", "Lý")),
    "dao": (("Sú", "Phú", "Tả", "Chỉ", "Lai", "Say"), ("Mẩy", "Nái", "Mải", "Say", "Chài", "Lý")),
}  # fmt: skip

# Letters a scanner or a hurried reader confuses (OCR of paper registers).
OCR_CONFUSIONS = (("m", "rn"), ("rn", "m"), ("ư", "u"), ("ơ", "o"), ("h", "b"), ("n", "u"), ("c", "e"),
                  ("ă", "a"), ("l", "I"), ("ê", "e"), ("ô", "o"), ("y", "v"))  # fmt: skip


_fold = lru_cache(maxsize=300_000)(fold)  # names repeat a lot; folding is a hot spot at 1M rows


@dataclass(frozen=True)
class CommuneInfo:
    """A 2025 commune as the generator needs it (ids of its AdminUnit, TYT and villages)."""

    admin_id: int
    code: str
    unit_id: int
    village_ids: tuple[int, ...]
    birth_prefix: str  # CCCD prefix of the pre-2025 province most of the commune came from
    ethnic_mix: tuple[tuple[str, float], ...]
    weight: float = 1.0


@dataclass(frozen=True)
class Identity:
    """The true person, before any injected error (seeds the simulated population registry)."""

    personal_id: str
    full_name: str
    date_of_birth: date
    sex: str
    father_name: str
    mother_name: str


@dataclass
class ChildRow:
    public_id: str
    source_ref: str
    commune: CommuneInfo
    village_id: int | None
    full_name: str
    date_of_birth: date | None
    sex: str
    ethnicity_code: str
    personal_id: str
    father_name: str = ""
    father_dob: date | None = None
    father_personal_id: str = ""
    mother_name: str = ""
    mother_dob: date | None = None
    mother_personal_id: str = ""
    guardian_name: str = ""
    guardian_dob: date | None = None
    guardian_personal_id: str = ""
    guardian_relationship: str = ""
    address_detail: str = ""  # the generator writes villages, not street addresses
    circumstances: list[tuple[str, str, date, date | None]] = field(default_factory=list)
    supports: list[tuple[str, date, str]] = field(default_factory=list)
    true: Identity | None = None  # set on real people (not on injected duplicate records)
    given: str = ""  # given name, kept to build twins and typos

    @property
    def name_folded(self) -> str:
        return _fold(self.full_name)[:150]

    @property
    def guardian_name_folded(self) -> str:
        return _fold(self.guardian_name)[:150]

    @property
    def parents_folded(self) -> str:
        """The same key as `mchis.registry.search.parents_key` (search by a parent's name)."""
        return " | ".join(p for p in (_fold(self.father_name), _fold(self.mother_name)) if p)[:310]


@dataclass(frozen=True)
class TruthRow:
    kind: str
    record_ids: tuple[str, ...]
    detail: str


def _one_edit(a: str, b: str) -> bool:
    """a and b differ by exactly one substitution, insertion or deletion."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1 :] == short for i in range(len(long_)))


def strip_diacritics(value: str) -> str:
    """ "Nguyễn Thị Ánh" → "Nguyen Thi Anh" (case kept; a common data-entry error)."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "D"))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn")


class _Weighted:
    """Fast repeated weighted choice."""

    __slots__ = ("cum", "items", "total")

    def __init__(self, pairs: tuple[tuple[str, float], ...] | list[tuple[str, float]]) -> None:
        self.items = [p[0] for p in pairs]
        self.cum = list(accumulate(p[1] for p in pairs))
        self.total = self.cum[-1]

    def pick(self, rng: random.Random) -> str:
        # same as rng.choices(items, cum_weights=cum)[0], without its per-call overhead
        return self.items[bisect_right(self.cum, rng.random() * self.total, 0, len(self.cum) - 1)]


class PeopleGenerator:
    """Streams synthetic child records (and the labelled errors) for one province.

    `run_offset` separates personal-ID serials of successive runs in the same province.
    """

    def __init__(
        self,
        *,
        rng: random.Random,
        communes: list[CommuneInfo],
        as_of: date,
        other_prefixes: list[str],
        error_rate: float = 0.0,
        ref_prefix: str = "",
        run_offset: int = 0,
        profile: ErrorProfile | None = None,
    ) -> None:
        if not communes:
            raise ValueError("no communes")
        self.rng = rng
        self.communes = communes
        self.commune_cum = list(accumulate(c.weight for c in communes))
        self.as_of = as_of
        self.as_of_ordinal = as_of.toordinal()
        self.other_prefixes = other_prefixes
        self.error_rate = error_rate
        self.ref_prefix = ref_prefix
        self.run_offset = run_offset
        self.profile = profile or PROFILES["a"]
        self.serial = 0
        self._sibling_truths: dict[str, TruthRow] = {}  # second sibling's public id -> truth row
        self._id_counters: dict[tuple[str, int, str], list[int]] = {}  # key -> [count, salt]
        self._mixes = {c.code: _Weighted(c.ethnic_mix) for c in communes}
        self._styles: dict[str, tuple[NameStyle, _Weighted, _Weighted, _Weighted]] = {}
        self._style_key_of: dict[int, str] = {}
        self._errors = _Weighted(ERROR_KINDS)
        self._groups = _Weighted(CIRCUMSTANCE_GROUPS)
        self._supports = _Weighted(SUPPORT_TYPES)

    # --- small pieces -------------------------------------------------------------------------
    def _style(self, ethnicity: str) -> tuple[NameStyle, _Weighted, _Weighted, _Weighted]:
        key = STYLE_OF_ETHNICITY.get(ethnicity, "kinh")
        if key not in self._styles:
            style = styles()[key]
            self._style_key_of[id(style)] = key
            self._styles[key] = (
                style,
                _Weighted(style.surnames),
                _Weighted(style.male_middle),
                _Weighted(style.female_middle),
            )
        return self._styles[key]

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _next_ref(self) -> str:
        self.serial += 1
        return f"{self.ref_prefix}{self.serial:08d}"

    def personal_id(self, *, prefix: str, birth_year: int, sex: str) -> str:
        """A structurally valid, unique-per-run number (R-CH-08): serials are a permutation per bucket."""
        key = (prefix, birth_year, sex)
        counter = self._id_counters.get(key)
        if counter is None:
            counter = self._id_counters[key] = [0, zlib.crc32(f"{prefix}{birth_year}{sex}".encode())]
        count, salt = counter
        counter[0] = count + 1
        serial = ((count + self.run_offset) * 618_033 + salt) % 1_000_000  # 618033 is coprime with 10^6
        return compose(prefix=prefix, birth_year=birth_year, sex=sex, serial=serial)

    def _given(self, style: NameStyle, sex: str) -> str:
        short = SHORT_GIVEN.get(self._style_key_of.get(id(style), ""))
        if short and self.rng.random() < self.profile.short_given:
            return self.rng.choice(short[0] if sex == "M" else short[1])
        return self.rng.choice(style.male_given if sex == "M" else style.female_given)

    def _name(self, style_w: tuple[NameStyle, _Weighted, _Weighted, _Weighted], surname: str, sex: str) -> tuple[str, str]:  # fmt: skip
        style, _, male_mid, female_mid = style_w
        middle = (male_mid if sex == "M" else female_mid).pick(self.rng)
        given = self._given(style, sex)
        compounds = style.male_compound if sex == "M" else style.female_compound
        if compounds and self.rng.random() < 0.15:  # "Nguyễn Minh Khôi", "Trần Thị Minh Anh"
            compound = self.rng.choice(compounds)
            given = compound.split(" ")[-1]
            if self.rng.random() < 0.3:
                return f"{surname} {'Văn' if sex == 'M' else 'Thị'} {compound}", given
            return f"{surname} {compound}", given
        if style.surname_last:
            first = f"{middle}{given}" if middle.endswith("'") else f"{middle} {given}"
            return f"{first} {surname}", given
        return f"{surname} {middle} {given}", given

    def _prefix(self, commune: CommuneInfo) -> str:
        if self.other_prefixes and self.rng.random() < 0.06:
            return self.rng.choice(self.other_prefixes)
        return commune.birth_prefix

    def _date(self, ordinal: int) -> date:
        return date.fromordinal(ordinal)

    # --- families ------------------------------------------------------------------------------
    def family(self) -> list[ChildRow]:
        """One household: parents, 1-3 children under 16 sharing village, ethnicity and surname."""
        rng = self.rng
        commune = self.communes[
            bisect_right(self.commune_cum, rng.random() * self.commune_cum[-1], 0, len(self.communes) - 1)
        ]
        village = rng.choice(commune.village_ids) if commune.village_ids else None
        ethnicity = self._mixes[commune.code].pick(rng)
        style_w = self._style(ethnicity)
        style = style_w[0]
        father_surname = style_w[1].pick(rng)
        mother_surname = style_w[1].pick(rng)
        father_name, _ = self._name(style_w, father_surname, "M")
        mother_name, _ = self._name(style_w, mother_surname, "F")
        child_surname = mother_surname if style.surname_last else father_surname  # Ê Đê, Gia Rai: mẫu hệ

        roll = rng.random()
        kids = 1 if roll < 0.45 else (2 if roll < 0.85 else 3)
        eldest = self.as_of_ordinal - rng.randint(0, DAYS_0_TO_15_YEARS - 1)
        father_dob = eldest - rng.randint(20 * 365, 40 * 365)
        mother_dob = eldest - rng.randint(18 * 365, 38 * 365)
        father_has_id = rng.random() < 0.88
        mother_has_id = rng.random() < 0.92
        father_pid = (
            self.personal_id(prefix=self._prefix(commune), birth_year=self._date(father_dob).year, sex="M")
            if father_has_id
            else ""
        )
        mother_pid = (
            self.personal_id(prefix=self._prefix(commune), birth_year=self._date(mother_dob).year, sex="F")
            if mother_has_id
            else ""
        )
        rows: list[ChildRow] = []
        birth = eldest
        for _ in range(kids):
            if birth > self.as_of_ordinal or birth - min(father_dob, mother_dob) > 45 * 365:
                break  # parents are 18-45 at every birth
            sex = "M" if rng.random() < 0.512 else "F"
            full_name, given = self._name(style_w, child_surname, sex)
            namesake = None
            if (
                rows
                and self._style_key_of.get(id(style)) in SHORT_GIVEN
                and rng.random() < self.profile.sibling_same_name
            ):  # H'Mông/Thái/Dao habit: a younger sibling given the elder one's name (often after a death)
                namesake = rows[-1]
                full_name, given, sex = namesake.full_name, namesake.given, namesake.sex
            else:
                while any(r.given == given for r in rows):  # most parents do not give two children one name
                    full_name, given = self._name(style_w, child_surname, sex)
            dob = self._date(birth)
            age_days = self.as_of_ordinal - birth
            without_id = rng.random() < (0.40 if age_days < 365 else 0.035)
            pid = (
                ""
                if without_id
                else self.personal_id(prefix=self._prefix(commune), birth_year=dob.year, sex=sex)
            )
            row = ChildRow(
                public_id=self._uuid(),
                source_ref=self._next_ref(),
                commune=commune,
                village_id=village,
                full_name=full_name,
                date_of_birth=dob,
                sex=sex,
                ethnicity_code=ethnicity,
                personal_id=pid,
                father_name=father_name,
                father_dob=self._date(father_dob),
                father_personal_id=father_pid,
                mother_name=mother_name,
                mother_dob=self._date(mother_dob),
                mother_personal_id=mother_pid,
                given=given,
            )
            self._circumstances(row, style_w, father_surname, mother_surname)
            row.true = Identity(pid, full_name, dob, sex, father_name, mother_name) if pid else None
            if namesake is not None:
                self._sibling_truths[row.public_id] = TruthRow(
                    "sibling_same_name",
                    (namesake.public_id, row.public_id),
                    "same parents and name, other birth",
                )
            rows.append(row)
            birth += rng.randint(550, 2400)
        return rows

    def _circumstances(self, row: ChildRow, style_w: tuple[NameStyle, _Weighted, _Weighted, _Weighted],
                       father_surname: str, mother_surname: str) -> None:  # fmt: skip
        rng = self.rng
        assert row.date_of_birth is not None
        dob = row.date_of_birth.toordinal()
        group = self._groups.pick(rng) if rng.random() < 0.05 else ""
        needs_guardian = group in NEEDS_GUARDIAN
        if needs_guardian or rng.random() < 0.025:
            relationship, sex, maternal = rng.choice(GUARDIAN_RELATIONSHIPS)
            surname = mother_surname if maternal else father_surname
            row.guardian_name, _ = self._name(style_w, surname, sex)
            low, high = {"ONG": (40, 70), "BA": (38, 68), "ANH_CHI": (18, 24)}.get(relationship, (20, 45))
            guardian_dob = self._date(dob - rng.randint(low * 365, high * 365))
            row.guardian_dob = guardian_dob
            row.guardian_relationship = relationship
            if rng.random() < 0.85:
                row.guardian_personal_id = self.personal_id(
                    prefix=row.commune.birth_prefix, birth_year=guardian_dob.year, sex=sex
                )
        if not group:
            return
        span = self.as_of_ordinal - dob
        start = dob + rng.randint(0, max(span, 0))
        end: date | None = None
        if rng.random() < 0.25 and self.as_of_ordinal - start > 30:
            end = self._date(start + rng.randint(30, self.as_of_ordinal - start))
        subgroup = rng.choice(SUBGROUPS[group]) if group in SUBGROUPS else ""
        row.circumstances.append((group, subgroup, self._date(start), end))
        if group != "NGUY_CO" and rng.random() < 0.6:
            for _ in range(rng.randint(1, 3)):
                when = self._date(start + rng.randint(0, max(self.as_of_ordinal - start, 0)))
                row.supports.append((self._supports.pick(rng), when, rng.choice(SUPPORT_PROVIDERS)))

    # --- errors (labelled) ---------------------------------------------------------------------
    def _twin(self, row: ChildRow) -> ChildRow:
        """Not a duplicate: same birth, parents and village; own given name and own ID."""
        style_w = self._style(row.ethnicity_code)
        surname = row.full_name.split(" ")[-1 if style_w[0].surname_last else 0]
        sex = "M" if self.rng.random() < 0.5 else "F"
        for _ in range(20):
            full_name, given = self._name(style_w, surname, sex)
            if given != row.given and full_name != row.full_name:
                break
        short = SHORT_GIVEN.get(self._style_key_of.get(id(style_w[0]), ""))
        if short and self.rng.random() < self.profile.twin_near_name:
            # "Lử" / "Sử", "Pó" / "Páo": one letter apart, two children
            near = [
                g for g in short[0] + short[1] if g != row.given and _one_edit(_fold(g), _fold(row.given))
            ]
            if near:
                given = self.rng.choice(near)
                words = row.full_name.split(" ")
                words[-1 if not style_w[0].surname_last else -2] = given
                full_name = " ".join(words)
                sex = "M" if given in short[0] else "F"
        assert row.date_of_birth is not None
        has_id = bool(row.personal_id) or bool(row.true)
        prefix = row.personal_id[:3] if row.personal_id else row.commune.birth_prefix
        pid = self.personal_id(prefix=prefix, birth_year=row.date_of_birth.year, sex=sex) if has_id else ""
        twin = replace(
            row,
            public_id=self._uuid(),
            source_ref=self._next_ref(),
            full_name=full_name,
            given=given,
            sex=sex,
            personal_id=pid,
            circumstances=list(row.circumstances),
            supports=[],
        )
        twin.true = (
            Identity(pid, full_name, row.date_of_birth, sex, row.father_name, row.mother_name)
            if pid
            else None
        )
        return twin

    def _typo(self, word: str) -> str:
        rng = self.rng
        letters = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
        for _ in range(10):
            i = rng.randrange(len(word))
            op = rng.randrange(3)
            if op == 0 and len(word) > 2:
                candidate = word[:i] + word[i + 1 :]
            elif op == 1:
                candidate = word[:i] + rng.choice(letters) + word[i + 1 :]
            else:
                candidate = word[:i] + word[i] + word[i:]
            if candidate != word and candidate.strip():
                return candidate
        return word + "h"

    def _transpose(self, word: str) -> str:
        if len(word) < 2:
            return word
        for _ in range(5):
            i = self.rng.randrange(len(word) - 1)
            if word[i] != word[i + 1]:
                return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        return word

    def _ocr(self, word: str) -> str:
        options = [(a, b) for a, b in OCR_CONFUSIONS if a in word]
        if not options:
            return word
        a, b = self.rng.choice(options)
        i = word.index(a)
        return word[:i] + b + word[i + len(a) :]

    def _name_part(self, full_name: str, edit: str) -> str:
        """Apply `edit` (typo / transposition / ocr) to the given name (mostly) or the family name."""
        parts = full_name.split(" ")
        i = -1 if self.rng.random() < 0.7 or len(parts) < 2 else 0
        word = parts[i]
        new = {"typo": self._typo, "transposition": self._transpose, "ocr": self._ocr}[edit](word)
        parts[i] = new
        return " ".join(parts)

    def _duplicate(self, row: ChildRow) -> tuple[ChildRow, str]:
        """A second record of the same child, with realistic entry differences (rates: `self.profile`)."""
        rng = self.rng
        rates = self.profile
        dup = replace(row, public_id=self._uuid(), source_ref=self._next_ref(), circumstances=[], supports=[])
        dup.true = None
        changes: list[str] = []
        order = ["dropped_middle", "transposition", "ocr", "typo", "dropped_diacritics", "surname_variant",
                 "swapped_day_month", "year_typo", "missing_id", "village", "moved_commune", "mother_typo",
                 "missing_mother"]  # fmt: skip
        chosen = [c for c in order if rng.random() < getattr(rates, c)]
        if not chosen:
            chosen = [rng.choice(order)]
        for change in chosen:
            before = (
                dup.full_name,
                dup.date_of_birth,
                dup.personal_id,
                dup.village_id,
                dup.commune,
                dup.mother_name,
            )
            if change == "dropped_diacritics":
                dup.full_name = strip_diacritics(dup.full_name)
            elif change in ("typo", "transposition", "ocr"):
                dup.full_name = self._name_part(dup.full_name, change)
            elif change == "dropped_middle":
                parts = dup.full_name.split(" ")
                if len(parts) >= 3 and not self._style(row.ethnicity_code)[0].surname_last:
                    dup.full_name = f"{parts[0]} {parts[-1]}"
            elif change == "surname_variant":
                parts = dup.full_name.split(" ")
                if parts[0] in SURNAME_VARIANTS:
                    parts[0] = SURNAME_VARIANTS[parts[0]]
                    dup.full_name = " ".join(parts)
            elif change == "swapped_day_month":
                dup.date_of_birth = self._swap(dup.date_of_birth) or dup.date_of_birth
            elif change == "year_typo" and dup.date_of_birth is not None:
                d = dup.date_of_birth
                year = d.year + rng.choice((-1, 1))
                if not (d.month == 2 and d.day == 29) and date(year, d.month, d.day) <= self.as_of:
                    dup.date_of_birth = date(year, d.month, d.day)
            elif change == "missing_id":
                dup.personal_id = ""
            elif change == "village" and len(dup.commune.village_ids) > 1:
                dup.village_id = rng.choice([v for v in dup.commune.village_ids if v != dup.village_id])
            elif change == "moved_commune" and len(self.communes) > 1:
                dup.commune = rng.choice([c for c in self.communes if c.code != row.commune.code])
                dup.village_id = rng.choice(dup.commune.village_ids) if dup.commune.village_ids else None
            elif change == "mother_typo" and dup.mother_name:
                dup.mother_name = self._name_part(dup.mother_name, rng.choice(("typo", "transposition")))
            elif change == "missing_mother" and dup.mother_name:
                dup.mother_name, dup.mother_dob, dup.mother_personal_id = "", None, ""
            if before != (
                dup.full_name,
                dup.date_of_birth,
                dup.personal_id,
                dup.village_id,
                dup.commune,
                dup.mother_name,
            ):
                changes.append(change)
        if not changes or (dup.full_name, dup.date_of_birth, dup.personal_id, dup.village_id) == (
            row.full_name, row.date_of_birth, row.personal_id, row.village_id
        ):  # fmt: skip
            parts = dup.full_name.split(" ")
            parts[-1] = self._typo(parts[-1])
            dup.full_name = " ".join(parts)
            changes.append("typo")
        return dup, ";".join(changes)

    def _swap(self, value: date | None) -> date | None:
        if value is None or value.day > 12 or value.day == value.month:
            return None
        swapped = date(value.year, value.day, value.month)
        return swapped if swapped <= self.as_of else None

    def _corrupt(self, row: ChildRow, kind: str) -> str | None:
        """Apply one single-record error in place; returns the detail, or None if not applicable."""
        rng = self.rng
        if kind == "dropped_diacritics":
            stripped = strip_diacritics(row.full_name)
            if stripped == row.full_name:
                return None
            row.full_name = stripped
            return "full_name"
        if kind == "swapped_day_month":
            swapped = self._swap(row.date_of_birth)
            if swapped is None:
                return None
            row.date_of_birth = swapped
            return "date_of_birth"
        if kind == "missing_field":
            name = rng.choice(("ethnicity_code", "sex", "father", "mother"))
            if name in ("father", "mother"):
                setattr(row, f"{name}_name", "")
                setattr(row, f"{name}_dob", None)
                setattr(row, f"{name}_personal_id", "")
            else:
                setattr(row, name, "")
            return name
        if not row.personal_id:
            return None
        pid = row.personal_id
        if kind == "malformed_id":
            variant = rng.choice(("11_digits", "letter", "wrong_prefix"))
            if variant == "11_digits":
                i = rng.randrange(4, 12)
                row.personal_id = pid[:i] + pid[i + 1 :]
            elif variant == "letter":
                i = rng.randrange(6, 12)
                row.personal_id = pid[:i] + rng.choice("OIlSB") + pid[i + 1 :]
            else:  # prefixes that no province has (003, 005, 007, …)
                row.personal_id = rng.choice(("003", "005", "007", "009", "013", "099")) + pid[3:]
            return f"personal_id:{variant}"
        if kind == "inconsistent_id":
            roll = rng.random()
            if roll < 0.4:  # sex digit says the other sex
                row.personal_id = pid[:3] + str(int(pid[3]) ^ 1) + pid[4:]
                return "personal_id:sex"
            if roll < 0.6:  # century digit of the 1900s for a child born in the 2000s
                row.personal_id = pid[:3] + str(int(pid[3]) - 2) + pid[4:]
                return "personal_id:century"
            year = int(pid[4:6])
            shift = rng.choice((-2, -1, 1, 2))
            row.personal_id = pid[:4] + f"{(year + shift) % 100:02d}" + pid[6:]
            return "personal_id:birth_year"
        return None

    # --- the stream ----------------------------------------------------------------------------
    def stream(self, total: int) -> Iterator[tuple[ChildRow, TruthRow | None]]:
        """Yield exactly `total` child records, each with the truth row it completes (if any)."""
        produced = 0
        rng = self.rng
        while produced < total:
            for row in self.family():
                if produced >= total:
                    return
                sibling = self._sibling_truths.pop(row.public_id, None)
                if sibling is not None:  # a family habit, not an entry error: labelled, left untouched
                    produced += 1
                    yield row, sibling
                    continue
                if not self.error_rate or rng.random() >= self.error_rate:
                    produced += 1
                    yield row, None
                    continue
                kind = self._errors.pick(rng)
                room = total - produced >= 2
                if kind in ("duplicate", "twin") and room:
                    other, detail = (
                        self._duplicate(row)
                        if kind == "duplicate"
                        else (
                            self._twin(row),
                            "same date of birth, parents and village; own given name and ID",
                        )
                    )
                    produced += 2
                    yield row, None
                    yield other, TruthRow(kind, (row.public_id, other.public_id), detail)
                    continue
                if kind in ("duplicate", "twin"):
                    kind = "missing_field"
                found = self._corrupt(row, kind)
                if found is None:
                    kind = "missing_field"
                    found = self._corrupt(row, kind)
                produced += 1
                yield row, TruthRow(kind, (row.public_id,), found or "")
