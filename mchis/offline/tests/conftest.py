"""Offline fixtures: the registry's commune unit, collector, leaders and child factory; the browser (e2e)."""

from mchis.registry.tests.conftest import collector, leader, leader2, make_child, stepped_up, unit  # noqa: F401
from mchis.registry.tests.test_e2e_registry import browser  # noqa: F401
