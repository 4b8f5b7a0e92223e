"""Synthetic MCH/RH register records for the demo (sổ khám thai, đẻ, phá thai, phụ khoa, BPTT, khám trẻ < 6 tuổi,
tử vong) so the monthly reports (Biểu 3/BCX, 4-8/BCH-BCT) show real numbers.

Records are written through the registers' own batch path (`records_upsert`, the one the bulk API uses) with
source_system "demo" and stable source_record_ids: validation and derived fields (age, vị thành niên, dân tộc
thiểu số, tuổi thai, z-scores…) are exactly those of real data, and a re-run with the same seed upserts
nothing new. Volumes follow the number of children of each commune (≈ children/6 births a year); the women are
the children's mothers (so ethnic minorities follow the communes' mix), with a few adolescents.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from mchis.core.errors import DomainError
from mchis.registers import catalogs
from mchis.registers.models import BatchChannel
from mchis.registers.services import MAX_BATCH, StoredPrincipal, records_upsert
from mchis.registry.models import Child
from mchis.registry.personal_id import check as check_personal_id
from mchis.units.models import ReportingUnit, UnitKind

SOURCE_SYSTEM = "demo"
REGISTER_ORDER = ("anc", "delivery", "abortion", "gyn", "contraception", "child_exam", "death")
BIRTHS_PER_CHILD_MONTH = 1 / 72  # children are under 6: about one sixth of them are born each year
# The nation (issue 20): ~1.4 million births a year for ~25 million children under 16; with the per-birth
# volumes below (ANC 4.2, gyn 3, contraception 1.6, …, plus child exams) ≈ 20 million register events a year.
NATIONAL_BIRTHS_PER_CHILD_MONTH = 1.4e6 / 25e6 / 12
# (weight kg, length/height cm) medians by age in months, WHO 2006 (both sexes, rounded): interpolated.
_GROWTH = ((0, 3.3, 50.0), (3, 6.2, 61.0), (6, 7.6, 66.5), (12, 9.4, 75.0), (24, 12.0, 86.8),
           (36, 14.1, 95.6), (48, 16.1, 102.9), (60, 18.2, 109.6), (72, 20.3, 115.8))  # fmt: skip
_CONTRACEPTION = (("iud", 30), ("pill", 24), ("condom", 20), ("injectable", 14), ("implant", 6),
                  ("sterilisation", 3), ("other_modern", 2), ("traditional", 1))  # fmt: skip
# ICD-10 causes (in the shipped cause-of-death catalog) by kind of death.
_CAUSES = {
    "neonatal": ("P07", "P21", "P22", "P36", "Q24", "P23"),
    "child": ("J18", "A09", "A41", "W69", "V89", "G04", "E43"),
    "maternal": ("O72", "O15", "O85", "O88", "O71"),
    "fetal": ("P95", "P02", "P00"),
}


@dataclass(frozen=True)
class Woman:
    name: str
    dob: date | None
    ethnicity: str
    personal_id: str
    adolescent: bool = False


@dataclass(frozen=True)
class Kid:
    name: str
    dob: date
    sex: str
    ethnicity: str
    mother: str
    personal_id: str


@dataclass
class Site:
    tyt: ReportingUnit
    hospital: str  # the district (or provincial) hospital where most of its women deliver
    women: list[Woman]
    kids: list[Kid]


def month_starts(as_of: date, months: int) -> list[date]:
    """The first days of the last `months` full calendar months before `as_of`, oldest first."""
    out: list[date] = []
    year, month = as_of.year, as_of.month
    for _ in range(months):
        month -= 1
        if month == 0:
            year, month = year - 1, 12
        out.append(date(year, month, 1))
    return out[::-1]


def _poisson(rng: random.Random, mean: float) -> int:
    if mean <= 0:
        return 0
    if mean > 30:
        return max(0, round(rng.gauss(mean, math.sqrt(mean))))
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _pick(rng: random.Random, options: Iterable[tuple[str, int]]) -> str:
    items = list(options)
    return rng.choices([k for k, _ in items], weights=[w for _, w in items])[0]


def _sites(province_code: str) -> list[Site]:
    tyts = list(
        ReportingUnit.objects.filter(kind=UnitKind.TYT, code__startswith="TYT", admin_unit__parent__code=province_code, active=True)
        .order_by("code")
    )  # fmt: skip
    hospitals = {
        parent_id: code
        for parent_id, code in ReportingUnit.objects.filter(
            kind=UnitKind.DISTRICT_HOSPITAL, parent_id__in={t.parent_id for t in tyts}, active=True
        )
        .order_by("-code")
        .values_list("parent_id", "code")
    }
    fallback = f"BVSN{province_code}"
    women: dict[int, dict[tuple[str, str], Woman]] = defaultdict(dict)
    kids: dict[int, list[Kid]] = defaultdict(list)
    rows = Child.objects.filter(unit__in=tyts).order_by("id").values_list(
        "unit_id", "full_name", "date_of_birth", "sex", "ethnicity_code", "personal_id",
        "mother_name", "mother_dob", "mother_personal_id",
    )  # fmt: skip
    for unit_id, name, dob, sex, eth, pid, m_name, m_dob, m_pid in rows.iterator(chunk_size=5000):
        if dob and sex in ("M", "F"):
            kids[unit_id].append(Kid(name, dob, sex, eth or "", m_name or "", _usable_id(pid, dob, sex)))
        if m_name:
            woman = Woman(m_name, m_dob, eth or "", _usable_id(m_pid, m_dob, "F"))
            women[unit_id].setdefault((m_name, str(m_dob)), woman)
    return [
        Site(t, hospitals.get(t.parent_id or 0, fallback), list(women[t.pk].values()), kids[t.pk])
        for t in tyts
        if women[t.pk]
    ]


def _usable_id(value: str | None, dob: date | None, sex: str) -> str:
    """A facility records an ID only when it reads right: the registry's labelled bad IDs become unknown."""
    if not value or check_personal_id(value, date_of_birth=dob, sex=sex):
        return ""
    return value


class _MonthBuilder:
    """The records of one commune (TYT) for one month, from its own random stream."""

    def __init__(
        self,
        site: Site,
        month: date,
        seed: int,
        province_code: str,
        as_of: date,
        births_per_child_month: float = BIRTHS_PER_CHILD_MONTH,
    ) -> None:
        self.site = site
        self.month = month
        self.rng = random.Random(f"mchis-demo-registers:{seed}:{province_code}:{site.tyt.code}:{month}")
        next_month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        self.last_day = min(next_month - timedelta(days=1), as_of - timedelta(days=1))
        self.as_of = as_of
        self.visits_rng = random.Random(
            f"mchis-demo-postnatal:{seed}:{province_code}:{site.tyt.code}:{month}"
        )
        self.tag = f"{month:%Y%m}-{site.tyt.code}"
        self.out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        self.births = len(site.kids) * births_per_child_month
        self.province_hospital = f"BVSN{province_code}"

    def day(self) -> date:
        return self.month + timedelta(days=self.rng.randint(0, (self.last_day - self.month).days))

    def woman(self, on: date, lo: int = 15, hi: int = 49) -> Woman:
        """A mother of the commune aged lo..hi on that day; ~4% of pregnancies are adolescents'."""
        rng = self.rng
        if lo <= 19 and rng.random() < 0.04:
            base = rng.choice(self.site.women)
            years = rng.randint(16, 19)
            dob = on.replace(year=on.year - years) - timedelta(days=rng.randint(1, 300))
            return Woman(base.name, dob, base.ethnicity, "", adolescent=True)
        for _ in range(20):
            w = rng.choice(self.site.women)
            if w.dob is None or lo <= _age(w.dob, on) <= hi:
                return w
        return Woman(w.name, None, w.ethnicity, "")

    def subject(
        self, w: Woman, facility: str, on: date, key: str, place: str = "at_facility"
    ) -> dict[str, Any]:
        rec: dict[str, Any] = {
            "facility": facility, "source_system": SOURCE_SYSTEM, "source_record_id": f"{key}-{self.tag}",
            "event_date": on.isoformat(), "place": place, "full_name": w.name, "sex": "F",
            "ethnicity_code": w.ethnicity, "personal_id": w.personal_id,
        }  # fmt: skip
        if w.dob:
            rec["dob"] = w.dob.isoformat()
        return rec

    def build(self) -> dict[str, list[dict[str, Any]]]:
        if not self.site.women:
            return self.out
        self.deliveries()
        self.anc()
        self.abortions()
        self.gyn()
        self.contraception()
        self.child_exams()
        self.child_deaths()
        return self.out

    def deliveries(self) -> None:
        rng, tyt = self.rng, self.site.tyt.code
        for n in range(_poisson(rng, self.births)):
            on = self.day()
            w = self.woman(on)
            where = rng.random()
            if where < 0.62:
                facility, place = self.site.hospital, "at_facility"
            elif where < 0.70:
                facility, place = self.province_hospital, "at_facility"
            elif where < 0.94:
                facility, place = tyt, "at_facility"
            else:
                facility, place = tyt, "outside"
            weeks = min(42, max(28, round(rng.gauss(38.6, 1.6))))
            visits = rng.choices((0, 1, 2, 3, 4, 5, 6), weights=(2, 3, 5, 10, 30, 30, 20))[0]
            hiv_tested = rng.random() < 0.85
            caesar = facility != tyt and rng.random() < 0.35
            rec = self.subject(w, facility, on, f"D{n}", place)
            rec.update({
                "gestational_age_weeks": weeks,
                "delivery_mode": "caesarean" if caesar else ("instrumental" if facility != tyt and rng.random() < 0.03 else "normal"),
                "attendant": ("doctor" if caesar else "midwife") if place == "at_facility" else _pick(rng, (("family", 6), ("village_midwife", 3), ("none", 1))),
                "anc_visits": visits, "anc_all_trimesters": visits >= 3 and rng.random() < 0.8,
                "tetanus_fully_vaccinated": rng.random() < 0.9,
                "hepb_tested_pregnancy": visits > 0 and rng.random() < 0.8, "hepb_tested_labour": rng.random() < 0.2,
                "syphilis_tested_pregnancy": visits > 0 and rng.random() < 0.6,
                "hiv_tested_pregnancy": hiv_tested, "glucose_tested": visits > 1 and rng.random() < 0.5,
                "comp_haemorrhage": rng.random() < 0.01, "comp_eclampsia": rng.random() < 0.003,
            })  # fmt: skip
            rec["hepb_positive"] = (
                bool(rec["hepb_tested_pregnancy"] or rec["hepb_tested_labour"]) and rng.random() < 0.08
            )
            rec["glucose_high"] = rec["glucose_tested"] and rng.random() < 0.07
            # Home postnatal visits after leaving the facility. The main stream draws exactly what it drew before
            # the visit timing mattered (so the rest of the demo is unchanged); their own stream spreads the
            # first-week visits over days 1-7 (days 1-2 count as "within 2 days") and adds week 2-6 visits.
            if on + timedelta(days=3) < self.last_day and rng.random() < 0.6:
                first = rng.randint(1, 3)
                if self.visits_rng.random() < 0.3 and on + timedelta(days=first + 4) < self.as_of:
                    first += 4
                rec["postpartum_week1_date"] = (on + timedelta(days=first)).isoformat()
            later = on + timedelta(days=self.visits_rng.randint(8, 42))
            if self.visits_rng.random() < 0.4 and later < self.as_of:
                rec["postpartum_week2_6_date"] = later.isoformat()
            twins = rng.random() < 0.012
            newborns = []
            for order in (1, 2) if twins else (1,):
                still = rng.random() < 0.008
                grams = round(rng.gauss(3100 - max(0, 37 - weeks) * 250 - (350 if twins else 0), 420))
                nb: dict[str, Any] = {"birth_order": order, "sex": rng.choice("MF"),
                                      "weight_grams": min(5200, max(700, grams))}  # fmt: skip
                if still:
                    nb["outcome"] = "stillbirth"
                else:
                    nb.update({
                        "outcome": "live", "eenc": place == "at_facility" and rng.random() < 0.9,
                        "vitamin_k1": rng.random() < 0.95, "hepb_vaccine_24h": rng.random() < 0.85,
                        "birth_certificate": rng.random() < 0.97, "asphyxia": rng.random() < 0.02,
                        "kangaroo_care": grams < 2500 and rng.random() < 0.6,
                    })  # fmt: skip
                newborns.append(nb)
                if still:
                    death = self.subject(w, facility, on, f"F{n}-{order}", place)
                    death.update({"death_kind": "fetal", "gestational_age_weeks": weeks,
                                  "icd10_code": rng.choice(_CAUSES["fetal"]), "mother_name": w.name})  # fmt: skip
                    self.out["death"].append(death)
            rec["newborns"] = newborns
            self.out["delivery"].append(rec)
            if rng.random() < 0.004:  # ~46/100,000 in reality: scaled up ~9× so the demo shows a few
                death = self.subject(w, facility, min(self.last_day, on + timedelta(days=1)), f"M{n}", place)
                death.update({"death_kind": "maternal", "icd10_code": rng.choice(_CAUSES["maternal"]),
                              "obstetric_complication": "haemorrhage" if rec["comp_haemorrhage"] else "",
                              "maternal_death_reviewed": rng.random() < 0.8})  # fmt: skip
                if death["obstetric_complication"] == "":
                    del death["obstetric_complication"]
                self.out["death"].append(death)

    def anc(self) -> None:
        rng, tyt = self.rng, self.site.tyt.code
        for n in range(_poisson(rng, self.births * 4.2)):
            on = self.day()
            w = self.woman(on)
            new = rng.random() < 0.25
            weeks = rng.randint(6, 13) if new else rng.randint(12, 39)
            rec = self.subject(w, tyt, on, f"A{n}")
            tested = new and rng.random() < 0.8
            rec.update({
                "is_new_pregnancy": new, "visit_number": 1 if new else rng.randint(2, 6),
                "gestational_age_weeks": weeks, "lmp_date": (on - timedelta(weeks=weeks, days=rng.randint(0, 6))).isoformat(),
                "urine_protein_tested": rng.random() < 0.7, "hiv_tested": tested, "hepb_tested": tested,
                "syphilis_tested": tested and rng.random() < 0.7, "tetanus_dose": rng.choice((0, 0, 1, 2)),
            })  # fmt: skip
            del rec["gestational_age_weeks"]  # derived from the LMP by the register's rules
            if tested:
                rec["hiv_result"] = "negative"
                rec["hepb_result"] = "positive" if rng.random() < 0.08 else "negative"
            self.out["anc"].append(rec)

    def abortions(self) -> None:
        rng = self.rng
        for n in range(_poisson(rng, self.births * 0.25)):
            on = self.day()
            w = self.woman(on)
            weeks = rng.choices((5, 6, 7, 8, 10, 12, 14, 16), weights=(20, 30, 20, 10, 8, 5, 4, 3))[0]
            facility = self.site.tyt.code if weeks <= 7 and rng.random() < 0.6 else self.site.hospital
            rec = self.subject(w, facility, on, f"P{n}")
            rec.update({"gestational_age_weeks": weeks, "method": "medical" if weeks <= 7 else "vacuum",
                        "complication": rng.random() < 0.01})  # fmt: skip
            self.out["abortion"].append(rec)

    def gyn(self) -> None:
        rng = self.rng
        for n in range(_poisson(rng, self.births * 3)):
            on = self.day()
            w = self.woman(on, 18, 60)
            screening = rng.random() < 0.4
            rec = self.subject(w, self.site.tyt.code, on, f"G{n}")
            rec["purpose"] = "screening" if screening else "treatment"
            if screening:
                via = rng.random() < 0.8
                rec["via_done"] = via
                if via:
                    rec["via_result"] = _pick(
                        rng, (("negative", 940), ("positive", 50), ("suspect_cancer", 10))
                    )
                rec["pap_sample_sent"] = rng.random() < 0.1
                rec["hpv_sample_sent"] = rng.random() < 0.05
            else:
                rec["treated"] = rng.random() < 0.6
            self.out["gyn"].append(rec)

    def contraception(self) -> None:
        rng = self.rng
        for n in range(_poisson(rng, self.births * 1.6)):
            on = self.day()
            w = self.woman(on)
            method = _pick(rng, _CONTRACEPTION)
            rec = self.subject(w, self.site.tyt.code, on, f"C{n}")
            rec.update({"method_code": method, "is_new_user": True, "complication": rng.random() < 0.003})
            if method == "sterilisation" and rng.random() < 0.1:  # triệt sản nam: the client is the husband
                rec.update({"sex": "M", "full_name": "Chồng " + w.name, "personal_id": ""})
                rec.pop("dob", None)
            self.out["contraception"].append(rec)

    def child_exams(self) -> None:
        rng = self.rng
        kids = [k for k in self.site.kids if (self.month - k.dob).days < 6 * 365 - 40 and k.dob < self.month]
        for kid in kids:
            if rng.random() >= 0.09:  # periodic exams: about once a year per child
                continue
            on = self.day()
            months = (on - kid.dob).days / 30.4375
            weight, height = _median(months)
            haz = rng.gauss(-0.8, 1.1)
            whz = rng.gauss(-0.1, 0.9)
            height_cm = height * (1 + haz * 0.037)
            weight_kg = weight * (height_cm / height) ** 2.3 * (1 + whz * 0.09)
            rec = {
                "facility": self.site.tyt.code, "source_system": SOURCE_SYSTEM,
                "source_record_id": f"K{kid.dob:%Y%m%d}-{len(self.out['child_exam'])}-{self.tag}",
                "event_date": on.isoformat(), "place": "at_facility", "full_name": kid.name, "dob": kid.dob.isoformat(), "sex": kid.sex,
                "ethnicity_code": kid.ethnicity, "personal_id": kid.personal_id, "mother_name": kid.mother,
                "weight_kg": f"{max(1.0, weight_kg):.1f}", "height_cm": f"{max(40.0, height_cm):.1f}",
                "measured_lying": months < 24,
            }  # fmt: skip
            self.out["child_exam"].append(rec)

    def child_deaths(self) -> None:
        rng = self.rng
        for n in range(_poisson(rng, self.births * 0.02)):
            on = self.day()
            kid = rng.choice(self.site.kids)
            kind = _pick(rng, (("neonatal", 55), ("child", 45)))
            days = rng.randint(0, 27) if kind == "neonatal" else rng.randint(28, 4 * 365)
            dob = on - timedelta(days=days)
            rec = {
                "facility": self.site.tyt.code, "source_system": SOURCE_SYSTEM, "source_record_id": f"T{n}-{self.tag}",
                "event_date": on.isoformat(), "place": _pick(rng, (("other_facility", 6), ("outside", 3), ("at_facility", 1))),
                "full_name": kid.name, "dob": dob.isoformat(), "sex": kid.sex, "ethnicity_code": kid.ethnicity,
                "death_kind": "child", "icd10_code": rng.choice(_CAUSES[kind]), "mother_name": kid.mother,
            }  # fmt: skip
            self.out["death"].append(rec)


def _age(dob: date, on: date) -> int:
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def _median(months: float) -> tuple[float, float]:
    for (m0, w0, h0), (m1, w1, h1) in zip(_GROWTH, _GROWTH[1:], strict=False):
        if months <= m1:
            t = max(0.0, (months - m0) / (m1 - m0))
            return w0 + t * (w1 - w0), h0 + t * (h1 - h0)
    return _GROWTH[-1][1], _GROWTH[-1][2]


@dataclass
class RegistersReport:
    months: list[date]
    created: Counter[str]
    unchanged: Counter[str]
    rejected: Counter[str]
    newborns: int = 0


def demo_registers_generate(
    *,
    province_code: str,
    doh: ReportingUnit,
    months: int,
    seed: int,
    as_of: date,
    births_per_child_month: float = BIRTHS_PER_CHILD_MONTH,
) -> RegistersReport:
    """Write `months` months of register records for the province's communes through `records_upsert`
    (`births_per_child_month`: the demo's lively default, or `NATIONAL_BIRTHS_PER_CHILD_MONTH`).

    Runs as a system machine principal scoped to the Sở Y tế (the registers refuse an anonymous actor) and with
    the bulk API's channel, so every record passes the same validation as real uploads.
    """
    periods = month_starts(as_of, months)
    report = RegistersReport(months=periods, created=Counter(), unchanged=Counter(), rejected=Counter())
    if months <= 0:
        return report
    sites = _sites(province_code)
    batches: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for month in periods:
        for site in sites:
            builder = _MonthBuilder(site, month, seed, province_code, as_of, births_per_child_month)
            for key, records in builder.build().items():
                batches[key].extend(records)
    actor = StoredPrincipal(unit=doh, scopes={"register.write"}, client_name="generate_demo")
    known_icd = catalogs.catalog_codes("icd10", on=as_of)
    for key in REGISTER_ORDER:
        records = batches.get(key, [])
        if key == "death" and known_icd is not None:  # keep only causes the loaded catalog knows
            records = [r for r in records if catalogs.code_ok("icd10", r["icd10_code"], known_icd)]
        for start in range(0, len(records), MAX_BATCH):
            chunk = records[start : start + MAX_BATCH]
            result = records_upsert(
                actor=actor, register=key, records=chunk, channel=BatchChannel.API, today=as_of
            )
            report.created[key] += result.created + result.updated
            report.unchanged[key] += result.unchanged
            report.rejected[key] += result.rejected
            if result.rejected:
                raise DomainError(
                    f"Dữ liệu mô phỏng sổ {key} bị từ chối: {result.conflicts[:3]}", field="registers"
                )
        if key == "delivery":
            report.newborns = sum(len(r["newborns"]) for r in records)
    return report
