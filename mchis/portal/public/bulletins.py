"""Statistical bulletins (bản tin thống kê) as PDF, monthly and yearly, drawn from the published store with
WeasyPrint (the library the reports and documents apps print with)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from . import selectors
from .caching import public_cached
from .views import not_found


@require_GET
@public_cached()
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/bulletins.html", {"periods": selectors.bulletin_periods()})


def bulletin_html(period: str) -> str:
    by_stat = selectors.bulletin(period)
    stats = [s for s in selectors.statistics() if s.key in by_stat]
    return render_to_string(
        "portal/bulletin_pdf.html",
        {
            "period": period,
            "sections": [{"stat": s, "figures": by_stat[s.key]} for s in stats],
            "printed": timezone.localdate(),
        },
    )


def bulletin_pdf(period: str) -> bytes:
    from weasyprint import HTML

    pdf: bytes = HTML(string=bulletin_html(period)).write_pdf()
    return pdf


@require_GET
@public_cached()
def pdf(request: HttpRequest, period: str) -> HttpResponse:
    periods = selectors.bulletin_periods()
    if period not in periods["monthly"] + periods["yearly"]:
        return not_found(request)
    response = HttpResponse(bulletin_pdf(period), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="ban-tin-thong-ke-{period}.pdf"'
    return response
