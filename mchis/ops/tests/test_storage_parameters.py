"""Update-heavy tables get room for HOT updates and an autovacuum that does not wait for 20 % of 25 M rows
(issue 20, migration ops 0002). PostgreSQL only."""

from __future__ import annotations

import pytest
from django.db import connection


@pytest.mark.django_db
def test_update_heavy_tables_have_fillfactor_and_autovacuum_settings():
    if connection.vendor != "postgresql":
        pytest.skip("storage parameters exist on PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, reloptions FROM pg_class WHERE relname IN "
            "('registry_child', 'registers_delivery', 'registers_ancvisit_p08', 'outbox_outboxentry', "
            "'core_auditevent')"
        )
        options = {name: set(opts or []) for name, opts in cursor.fetchall()}
    assert {"fillfactor=90", "autovacuum_vacuum_scale_factor=0.02"} <= options["registry_child"]
    assert "fillfactor=90" in options["registers_delivery"]
    # a partitioned register (registers 0012, ADR 0075): its partitions carry them (the parent takes none)
    assert "fillfactor=90" in options["registers_ancvisit_p08"]
    assert {"fillfactor=70", "autovacuum_vacuum_threshold=1000"} <= options["outbox_outboxentry"]
    assert options["core_auditevent"] == set()  # append-only: left as PostgreSQL sets it
