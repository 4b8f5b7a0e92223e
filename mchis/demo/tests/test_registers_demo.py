"""`generate_demo --registers MONTHS`: register records written through the registers' batch path."""

from __future__ import annotations

from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Count

from mchis.demo.registers import demo_registers_generate, month_starts
from mchis.registers import models as R
from mchis.reports.periods import Period
from mchis.reports.selectors import compute_live, form_in_force
from mchis.units.models import ReportingUnit

from .test_generate_demo import AS_OF, province  # noqa: F401 - the fixture

MONTHS = [date(2026, 9, 1), date(2026, 10, 1)]
REGISTER_MODELS = (
    R.AncVisit,
    R.Delivery,
    R.Newborn,
    R.Abortion,
    R.GynExam,
    R.Contraception,
    R.ChildExam,
    R.Death,
)
SKIP = {"id", "created_at", "updated_at", "person", "delivery"}


def _rows() -> dict[str, list[tuple]]:
    out = {}
    for model in REGISTER_MODELS:
        names = [f.attname for f in model._meta.concrete_fields if f.name not in SKIP]
        order = ["facility_id", "event_date", "full_name", "month"]
        if model is not R.Newborn:
            order = ["facility_id", "source_record_id"]
        else:
            names.append("delivery__source_record_id")
            order = ["facility_id", "delivery__source_record_id", "birth_order"]
        out[model.__name__] = list(model.objects.order_by(*order).values_list(*names))
    return out


def _run(*extra: str) -> str:
    out = StringIO()
    call_command("generate_demo", "--province", "33", "--children", "600", "--seed", "5", "--as-of", AS_OF,
                 *extra, stdout=out)  # fmt: skip
    return out.getvalue()


def test_month_starts_are_the_full_months_before_as_of():
    assert month_starts(date(2026, 1, 15), 3) == [date(2025, 10, 1), date(2025, 11, 1), date(2025, 12, 1)]
    assert month_starts(date(2026, 11, 1), 2) == MONTHS


@pytest.mark.usefixtures("province")
def test_registers_zero_writes_no_register_row():
    _run()
    assert all(not m.objects.exists() for m in REGISTER_MODELS)


@pytest.mark.usefixtures("province")
def test_registers_two_months_fill_every_register_through_validation():
    out = _run("--registers", "2")
    assert "Sổ SKBMTE/SKSS 09/2026–10/2026" in out
    for model in REGISTER_MODELS:
        months = set(model.objects.values_list("month", flat=True))
        assert months <= set(MONTHS), model
        assert model.objects.count() > 0, model
    for model in (R.AncVisit, R.Delivery, R.GynExam, R.Contraception, R.ChildExam):
        assert set(model.objects.values_list("month", flat=True)) == set(MONTHS), model
    assert set(R.Delivery.objects.values_list("source_system", flat=True)) == {"demo"}
    # derived fields are the registers' own: z-scores computed, bands and age flags set
    assert (
        R.ChildExam.objects.filter(waz__isnull=False, haz__isnull=False).count()
        > 0.9 * R.ChildExam.objects.count()
    )
    assert R.Abortion.objects.exclude(gestational_band="").count() == R.Abortion.objects.count()
    assert R.Newborn.objects.filter(outcome="live", sex="M").exists()
    assert R.Newborn.objects.filter(outcome="live", sex="F").exists()
    assert R.GynExam.objects.filter(via_done=True).exists()
    # postnatal visits spread over the first week and weeks 2-6: "within 2 days" is a real share, not all or none
    first_days = list(
        R.Delivery.objects.exclude(postpartum_first_days=None).values_list("postpartum_first_days", flat=True)
    )
    assert any(d <= 2 for d in first_days) and any(2 < d <= 7 for d in first_days)
    assert R.Delivery.objects.filter(
        postpartum_week1_date=None, postpartum_week2_6_date__isnull=False
    ).exists()
    # the women are the children's mothers: their ethnic groups come from the children's
    from mchis.registry.models import Child

    anc_groups = set(R.AncVisit.objects.values_list("ethnicity_code", flat=True))
    assert anc_groups and anc_groups <= set(Child.objects.values_list("ethnicity_code", flat=True))
    assert (
        R.Delivery.objects.filter(is_adolescent=True).exists()
        or R.AncVisit.objects.filter(is_adolescent=True).exists()
    )
    assert R.IngestBatch.objects.filter(rejected__gt=0).count() == 0


@pytest.mark.usefixtures("province")
def test_same_seed_same_rows_and_rerun_creates_nothing():
    _run("--registers", "2")
    first = _rows()
    doh = ReportingUnit.objects.get(code="SYT33")
    again = demo_registers_generate(
        province_code="33", doh=doh, months=2, seed=5, as_of=date.fromisoformat(AS_OF)
    )
    assert sum(again.created.values()) == 0 and sum(again.unchanged.values()) > 0
    assert _rows() == first
    for model in (R.Delivery, R.AncVisit, R.Abortion, R.GynExam, R.Contraception, R.ChildExam, R.Death):
        model.objects.all().delete()
    demo_registers_generate(province_code="33", doh=doh, months=2, seed=5, as_of=date.fromisoformat(AS_OF))
    assert _rows() == first
    other = demo_registers_generate(
        province_code="33", doh=doh, months=2, seed=6, as_of=date.fromisoformat(AS_OF)
    )
    assert sum(other.created.values()) > 0  # another seed gives other records


@pytest.mark.usefixtures("province")
def test_commune_report_shows_live_births_and_anc():
    from mchis.reports.services import forms_load, shipped_form_files

    forms_load(actor=None, paths=shipped_form_files())
    _run("--registers", "2")
    unit_id, month, _ = (
        R.Newborn.objects.filter(outcome="live", facility__kind="tyt")
        .values_list("facility_id", "month")
        .annotate(n=Count("id"))
        .order_by("-n", "facility_id", "month")[0]
    )
    unit = ReportingUnit.objects.get(pk=unit_id)
    form = form_in_force("BCX3", month)
    values = compute_live(form, unit, Period(month, "monthly"), {}).values
    assert values["III.1:total"] > 0
    assert values["I.3:total"] > 0


@pytest.mark.usefixtures("province")
def test_registers_with_labelled_id_errors_in_the_registry_still_pass_validation():
    # The registry keeps malformed/inconsistent IDs as labelled errors; facility records never copy them.
    from mchis.registry.personal_id import check

    _run("--registers", "2", "--error-rate", "0.3")
    for model in (R.AncVisit, R.ChildExam, R.Delivery):
        ids = [
            (pid, dob, sex) for pid, dob, sex in model.objects.values_list("personal_id", "dob", "sex") if pid
        ]
        assert all(
            not check(pid, date_of_birth=dob, sex=sex if sex in ("M", "F") else "") for pid, dob, sex in ids
        )


@pytest.mark.usefixtures("province")
def test_publish_fills_the_public_portal_from_approved_reports():
    """`--publish 1`: the demo's commune reports are approved through the workflow and the Sở publishes them."""
    from django.test import Client

    from mchis.portal.models import PublishedFigure
    from mchis.reports.models import ReportInstance

    call_command("load_report_forms", stdout=StringIO())
    out = _run("--registers", "2", "--publish", "1")
    assert "Cổng thống kê công khai" in out
    approved = ReportInstance.objects.filter(form__code="BCX3", status="approved")
    assert approved.exists() and {r.period_start for r in approved} == {MONTHS[-1]}
    assert PublishedFigure.objects.filter(level="province", area_code="33", period="2026-10").exists()
    assert PublishedFigure.objects.filter(level="national", period="2026-10").exists()
    page = Client().get("/public/provinces/33/")
    assert page.status_code == 200 and "Hưng Yên" in page.content.decode()
