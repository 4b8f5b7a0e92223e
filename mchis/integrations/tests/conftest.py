"""Reuse the registry's fixtures (a commune unit, a collector and a leader, approved children)."""

from mchis.registry.tests.conftest import collector, leader, make_child, unit  # noqa: F401
from mchis.reports.tests.conftest import forms, people  # noqa: F401
