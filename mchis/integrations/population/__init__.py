"""Gateway to the national population database (CSDL quốc gia về dân cư), R-INT-04.

One interface (`PopulationGateway`), typed boundary objects, an HTTP adapter, a fake for service tests and
a small simulated registry service (`python -m mchis.integrations.population.simulator`).
"""

from .types import GatewayUnavailable, IdentityQuery, IdentityResult, MismatchKind, PopulationGateway

__all__ = ["GatewayUnavailable", "IdentityQuery", "IdentityResult", "MismatchKind", "PopulationGateway"]
