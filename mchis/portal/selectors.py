"""Reads for the publishing staff (signed in): the publications in the person's jurisdiction. The public side
has its own selectors (``public.selectors``) over the published store only."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet

from mchis.core.scoping import visible_to

from .models import Publication


def publications(principal: Any) -> QuerySet[Publication]:
    return (
        visible_to(Publication.objects.select_related("owner_unit", "published_by"), principal)
        .annotate(
            n_figures=Count("figures"), n_suppressed=Count("figures", filter=Q(figures__suppressed=True))
        )
        .order_by("-published_at")
    )
