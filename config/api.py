"""The one JSON API (/api/v1), OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs.

Each domain app exposes `router` in its api.py; they are mounted here and nowhere else.
"""

from mchis.accounts.api import router as accounts_router
from mchis.accounts.auth import api_auth, api_docs_access
from mchis.analytics.api import router as analytics_router
from mchis.catalogs.api import router as catalogs_router
from mchis.core.api import MchisAPI, SanitizedParser, install_error_handlers
from mchis.documents.api import router as documents_router
from mchis.integrations.api import router as integrations_router
from mchis.ops.api import router as ops_router
from mchis.places.api import router as places_router
from mchis.quality.api import router as quality_router
from mchis.registers.api import router as registers_router
from mchis.registry.api import router as registry_router
from mchis.reports.api import router as reports_router
from mchis.units.api import router as units_router

api = MchisAPI(
    title="mchis API",
    version="1",
    description="Hệ thống thông tin SKBMTE/SKSS và trẻ em — JSON API. "
    "Người dùng: cookie phiên; máy khách tích hợp: `Authorization: Bearer <token>`.",
    urls_namespace="api-v1",
    auth=api_auth,
    parser=SanitizedParser(),
    docs_decorator=api_docs_access,
)
install_error_handlers(api)
api.add_router("/admin-units", places_router)
api.add_router("/units", units_router)
api.add_router("/catalogs", catalogs_router)
api.add_router("/accounts", accounts_router)
api.add_router("/", registry_router)
api.add_router("/registers", registers_router)
api.add_router("/", reports_router)
api.add_router("/quality", quality_router)
api.add_router("/", integrations_router)
api.add_router("/", ops_router)
api.add_router("/documents", documents_router)
api.add_router("/", analytics_router)
