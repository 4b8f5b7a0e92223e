"""Celery autodiscovery entry point of the integrations app."""

from .exchange.tasks import exchange_deliver, exchange_dispatch
from .population.tasks import population_check, population_retry_pending

__all__ = ["exchange_deliver", "exchange_dispatch", "population_check", "population_retry_pending"]
