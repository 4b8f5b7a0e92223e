"""All administrative units loaded once per test module (the load takes seconds, tests only read)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(scope="module")
def admin_units(django_db_setup: None, django_db_blocker: pytest.FixtureRequest) -> Iterator[None]:
    from mchis.places.models import AdminUnit, CommuneMapping, Village
    from mchis.places.services import admin_units_apply
    from mchis.places.sources import read_sources

    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        # The unaudited apply step: an audit row could not be removed again (append-only log).
        admin_units_apply(sources=read_sources())
    yield
    with django_db_blocker.unblock():  # type: ignore[attr-defined]
        Village.objects.all().delete()
        CommuneMapping.objects.all().delete()
        for level in ("commune", "district", "province"):
            AdminUnit.objects.filter(level=level).delete()
