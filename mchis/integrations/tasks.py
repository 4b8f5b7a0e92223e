"""Celery autodiscovery entry point of the integrations app."""

from .population.tasks import population_check, population_retry_pending

__all__ = ["population_check", "population_retry_pending"]
