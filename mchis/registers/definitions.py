"""Register definitions as data: the input fields of each register (sổ), shared by the web form, the Excel
template/reader, the API JSON schema and the validator. Derived fields (age, adolescent, z-scores…) are not
inputs: `validation.py` computes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.utils.translation import gettext_noop  # labels stay Vietnamese data; pages translate them

from mchis.core.errors import DomainError

from . import models as m


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: str  # str | date | int | decimal | bool | choice | catalog
    label: str
    required: bool = False
    choices: type[models.TextChoices] | None = None
    catalog: str = ""
    min: float | None = None
    max: float | None = None
    max_length: int = 200
    help: str = ""

    def choice_values(self) -> list[str]:
        return [str(v) for v in self.choices.values] if self.choices else []


@dataclass(frozen=True)
class RegisterDef:
    key: str
    model: type[m.RegisterRecord]
    label: str
    fields: tuple[FieldSpec, ...]
    woman: bool = True  # the subject is a woman (sex F enforced)
    newborns: bool = False
    extra_subject: tuple[FieldSpec, ...] = field(default=())
    # Date fields, besides the event's month, by whose month a report may count the record (a form query's
    # `period_field`): a write marks those months changed too, and the form loader refuses any other date there.
    period_dates: tuple[str, ...] = ()

    @property
    def all_fields(self) -> tuple[FieldSpec, ...]:
        return COMMON_FIELDS + self.fields

    def spec(self, name: str) -> FieldSpec | None:
        for spec in self.all_fields:
            if spec.name == name:
                return spec
        return None


def F(name: str, kind: str, label: str, **kw: Any) -> FieldSpec:  # a terse table builder
    return FieldSpec(name=name, kind=kind, label=label, **kw)


COMMON_FIELDS: tuple[FieldSpec, ...] = (
    F(
        "facility",
        "str",
        gettext_noop("Mã cơ sở"),
        required=True,
        max_length=32,
        help="Mã đơn vị báo cáo ghi nhận (TYT, BV…)",
    ),
    F(
        "source_system",
        "str",
        gettext_noop("Hệ thống nguồn"),
        max_length=64,
        help="Phần mềm gửi dữ liệu; mặc định web/excel",
    ),
    F(
        "source_record_id",
        "str",
        gettext_noop("Mã bản ghi nguồn"),
        max_length=64,
        help="Mã bản ghi trong phần mềm nguồn",
    ),
    F("event_date", "date", gettext_noop("Ngày"), required=True),
    F("place", "choice", gettext_noop("Nơi thực hiện"), required=True, choices=m.PlaceOfService),
    F("full_name", "str", gettext_noop("Họ và tên"), required=True),
    F("dob", "date", gettext_noop("Ngày sinh")),
    F("sex", "choice", gettext_noop("Giới tính"), choices=m.Sex),
    F("ethnicity_code", "catalog", gettext_noop("Dân tộc"), catalog="ethnicity", max_length=8),
    F("personal_id", "str", gettext_noop("Số định danh cá nhân"), max_length=12),
    F("address", "str", gettext_noop("Địa chỉ"), max_length=300),
    F(
        "residence_commune_code",
        "str",
        gettext_noop("Mã xã nơi cư trú (2025)"),
        max_length=5,
        help="Mã xã/phường/đặc khu năm 2025; để trống thì tính từ địa chỉ",
    ),
    F("note", "str", gettext_noop("Ghi chú"), max_length=500),
)

NEWBORN_FIELDS: tuple[FieldSpec, ...] = (
    F("birth_order", "int", gettext_noop("Thứ tự trẻ"), min=1, max=6),
    F("outcome", "choice", gettext_noop("Kết quả"), required=True, choices=m.BirthOutcome),
    F("sex", "choice", gettext_noop("Giới tính trẻ"), choices=m.Sex),
    F("weight_grams", "int", gettext_noop("Cân nặng (gam)"), min=300, max=6500),
    F("asphyxia", "bool", gettext_noop("Ngạt")),
    F("eenc", "bool", gettext_noop("Chăm sóc thiết yếu sớm (EENC)")),
    F("kangaroo_care", "bool", gettext_noop("Chăm sóc Kangaroo")),
    F("vitamin_k1", "bool", gettext_noop("Tiêm vitamin K1")),
    F("hepb_vaccine", "bool", gettext_noop("Tiêm vắc xin viêm gan B")),
    F("hepb_vaccine_24h", "bool", gettext_noop("Tiêm VGB trong 24 giờ đầu")),
    F("newborn_screening", "bool", gettext_noop("Sàng lọc sơ sinh")),
    F("birth_certificate", "bool", gettext_noop("Cấp giấy chứng sinh")),
    F("arv_prophylaxis", "bool", gettext_noop("Điều trị dự phòng ARV")),
    F("neonatal_tetanus", "bool", gettext_noop("Uốn ván sơ sinh")),
    F("full_name", "str", gettext_noop("Họ tên trẻ")),
    F("personal_id", "str", gettext_noop("Số định danh trẻ"), max_length=12),
    F("ethnicity_code", "catalog", gettext_noop("Dân tộc của trẻ"), catalog="ethnicity", max_length=8),
)

ANC = RegisterDef(
    key="anc",
    model=m.AncVisit,
    label=gettext_noop("Sổ khám thai"),
    fields=(
        F("is_new_pregnancy", "bool", gettext_noop("Mới có thai (lần khám đầu của lần mang thai này)")),
        F("lmp_date", "date", gettext_noop("Ngày đầu kỳ kinh cuối")),
        F("expected_delivery_date", "date", gettext_noop("Ngày dự kiến sinh")),
        F("gestational_age_weeks", "int", gettext_noop("Tuổi thai (tuần)"), min=1, max=45),
        F("visit_number", "int", gettext_noop("Lần khám thứ"), min=1, max=30),
        F("urine_protein_tested", "bool", gettext_noop("Xét nghiệm protein niệu")),
        F("hiv_tested", "bool", gettext_noop("Xét nghiệm HIV")),
        F("hiv_result", "choice", gettext_noop("Kết quả HIV"), choices=m.TestResult),
        F("syphilis_tested", "bool", gettext_noop("Xét nghiệm giang mai")),
        F("syphilis_result", "choice", gettext_noop("Kết quả giang mai"), choices=m.TestResult),
        F("hepb_tested", "bool", gettext_noop("Xét nghiệm viêm gan B")),
        F("hepb_result", "choice", gettext_noop("Kết quả viêm gan B"), choices=m.TestResult),
        F("glucose_tested", "bool", gettext_noop("Xét nghiệm đường huyết")),
        F("glucose_high", "bool", gettext_noop("Đường huyết cao hơn bình thường")),
        F("tetanus_dose", "int", gettext_noop("Mũi uốn ván tiêm lần này (0 = không)"), min=0, max=5),
    ),
)

DELIVERY = RegisterDef(
    key="delivery",
    model=m.Delivery,
    label=gettext_noop("Sổ đẻ"),
    newborns=True,
    period_dates=(
        "postpartum_week1_date",
        "postpartum_week2_6_date",
    ),  # postnatal care, counted by visit month
    fields=(
        F("gestational_age_weeks", "int", gettext_noop("Tuổi thai khi đẻ (tuần)"), min=22, max=45),
        F("delivery_mode", "choice", gettext_noop("Cách đẻ"), required=True, choices=m.DeliveryMode),
        F(
            "attendant",
            "choice",
            gettext_noop("Người đỡ đẻ"),
            required=True,
            choices=m.Attendant,
            help="Chọn 'Không rõ' nếu không biết (không tính là cán bộ có kỹ năng)",
        ),
        F("anc_managed", "bool", gettext_noop("Được quản lý thai")),
        F("anc_visits", "int", gettext_noop("Số lần khám thai"), min=0, max=30),
        F("anc_all_trimesters", "bool", gettext_noop("Khám thai đủ 3 thời kỳ")),
        F("tetanus_fully_vaccinated", "bool", gettext_noop("Tiêm phòng uốn ván đủ mũi")),
        F("hepb_tested_pregnancy", "bool", gettext_noop("XN viêm gan B khi mang thai")),
        F("hepb_tested_labour", "bool", gettext_noop("XN viêm gan B trong chuyển dạ")),
        F("hepb_positive", "bool", gettext_noop("Viêm gan B dương tính")),
        F("syphilis_tested_pregnancy", "bool", gettext_noop("XN giang mai khi mang thai")),
        F("syphilis_tested_labour", "bool", gettext_noop("XN giang mai trong chuyển dạ")),
        F("syphilis_positive", "bool", gettext_noop("Giang mai dương tính")),
        F("hiv_tested_pregnancy", "bool", gettext_noop("XN HIV trước và trong mang thai")),
        F("hiv_tested_labour", "bool", gettext_noop("XN HIV trong chuyển dạ")),
        F("hiv_positive", "bool", gettext_noop("Khẳng định nhiễm HIV")),
        F("hiv_confirmed_in_pregnancy", "bool", gettext_noop("Được khẳng định HIV trong thời kỳ mang thai")),
        F("hiv_arv_treated", "bool", gettext_noop("PN HIV (+) được điều trị ARV")),
        F("glucose_tested", "bool", gettext_noop("XN đường huyết khi mang thai")),
        F("glucose_high", "bool", gettext_noop("Đường huyết cao hơn bình thường")),
        F("comp_haemorrhage", "bool", gettext_noop("Tai biến: băng huyết")),
        F("comp_eclampsia", "bool", gettext_noop("Tai biến: sản giật")),
        F("comp_uterine_rupture", "bool", gettext_noop("Tai biến: vỡ tử cung")),
        F("comp_infection", "bool", gettext_noop("Tai biến: nhiễm trùng")),
        F("comp_other", "bool", gettext_noop("Tai biến khác")),
        F("maternal_death", "bool", gettext_noop("Mẹ tử vong (khi đẻ / trước khi ra viện)")),
        F(
            "postpartum_week1_date",
            "date",
            gettext_noop("Ngày chăm sóc sau sinh tại nhà (tuần đầu)"),
            help="Trong 0–7 ngày sau ngày đẻ; ghi đúng ngày thăm (tính chỉ số chăm sóc trong 2 ngày đầu)",
        ),
        F(
            "postpartum_week2_6_date",
            "date",
            gettext_noop("Ngày chăm sóc sau sinh tại nhà (tuần 2 – 6)"),
            help="Trong 7–42 ngày sau ngày đẻ",
        ),
    ),
)

ABORTION = RegisterDef(
    key="abortion",
    model=m.Abortion,
    label=gettext_noop("Sổ phá thai"),
    fields=(
        F("gestational_age_weeks", "int", gettext_noop("Tuổi thai (tuần)"), required=True, min=1, max=22),
        F("method", "choice", gettext_noop("Phương pháp"), required=True, choices=m.AbortionMethod),
        F("complication", "bool", gettext_noop("Tai biến do phá thai")),
    ),
)

GYN = RegisterDef(
    key="gyn",
    model=m.GynExam,
    label=gettext_noop("Sổ khám phụ khoa và sàng lọc ung thư cổ tử cung"),
    fields=(
        F("purpose", "choice", gettext_noop("Mục đích khám"), required=True, choices=m.GynPurpose),
        F("treated", "bool", gettext_noop("Điều trị phụ khoa")),
        F("treated_syphilis", "bool", gettext_noop("Điều trị giang mai")),
        F("treated_gonorrhoea", "bool", gettext_noop("Điều trị lậu")),
        F("cryo_or_cautery", "bool", gettext_noop("Đốt điện / áp lạnh")),
        F("leep", "bool", gettext_noop("LEEP")),
        F("cervical_cured", "bool", gettext_noop("Khỏi tổn thương cổ tử cung")),
        F("via_done", "bool", gettext_noop("Làm VIA/VILI")),
        F("via_result", "choice", gettext_noop("Kết quả VIA/VILI"), choices=m.ScreenResult),
        F("pap_sample_sent", "bool", gettext_noop("Lấy mẫu gửi XN tế bào (Pap)")),
        F("pap_abnormal", "bool", gettext_noop("Tế bào học bất thường")),
        F("hpv_sample_sent", "bool", gettext_noop("Lấy mẫu gửi XN HPV")),
        F("hpv_positive", "bool", gettext_noop("HPV dương tính")),
        F("hpv_vaccinated", "bool", gettext_noop("Tiêm vắc xin HPV")),
    ),
)

CONTRACEPTION = RegisterDef(
    key="contraception",
    model=m.Contraception,
    label=gettext_noop("Sổ thực hiện biện pháp tránh thai"),
    woman=False,
    fields=(
        F(
            "method_code",
            "catalog",
            gettext_noop("Biện pháp"),
            required=True,
            catalog="contraceptive-method",
            max_length=32,
        ),
        F("is_new_user", "bool", gettext_noop("Người mới thực hiện"), required=True),
        F("complication", "bool", gettext_noop("Tai biến sử dụng BPTT")),
    ),
)

CHILD_EXAM = RegisterDef(
    key="child_exam",
    model=m.ChildExam,
    label=gettext_noop("Sổ khám sức khỏe định kỳ trẻ dưới 6 tuổi"),
    woman=False,
    fields=(
        F("mother_name", "str", gettext_noop("Họ tên mẹ")),
        F("weight_kg", "decimal", gettext_noop("Cân nặng (kg)"), min=0.5, max=50),
        F("height_cm", "decimal", gettext_noop("Chiều dài/cao (cm)"), min=35, max=140),
        F("measured_lying", "bool", gettext_noop("Đo nằm")),
        F("oedema", "bool", gettext_noop("Phù hai chân")),
    ),
)

DEATH = RegisterDef(
    key="death",
    model=m.Death,
    label=gettext_noop("Sổ tử vong"),
    woman=False,
    fields=(
        F("death_kind", "choice", gettext_noop("Loại tử vong"), required=True, choices=m.DeathKind),
        F(
            "icd10_code",
            "catalog",
            gettext_noop("Nguyên nhân (ICD-10)"),
            required=True,
            catalog="icd10",
            max_length=8,
        ),
        F("cause_text", "str", gettext_noop("Mô tả nguyên nhân"), max_length=300),
        F("gestational_age_weeks", "int", gettext_noop("Tuổi thai (tuần)"), min=22, max=45),
        F(
            "obstetric_complication",
            "choice",
            gettext_noop("Tai biến sản khoa gây tử vong"),
            choices=m.ObstetricComplication,
        ),
        F("maternal_death_reviewed", "bool", gettext_noop("Tử vong mẹ đã được thẩm định")),
        F("mother_name", "str", gettext_noop("Họ tên mẹ")),
    ),
)

REGISTERS: dict[str, RegisterDef] = {
    r.key: r for r in (ANC, DELIVERY, ABORTION, GYN, CONTRACEPTION, CHILD_EXAM, DEATH)
}
MAX_NEWBORNS = 6
EXCEL_NEWBORN_SLOTS = 2


class UnknownRegister(DomainError):
    status_code = 404
    code = "not_found"


def get_register(key: str) -> RegisterDef:
    try:
        return REGISTERS[key]
    except KeyError as exc:
        raise UnknownRegister(f"Không có sổ '{key}'.", field="register") from exc
