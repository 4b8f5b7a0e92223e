from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command


@pytest.fixture
def catalogs(db) -> None:
    """The seeded catalogs (a few hundred rows: fast enough per test)."""
    call_command("load_catalogs", stdout=StringIO())
