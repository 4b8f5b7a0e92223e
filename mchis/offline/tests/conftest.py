"""Offline fixtures: the registry's commune unit, collector, leaders and child factory."""

from mchis.registry.tests.conftest import collector, leader, leader2, make_child, stepped_up, unit  # noqa: F401
