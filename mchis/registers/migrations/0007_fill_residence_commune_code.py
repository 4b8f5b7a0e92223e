"""Existing register rows get their 2025 commune of residence from their address (issue 12 item 2).

Only a code the address names and the commune list knows is written (never a guess); rows whose address names
no commune keep an empty code. Each distinct address is parsed once; rows are updated by id in chunks.
"""

from collections import defaultdict

from django.db import migrations

REGISTERS = ("AncVisit", "Delivery", "Abortion", "GynExam", "Contraception", "ChildExam", "Death")
CHUNK = 2000


def fill(apps, schema_editor):
    from mchis.registers.residence import commune_2025_of

    AdminUnit = apps.get_model("places", "AdminUnit")
    known = set(AdminUnit.objects.filter(version="2025", level="commune").values_list("code", flat=True))
    if not known:
        return
    for name in REGISTERS:
        model = apps.get_model("registers", name)
        by_code: dict[str, list[int]] = defaultdict(list)
        rows = model.objects.filter(residence_commune_code="").exclude(address="").values_list("pk", "address")
        for pk, address in rows.iterator(chunk_size=CHUNK):
            code = commune_2025_of(address)
            if code in known:
                by_code[code].append(pk)
        for code, pks in by_code.items():
            for i in range(0, len(pks), CHUNK):
                model.objects.filter(pk__in=pks[i : i + CHUNK]).update(residence_commune_code=code)


class Migration(migrations.Migration):
    dependencies = [
        ("registers", "0006_residence_commune_code"),
        ("places", "0003_village_pending"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
