"""Every large table carries its unit's 2025 province code, the shard key of ADR 0074 (issue 20): the register
writer and the child's save() set it, and the migrations fill the rows written before them."""

from __future__ import annotations

import importlib
from datetime import date
from types import SimpleNamespace

import pytest
from django.db import connection

from mchis.registers.models import AncVisit, Delivery, Newborn
from mchis.registers.services import records_upsert
from mchis.registry.models import Child
from mchis.units.provinces import province_code_of, province_codes_for

from .conftest import anc, delivery


@pytest.mark.django_db
def test_units_know_their_province_code(tree):
    assert province_code_of(tree.tyt_a1.pk) == "08" and province_code_of(tree.tyt_b1.pk) == "04"
    assert province_codes_for([tree.doh_a.pk, tree.ttyt_a.pk]) == {tree.doh_a.pk: "08", tree.ttyt_a.pk: "08"}
    assert province_code_of(tree.doh_a.parent_id) == ""  # above the provinces


@pytest.mark.django_db
def test_register_rows_and_newborns_carry_the_facility_province(collector):
    records_upsert(actor=collector, register="anc", records=[anc(rid="P-1")])
    records_upsert(actor=collector, register="delivery", records=[delivery(rid="P-2")])
    assert AncVisit.objects.get().province_code == "08"
    assert Delivery.objects.get().province_code == "08" and Newborn.objects.get().province_code == "08"


@pytest.mark.django_db
def test_a_child_saved_gets_its_units_province_and_the_migrations_fill_older_rows(tree, collector):
    child = Child.objects.create(unit=tree.tyt_a1, commune=tree.commune_a1, full_name="Lò Văn Páo",
                                 name_folded="lo van pao", date_of_birth=date(2020, 1, 2))  # fmt: skip
    assert child.province_code == "08"
    child.unit = tree.tyt_b1
    child.save(update_fields=["unit"])
    child.refresh_from_db()
    assert child.province_code == "04"
    # rows written before the column existed (or by a writer that does not know it) are filled by the migrations
    records_upsert(actor=collector, register="anc", records=[anc(rid="P-3")])
    Child.objects.update(province_code="")
    AncVisit.objects.update(province_code="")
    editor = SimpleNamespace(connection=connection)
    importlib.import_module("mchis.registry.migrations.0010_province_code").fill(None, editor)
    importlib.import_module("mchis.registers.migrations.0008_province_code").fill(None, editor)
    assert Child.objects.get().province_code == "04" and AncVisit.objects.get().province_code == "08"


@pytest.mark.django_db
def test_r_org_02_a_unit_moved_to_another_province_takes_its_childrens_and_register_rows_province(
    tree, collector
):
    # given a child and a register row of a station in province 08
    from mchis.core.models import AuditEvent
    from mchis.units.services import unit_move

    child = Child.objects.create(unit=tree.tyt_a1, commune=tree.commune_a1, full_name="Lò Văn Páo",
                                 name_folded="lo van pao", date_of_birth=date(2020, 1, 2))  # fmt: skip
    records_upsert(actor=collector, register="anc", records=[anc(rid="P-4")])
    stay = Child.objects.create(unit=tree.tyt_a2, commune=tree.commune_a2, full_name="Lò Thị Mai",
                                name_folded="lo thi mai", date_of_birth=date(2020, 1, 3))  # fmt: skip
    # when its district health centre is moved under the other province's CDC
    unit_move(actor=None, unit=tree.ttyt_a, new_parent=tree.cdc_b, on=date(2025, 7, 1), reason="Sáp nhập")
    # then the rows of every unit moved carry the new province, and nothing else changed
    moved = Child.objects.get(pk=child.pk)
    assert moved.province_code == "04" and AncVisit.objects.get().province_code == "04"
    assert Child.objects.get(pk=stay.pk).province_code == "04"  # tyt_a2 sits under ttyt_a too
    event = AuditEvent.objects.filter(action="unit.move").latest("id")
    assert event.changes["rows_restamped"] == [None, 3]
    # and moving it back restores them
    unit_move(actor=None, unit=tree.ttyt_a, new_parent=tree.cdc_a, on=date(2025, 8, 1), reason="Trả lại")
    assert set(Child.objects.values_list("province_code", flat=True)) == {"08"}
