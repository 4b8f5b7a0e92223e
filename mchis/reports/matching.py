"""One event, one person, one count: matching register rows that describe the same event (issue 12.3, 12.7).

Two rows are the same event when they are about the same person — the personal ID (số định danh) when both
rows carry one, otherwise the folded full name and the date of birth — and their event dates are at most one
day apart. The rule is written once here as SQL (``Exists`` subqueries) so a report cell can say "count the
rows of this register *unless* the same event is in that register" (query key ``unless``) and the engine keeps
one grouped statement per register.

Matchers (the names a form file may use in ``unless``):

* ``stillbirth_in_delivery_register`` — a fetal death (death register) whose stillbirth the same facility's
  delivery register holds (the mother is the subject of both rows);
* ``maternal_death_in_death_register`` — a delivery marked ``maternal_death`` whose death the same facility's
  death register holds (``death_kind = maternal``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.apps import apps
from django.db.models import DateField, Exists, ExpressionWrapper, OuterRef, Q, Value
from django.db.models.lookups import Exact

DAY = timedelta(days=1)


def same_person(prefix: str = "", outer: str = "") -> Q:
    """Inner rows (fields under `prefix`) about the outer row's person (fields under `outer`): the personal ID
    when both rows carry one, else folded name + date of birth."""
    pid, name, dob = f"{prefix}personal_id", f"{prefix}full_name_folded", f"{prefix}dob"
    by_id = Q(**{pid: OuterRef(f"{outer}personal_id")}) & ~Q(**{pid: ""})
    one_id_unknown = Q(Exact(OuterRef(f"{outer}personal_id"), Value(""))) | Q(**{pid: ""})
    by_name = Q(**{name: OuterRef(f"{outer}full_name_folded"), dob: OuterRef(f"{outer}dob")}) & ~Q(
        **{name: ""}
    )
    return by_id | (one_id_unknown & by_name)


def within_a_day(field: str = "event_date", outer: str = "event_date") -> Q:
    """Inner `field` within ±1 day of the outer row's `outer` date."""
    return Q(
        **{
            f"{field}__gte": ExpressionWrapper(OuterRef(outer) - DAY, output_field=DateField()),
            f"{field}__lte": ExpressionWrapper(OuterRef(outer) + DAY, output_field=DateField()),
        }
    )


def _stillbirth_in_delivery_register(province: str | None = None) -> Exists:
    newborn = apps.get_model("registers", "Newborn")
    return Exists(
        newborn.objects.filter(
            same_person("delivery__"),
            within_a_day(),
            facility=OuterRef("facility"),
            province_code=_province(province),
            outcome="stillbirth",
            delivery__voided_at__isnull=True,
        )
    )


def _maternal_death_in_death_register(province: str | None = None) -> Exists:
    death = apps.get_model("registers", "Death")
    return Exists(
        death.objects.filter(
            same_person(),
            within_a_day(),
            facility=OuterRef("facility"),
            province_code=_province(province),
            death_kind="maternal",
            voided_at__isnull=True,
        )
    )


def _province(province: str | None) -> Any:
    """The inner rows' province (the partition key of the registers, ADR 0075): the outer row's, or — when the
    caller knows it (one unit's report) — the literal, so PostgreSQL plans one partition, not all of them."""
    return OuterRef("province_code") if province is None else province


MATCHERS: dict[str, Callable[[str | None], Exists]] = {
    "stillbirth_in_delivery_register": _stillbirth_in_delivery_register,
    "maternal_death_in_death_register": _maternal_death_in_death_register,
}
# the register each matcher's outer rows come from (checked when a form file is loaded)
MATCHER_REGISTER = {
    "stillbirth_in_delivery_register": "death",
    "maternal_death_in_death_register": "delivery",
}


def unless_q(name: str, province: str | None = None) -> Q:
    """Rows that have NO matching event (the other register does not hold them); `province`: the outer rows'
    province when they are all of one."""
    return ~Q(MATCHERS[name](province))
