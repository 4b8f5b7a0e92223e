"""`manage.py generate_national`: refused outside PostgreSQL; on PostgreSQL, copies with new keys, identifiers and
names, the base's places, and every derived column as the product's writers fill it."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from mchis.core.text import fold
from mchis.registers.models import AncVisit, ChildExam, Delivery, Newborn, Person
from mchis.registry.models import Child
from mchis.registry.personal_id import structure_errors
from mchis.registry.search import parents_key

from .test_generate_demo import AS_OF, province  # noqa: F401 - the fixture

pg_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="generate_national is PostgreSQL only")


@pytest.mark.skipif(connection.vendor == "postgresql", reason="the refusal is for other databases")
def test_refused_outside_postgresql(db):
    with pytest.raises(CommandError, match="chỉ chạy trên PostgreSQL"):
        call_command("generate_national", "--children", "10", "--seed", "1", stdout=StringIO())
    assert not Child.objects.exists()


@pg_only
def test_copies_reach_the_target_with_new_identities_in_the_same_places(province):  # noqa: F811
    call_command("generate_demo", "--province", "33", "--children", "120", "--seed", "3", "--as-of", AS_OF,
                 "--registers", "2", stdout=StringIO())  # fmt: skip
    base = list(Child.objects.order_by("id"))
    base_anc, base_exam = AncVisit.objects.count(), ChildExam.objects.count()
    base_deliveries, base_newborns = Delivery.objects.count(), Newborn.objects.count()
    assert base_anc and base_deliveries
    with connection.cursor() as cur:  # the base's deferred FK checks run now, as at its commit
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
    out = StringIO()
    call_command("generate_national", "--children", "300", "--seed", "3", stdout=out)
    assert "Cả nước: 360 trẻ" in out.getvalue()  # 120 × 3 ≥ 300
    assert AncVisit.objects.count() == 3 * base_anc and ChildExam.objects.count() == 3 * base_exam
    assert Delivery.objects.count() == 3 * base_deliveries and Newborn.objects.count() == 3 * base_newborns

    top = base[-1].id
    for b in base[:60]:
        copy = Child.objects.get(id=b.id + top)
        assert copy.public_id != b.public_id and copy.source_ref == f"{b.source_ref}~1"
        assert (copy.unit_id, copy.commune_id, copy.village_id, copy.province_code) == (
            b.unit_id, b.commune_id, b.village_id, b.province_code,
        )  # fmt: skip
        assert copy.full_name.split()[0] == b.full_name.split()[0]  # the family name stays
        assert copy.name_folded == fold(copy.full_name)
        assert copy.parents_folded == parents_key(copy.father_name, copy.mother_name)
        assert copy.guardian_name_folded == fold(copy.guardian_name)
        if b.date_of_birth and copy.date_of_birth:
            assert copy.date_of_birth.year == b.date_of_birth.year
            assert abs((copy.date_of_birth - b.date_of_birth).days) <= 14
        if b.personal_id:
            assert copy.personal_id != b.personal_id and copy.personal_id[:6] == b.personal_id[:6]
            assert not structure_errors(copy.personal_id)
    # the names are recombined, not copied
    assert len({c.full_name for c in Child.objects.all()}) > 1.5 * len({b.full_name for b in base})
    assert Child.objects.values("source_ref").distinct().count() == 360

    for row in AncVisit.objects.filter(source_record_id__endswith="~2"):
        assert row.full_name_folded == fold(row.full_name) and row.row_hash == ""
        if row.personal_id:
            assert row.person is not None and row.person.personal_id == row.personal_id
    # a woman keeps one name across her visits within a copy
    names: dict[str, str] = {}
    for row in AncVisit.objects.filter(source_record_id__endswith="~1").exclude(personal_id=""):
        assert names.setdefault(row.personal_id, row.full_name) == row.full_name
    nb = Newborn.objects.select_related("delivery").filter(delivery__source_record_id__endswith="~1").first()
    if nb is not None:
        assert nb.facility_id == nb.delivery.facility_id and nb.province_code == nb.delivery.province_code
    assert Person.objects.values("personal_id").distinct().count() == Person.objects.count()

    # a re-run with the same target adds nothing; the indexes are all back
    call_command("generate_national", "--children", "300", "--seed", "3", stdout=StringIO())
    assert Child.objects.count() == 360
    with connection.cursor() as cur:
        cur.execute("SELECT to_regclass('child_name_trgm_p08'), to_regclass('demo_national_index')")
        assert cur.fetchone() == ("child_name_trgm_p08", None)
        # a partitioned register's index is back on the parent and on each of its 36 partitions (ADR 0075)
        cur.execute(
            "SELECT i.indisvalid, (SELECT count(*) FROM pg_inherits h WHERE h.inhparent = i.indexrelid) "
            "FROM pg_index i WHERE i.indexrelid = 'child_exam_fac_month_idx'::regclass"
        )
        assert cur.fetchone() == (True, 36)
