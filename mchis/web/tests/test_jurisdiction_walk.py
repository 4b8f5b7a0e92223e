"""The cross-jurisdiction walk (R-SEC-01, STYLE practice 3): nothing of another province leaks, on any route.

Every URL pattern of the Django URLconf (walked recursively, the ninja API included) and every operation of
the OpenAPI schema is requested by people of province B (one account per role) - and by a machine client of
province B once Bearer tokens exist - with path parameters filled by objects that belong to a commune of
province A. For each request:

* the status is one that reveals nothing (404/403/401/405/400/422, a redirect to the login page) and is the
  *same* as for an object that does not exist at all ("missing and forbidden are the same 404");
* the body contains none of the identifying strings of province A's objects (names, codes, IDs) - raw,
  HTML-escaped or JSON-escaped;
* parameterless pages and list endpoints (also with query filters naming A's objects) may answer 200 but
  must not show A's objects either.

The analytics routes (the API, the pivot table, the map) answer a selection, so they are also walked with real
ones (`walk_analytics`): the store holds deliveries of both provinces, and each returned row must name a unit of
the walker's subtree and hold exactly that subtree's count (a foreign count summed into a total is a number,
which the string search cannot see); other provinces' units and the nation are refused like a missing code.

New routes are covered automatically. A route whose path parameter has no entry in `PARAM_PROVIDERS`
makes the walk FAIL with "add a provider for parameter X": add one (a function returning the value of an
object of the given side) - never an exemption. Public reference data and own-scope pages that may answer
200 whatever the parameter are listed in `PUBLIC_ROUTES`, each with its reason.

Limits (documented, not hidden): parameterless POST/PUT/DELETE operations (creations) are not sent; request
bodies are synthesised from the OpenAPI schema (examples first), so a body that fails validation stops at
422 - equal for foreign and missing objects, so still no leak.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import pytest
from django.apps import apps
from django.db import models, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from mchis.accounts.testing import step_up_session
from mchis.registers.definitions import REGISTERS

pytestmark = pytest.mark.django_db

FOREIGN, OWN = "foreign", "own"  # province A (someone else's) / province B (the walker's own)
SHARED = "shared"  # national reference objects (form definitions, catalogs): not anyone's secret

# Roles walking the site and the province-B unit each sits in. The system admin is national by design (the
# units and places apps let it see the whole tree wherever its account sits), so it does not walk.
WALK_ROLES: dict[str, str] = {
    "collector": "tyt_b1",
    "leader": "tyt_b1",
    "viewer": "tyt_b1",
    "reporter": "ttyt_b",
    "unit_admin": "doh_b",
    "auditor": "doh_b",
}

# Routes that may answer 200 whatever the parameter: public reference data or the caller's own things.
# Their bodies are still searched for province A's private strings.
PUBLIC_ROUTES: dict[str, str] = {
    "health": "liveness probe, no data",
    "health/live": "liveness probe, no data",
    "health/ready": "readiness probe: component states only, no data",
    "api/v1/version": "the running release number",
    "api/v1/openapi.json": "API description",
    "api/v1/docs": "API documentation page",
    "api/v1/admin-units": "administrative units are public reference data (2025 and pre-2025)",
    "api/v1/catalogs": "shared catalogs are public reference data",
    "catalogs/": "shared catalogs are public reference data",
    "places/": "administrative units are public reference data",
    "i18n/": "language switch",
    "accounts/login/": "login page",
    "reports/forms/": "report form definitions are national reference data",
    "public/": "the public statistics portal (issue 16): published aggregate figures only, no login",
}

# Documents generated from code, not data: their examples may quote real unit codes; bodies not searched.
STATIC_DOCUMENTS: dict[str, str] = {
    "api/v1/openapi.json": "the schema's examples use real unit codes (e.g. TYT02269)",
    "api/v1/docs": "Swagger UI shell",
}

# Pages that show back what the walker itself sent earlier: there, the IDs and codes the walk typed are not
# a leak (they are the evidence of its attempts); everything else of A still is.
ECHO_ROUTES: dict[str, str] = {
    "audit/": "the audit log lists the walker's refused requests (access.denied) with the IDs it typed",
}

# Parameterless routes that are not requested, with the reason.
SKIP_ROUTES: dict[str, str] = {
    "accounts/logout/": "ends the walker's session (covered by accounts' own tests)",
    "accounts/logout-everywhere/": "ends the walker's sessions (covered by accounts' own tests)",
}

OK_STATUSES = {400, 401, 403, 404, 405, 422}


# --------------------------------------------------------------------------------------------- the world
class NoObject(Exception):
    """The provider has no object of that kind (its model does not exist, or seeding it failed)."""


@dataclass
class World:
    """Objects of each side, by kind ("unit", "user", "child", ...), and province A's identifying strings."""

    tree: Any
    objects: dict[tuple[str, str], Any] = field(default_factory=dict)
    secrets: set[str] = field(default_factory=set)
    seed_errors: dict[str, str] = field(default_factory=dict)
    failed: set[tuple[str, str]] = field(default_factory=set)

    def get(self, side: str, kind: str) -> Any:
        """The object of that kind on that side; a kind "app.Model" is created on first use (autofill)."""
        if (side, kind) not in self.objects and "." in kind and (side, kind) not in self.failed:
            self.failed.add((side, kind))
            try:
                with transaction.atomic():
                    obj = (LABEL_SEEDERS.get(kind) or autofill)(self, side, kind)
                self.failed.discard((side, kind))
                self.add(side, kind, obj, *([] if kind in NON_SECRET_LABELS else identifying_strings(obj)))
            except NoObject as exc:
                self.seed_errors[kind] = str(exc)
            except Exception as exc:  # reported by the routes that need the object
                self.seed_errors[kind] = (
                    f"autofill failed ({type(exc).__name__}: {exc}); add a seeder to LABEL_SEEDERS"
                )
        try:
            return self.objects[(side, kind)]
        except KeyError:
            why = self.seed_errors.get(kind, "no model or no seeder for it")
            raise NoObject(f"no {side} object of kind {kind!r}: {why}") from None

    def unit(self, side: str) -> Any:
        return self.get(side, "unit")

    def add(self, side: str, kind: str, obj: Any, *identifying: Any) -> None:
        self.objects[(side, kind)] = obj
        if side == FOREIGN:
            self.secrets.update(str(s) for s in identifying if s and len(str(s)) >= 6)


def model(label: str) -> Any:
    return apps.get_model(label)


def seed_units(world: World) -> None:
    t = world.tree
    world.add(FOREIGN, "unit", t.tyt_a1, t.tyt_a1.code, t.tyt_a1.name)
    world.add(OWN, "unit", t.tyt_b1)
    # A's district centre is just as private to B.
    world.secrets.update({t.ttyt_a.code, t.ttyt_a.name, t.tyt_a2.code, t.tyt_a2.name})
    world.add(FOREIGN, "commune", t.commune_a1)
    world.add(OWN, "commune", t.commune_b1)


def seed_users(world: World, make_user: Callable[..., Any]) -> None:
    t = world.tree
    a = make_user("collector", t.tyt_a1, username="zz_foreign_collector_a1")
    type(a).objects.filter(pk=a.pk).update(first_name="Foreignfirst", last_name="Zzlastname")
    world.add(FOREIGN, "user", a, a.username, "Zzlastname Foreignfirst", "Foreignfirst")
    world.add(OWN, "user", make_user("collector", t.tyt_b1, username="own_collector_b1"))


def seed_api_clients(world: World) -> None:
    from mchis.accounts.services import api_client_create

    for side, unit, name in (
        (FOREIGN, world.tree.tyt_a1, "Zzforeign HIS A1"),
        (OWN, world.tree.tyt_b1, "Own HIS B1"),
    ):
        client, _ = api_client_create(actor=None, name=name, unit=unit, scopes=["child.view"])
        world.add(side, "api_client", client, client.name, client.token_prefix)


def seed_children(world: World) -> None:
    Child = model("registry.Child")
    from mchis.core.text import fold

    def child(unit: Any, commune: Any, name: str, pid: str, mother: str) -> Any:
        return Child.objects.create(
            unit=unit,
            commune=commune,
            full_name=name,
            name_folded=fold(name),
            date_of_birth=date(2023, 5, 17),
            sex="F",
            personal_id=pid,
            mother_name=mother,
        )

    a = child(world.tree.tyt_a1, world.tree.commune_a1, "Zzơn Ngoại Tỉnh", "008123456789", "Mẹ Zzngoại Tỉnh")
    world.add(FOREIGN, "child", a, a.full_name, a.personal_id, a.public_id, a.mother_name, fold(a.full_name))
    world.add(
        OWN, "child", child(world.tree.tyt_b1, world.tree.commune_b1, "Nội Tỉnh B", "004987654321", "Mẹ B")
    )


def seed_change_requests(world: World) -> None:
    ChangeRequest = model("registry.ChangeRequest")
    for side, unit in ((FOREIGN, world.tree.tyt_a1), (OWN, world.tree.tyt_b1)):
        child = world.get(side, "child")
        request = ChangeRequest.objects.create(
            kind="change",
            unit=unit,
            child=child,
            data={"full_name": child.full_name + " Zzsửa"},
            diff={"full_name": [child.full_name, child.full_name + " Zzsửa"]},
            reason="Zzlý do ngoại tỉnh" if side == FOREIGN else "lý do",
            proposer=world.get(side, "user"),
        )
        world.add(side, "change_request", request, request.public_id, "Zzlý do ngoại tỉnh")


SEEDERS: list[Callable[[World], None]] = [seed_api_clients, seed_children, seed_change_requests]

# Objects of other models are made on first use by `autofill`: required fields get plain values, foreign
# keys to a unit / commune / account / child get the side's object, other foreign keys are autofilled in
# turn, and a plain-text SCOPE_PATH field gets the side's unit path. When a model needs more than that,
# add a seeder here: label -> (world, side, label) -> object.
LABEL_SEEDERS: dict[str, Callable[[World, str, str], Any]] = {}
_SIDE_OBJECTS = {
    "units.ReportingUnit": "unit",
    "places.AdminUnit": "commune",
    "accounts.User": "user",
    "registry.Child": "child",
    "registry.ChangeRequest": "change_request",
    "accounts.ApiClient": "api_client",
}
# Reference models: one object shared by both sides (a report of A and a report of B use the same form).
SHARED_LABELS = {"reports.FormDefinition", "catalogs.Catalog", "catalogs.CatalogItem"}
# Reference data that may be shown to anyone: no identifying strings taken from them.
NON_SECRET_LABELS = {"places.Village"}
_sequence = itertools.count(1)


def existing_or_autofill(world: World, side: str, label: str) -> Any:
    Model = model(label)
    if Model.objects.exists():
        return Model.objects.order_by("pk").first()
    return autofill(world, side, label)


for _label in SHARED_LABELS:
    LABEL_SEEDERS[_label] = existing_or_autofill


def seed_duplicate_candidate(world: World, side: str, label: str) -> Any:
    """A pair of the side's children (child_a.pk < child_b.pk, as the model requires)."""
    first = world.get(side, "child")
    second = type(first).objects.create(
        unit=first.unit,
        commune=first.commune,
        full_name=first.full_name,
        name_folded=first.name_folded,
        date_of_birth=first.date_of_birth,
    )
    low, high = sorted((first, second), key=lambda c: c.pk)
    return model(label).objects.create(child_a=low, child_b=high, unit=first.unit, probability=0.97)


LABEL_SEEDERS["quality.DuplicateCandidate"] = seed_duplicate_candidate


def seed_form_definition(world: World, side: str, label: str) -> Any:
    """The shipped report forms, loaded by the reports service; a commune-level form is used."""
    from mchis.reports.services import forms_load, shipped_form_files

    Form = model(label)
    if not Form.objects.exists():
        forms_load(actor=None, paths=shipped_form_files())
    communal = [f for f in Form.objects.order_by("code", "valid_from") if "tyt" in (f.unit_kinds or [])]
    return communal[0] if communal else Form.objects.order_by("pk").first()


def seed_report(world: World, side: str, label: str) -> Any:
    form = world.get(SHARED, "reports.FormDefinition")
    start = max(form.valid_from, date(2025, 7, 1)).replace(day=1)
    if form.period_type == "yearly":
        start = start.replace(month=1)
    return model(label).objects.create(
        form=form, unit=world.unit(side), period_start=start, period_type=form.period_type
    )


def register_label() -> str:
    """The model of the first register (the one `first_register` puts in URLs)."""
    return next(iter(REGISTERS.values())).model._meta.label


def seed_register_record(world: World, side: str, label: str) -> Any:
    return autofill(
        world,
        side,
        label,
        event_date=date(2025, 7, 15),
        month=date(2025, 7, 1),
        full_name="Zz Sản Phụ Ngoại Tỉnh" if side == FOREIGN else "Sản phụ B",
        personal_id="008199912345" if side == FOREIGN else "",
    )


def seed_pending_upload(world: World, side: str, label: str) -> Any:
    from mchis.registers.definitions import REGISTERS

    return autofill(world, side, label, register=next(iter(REGISTERS)))


def register_record(w: World, side: str) -> Any:
    label = register_label()
    LABEL_SEEDERS.setdefault(label, seed_register_record)
    return w.get(side, label).pk


def fhir_id(w: World, side: str, resource_type: str) -> str:
    """The id of a FHIR resource built from the side's first-register (ANC) row."""
    from mchis.integrations.ehr import fhir

    pk = register_record(w, side)
    row_model = model(register_label())
    row_model.objects.filter(pk=pk).update(gestational_age_weeks=20)  # so that an Observation exists
    row = row_model.objects.select_related("facility").get(pk=pk)
    return next(r["id"] for r in fhir.anc_resources(row) if r["resourceType"] == resource_type)


LABEL_SEEDERS["registers.PendingUpload"] = seed_pending_upload
LABEL_SEEDERS["reports.FormDefinition"] = seed_form_definition
LABEL_SEEDERS["reports.ReportInstance"] = seed_report


def seed_security_key(world: World, side: str, label: str) -> Any:
    """A security key (WebAuthn credential) of the side's user: credential ids are unique, so random ones."""
    import os

    return model(label).objects.create(
        user=world.get(side, "user"), credential_id=os.urandom(32), public_key=b"\x00", sign_count=0
    )


LABEL_SEEDERS["django_otp_webauthn.WebAuthnCredential"] = seed_security_key


def sample_value(f: Any, n: int) -> Any:
    if f.choices:
        return f.choices[0][0]
    if isinstance(f, models.EmailField):
        return f"zz{n}@example.vn"
    if isinstance(f, models.CharField):
        return f"Zz{f.name[:8]}{n:04d}"[: f.max_length]
    if isinstance(f, models.TextField):
        return f"Zz {f.name} {n:04d}"
    if isinstance(f, models.BooleanField):
        return False
    if isinstance(f, models.IntegerField):
        return 1
    if isinstance(f, models.FloatField | models.DecimalField):
        return 1
    if isinstance(f, models.DateTimeField):
        return timezone.now()
    if isinstance(f, models.DateField):
        return date(2025, 1, 1)
    if isinstance(f, models.UUIDField):
        return uuid.uuid4()
    if isinstance(f, models.JSONField):
        return {}
    if isinstance(f, models.BinaryField):
        return b""
    raise NoObject(f"autofill cannot fill {f.model.__name__}.{f.name} ({type(f).__name__})")


def needs_value(f: Any) -> bool:
    """A plain field the database would refuse to leave empty."""
    if f.primary_key and (f.has_default() or isinstance(f, models.AutoField)):
        return False
    if f.has_default() or f.null or getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
        return False
    return not (f.blank and isinstance(f, models.CharField | models.TextField))


def autofill(world: World, side: str, label: str, **overrides: Any) -> Any:
    Model = model(label)
    n = next(_sequence)
    scope_field = getattr(Model, "SCOPE_PATH", "")
    values: dict[str, Any] = {}
    for f in Model._meta.concrete_fields:
        if f.name in overrides:
            values[f.name] = overrides[f.name]
        elif f.name == scope_field:
            values[f.name] = world.unit(side).path
        elif f.is_relation:
            if not f.null:
                target = f.related_model._meta.label
                other = SHARED if target in SHARED_LABELS else side
                values[f.name] = world.get(other, _SIDE_OBJECTS.get(target, target))
        elif not needs_value(f):
            continue
        else:
            values[f.name] = sample_value(f, n)
    return Model.objects.create(**values)


def identifying_strings(obj: Any) -> list[str]:
    """Strings that identify an autofilled object: its distinctive texts, UUIDs and codes."""
    out = []
    for f in obj._meta.concrete_fields:
        value = getattr(obj, f.attname, None)
        if isinstance(value, uuid.UUID) or (isinstance(value, str) and value.startswith("Zz")):
            out.append(str(value))
        elif f.name == "code" and isinstance(value, str):
            out.append(value)
    return out


@pytest.fixture
def world(tree: Any, make_user: Callable[..., Any]) -> World:
    w = World(tree=tree)
    seed_units(w)
    seed_users(w, make_user)
    for seeder in SEEDERS:
        try:
            seeder(w)
        except NoObject as exc:
            w.seed_errors[seeder.__name__.removeprefix("seed_")] = str(exc)
        except Exception as exc:  # a broken seeder is reported by the routes that need it
            w.seed_errors[seeder.__name__.removeprefix("seed_")] = f"{type(exc).__name__}: {exc}"
    return w


# ----------------------------------------------------------------------------------- parameter providers
@dataclass(frozen=True)
class P:
    """How to fill one path parameter: `value(world, side)`; `scoped` = the value names a jurisdiction-bound
    object (False: a constant such as a code version, the same in every request)."""

    value: Callable[[World, str], Any]
    scoped: bool = True


def attr(kind: str, name: str = "pk") -> P:
    return P(lambda w, side: getattr(w.get(side, kind), name))


def const(value: str) -> P:
    return P(lambda w, side: value, scoped=False)


# A parameter name maps to a provider, or to {route prefix: provider} when the name is ambiguous (`pk`,
# `code`): the longest matching prefix wins, and a route matching none fails the walk.
def shared(label: str, name: str = "pk") -> P:
    return P(lambda w, side: getattr(w.get(SHARED, label), name), scoped=False)


def report_period(w: World, side: str) -> str:
    report = w.get(side, "reports.ReportInstance")
    return report.period_start.strftime("%Y" if report.period_type == "yearly" else "%Y-%m")


def first_register(w: World, side: str) -> str:
    return next(iter(REGISTERS))


# A parameter name maps to a provider, or to {route prefix: provider} when the name is ambiguous (`pk`,
# `code`, `public_id`): the longest matching prefix wins, and a route matching none fails the walk.
PARAM_PROVIDERS: dict[str, P | dict[str, P]] = {
    # registry
    "child_id": attr("child", "public_id"),
    "request_id": attr("change_request", "public_id"),
    "public_id": {
        "children/": attr("child", "public_id"),
        "children/requests/": attr("change_request", "public_id"),
        "children/corrections/": attr("registry.CorrectionRequest", "public_id"),
        "offline/conflicts/": attr("change_request", "public_id"),
    },
    # accounts
    "key_id": attr("django_otp_webauthn.WebAuthnCredential"),
    "account_id": attr("user"),
    "user_id": attr("user"),
    "client_id": attr("api_client"),
    # units, places, catalogs
    "unit": attr("unit", "code"),
    "unit_code": attr("unit", "code"),
    "facility": attr("unit", "code"),
    "under": attr("unit", "code"),
    "version": const("2025"),
    "code": {
        "units/": attr("unit", "code"),
        "api/v1/units/": attr("unit", "code"),
        "api/v1/admin-units/": attr("commune", "code"),
        "places/": attr("commune", "code"),
        "api/v1/catalogs/": shared("catalogs.Catalog", "code"),
        "catalogs/": shared("catalogs.Catalog", "code"),
        "public/provinces/": const("08"),  # public portal: a 2025 province code
        "public/lang/": const("en"),
    },
    # public portal: a statistic's code
    "key": const("deliveries"),
    # quality (phúc tra)
    "item_code": shared("catalogs.CatalogItem", "code"),
    "sample_pk": attr("quality.AuditSample"),
    "decision": const("confirm"),
    "action": {
        "quality/audits/": const("close"),
        "api/v1/reports/": const("approve"),
    },
    # registers
    "register": P(first_register, scoped=False),
    "job_id": attr("registers.IngestBatch"),
    "upload_id": attr("registers.PendingUpload"),
    "record_id": P(register_record),  # DELETE /api/v1/registers/{register}/records/{record_id} (void)
    # reports
    "form": shared("reports.FormDefinition", "code"),
    "period": P(report_period, scoped=False),
    "verb": const("approve"),
    # dates in paths (a record as of a day)
    "day": const("2025-06-30"),
    "date": const("2025-06-30"),
    # generic names: always by route
    "pk": {
        "accounts/users/": attr("user"),
        "accounts/tokens/": attr("api_client"),
        "children/evidence/": attr("registry.Evidence"),
        "quality/audits/": attr("quality.AuditCampaign"),
        "quality/duplicates/": attr("quality.DuplicateCandidate"),
        "quality/findings/": attr("quality.Finding"),
        "quality/tasks/": attr("quality.CorrectiveTask"),
        "reports/forms/": shared("reports.FormDefinition"),
        "places/villages/": attr("places.Village"),
        "registers/": P(register_record),
        "portal/": attr("portal.Publication"),
        "analytics/favorites/": attr("analytics.Favorite"),
    },
    "id": {},
    # integrations: FHIR reads of a register row's resources
    "resource_id": {
        "api/v1/fhir/Patient/": P(lambda w, side: fhir_id(w, side, "Patient")),
        "api/v1/fhir/Encounter/": P(lambda w, side: fhir_id(w, side, "Encounter")),
        "api/v1/fhir/Observation/": P(lambda w, side: fhir_id(w, side, "Observation")),
    },
}


class MissingProvider(Exception):
    pass


def provider_for(name: str, route: str) -> P:
    entry = PARAM_PROVIDERS.get(name)
    if isinstance(entry, dict):
        matches = [prefix for prefix in entry if route.startswith(prefix)]
        if matches:
            return entry[max(matches, key=len)]
        entry = None
    if entry is None:
        raise MissingProvider(
            f"add a provider for parameter {name!r} (route /{route}) to PARAM_PROVIDERS in {__name__}"
        )
    return entry


def missing_value(foreign: Any) -> str:
    """A value of the same shape that names no object."""
    text = str(foreign)
    if text.isdigit():
        return "2147480001"
    try:
        uuid.UUID(text)
        return "00000000-0000-4000-8000-00000000dead"
    except ValueError:
        return "ZZNOSUCH99"


# -------------------------------------------------------------------------------------- route discovery
PARAM = re.compile(r"<(?:(?P<conv>\w+):)?(?P<name>\w+)>")
REGEX_GROUP = re.compile(r"\(\?P<(?P<name>\w+)>[^)]*\)")


def template_of(pattern: Any) -> str:
    text = str(pattern)
    if text.startswith("^") or text.endswith("$"):  # a regex pattern: keep only named groups as <name>
        text = REGEX_GROUP.sub(lambda m: f"<{m.group('name')}>", text.lstrip("^").rstrip("$"))
        text = text.replace("\\", "")
    return text


def urlconf_routes(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[str]:
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + template_of(entry.pattern)
        if isinstance(entry, URLResolver):
            yield from urlconf_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def openapi_operations() -> Iterator[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    """(route template, METHOD, operation, whole schema) for every operation of the OpenAPI schema."""
    from config.api import api

    schema = api.get_openapi_schema()
    for path, operations in schema["paths"].items():
        route = re.sub(r"\{(\w+)\}", r"<\1>", path).lstrip("/")
        for method, op in operations.items():
            if method.lower() in {"get", "post", "put", "patch", "delete"}:
                yield route, method.upper(), op, schema


def params_of(route: str) -> list[str]:
    return [m.group("name") for m in PARAM.finditer(route)]


def fill(route: str, values: dict[str, Any]) -> str:
    return "/" + PARAM.sub(lambda m: str(values[m.group("name")]), route)


def is_public(route: str, method: str = "GET") -> bool:
    """Public routes may answer 200 to reads; writes are judged like any other route."""
    return method == "GET" and any(route.startswith(prefix) for prefix in PUBLIC_ROUTES)


# --------------------------------------------------------------------------------------- request bodies
def _resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = schema
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


def example_of(schema: dict[str, Any], node: dict[str, Any], world: World, depth: int = 0) -> Any:
    """A plausible value for a JSON schema node: its example, else a value of the right type; properties
    named like a path parameter get province A's object, so bodies also point at foreign objects."""
    node = _resolve(schema, node)
    if "example" in node:
        return node["example"]
    if node.get("examples"):
        return node["examples"][0]
    if "default" in node:
        return node["default"]
    for key in ("anyOf", "oneOf", "allOf"):
        if node.get(key):
            return example_of(schema, node[key][0], world, depth + 1)
    kind = node.get("type")
    if kind == "object" or "properties" in node:
        if depth > 4:
            return {}
        out = {}
        for name, prop in node.get("properties", {}).items():
            provider = PARAM_PROVIDERS.get(name)
            if isinstance(provider, P):
                try:
                    out[name] = str(provider.value(world, FOREIGN))
                    continue
                except NoObject:
                    pass
            out[name] = example_of(schema, prop, world, depth + 1)
        return out
    if kind == "array":
        return []
    if kind == "integer" or kind == "number":
        return 1
    if kind == "boolean":
        return False
    if node.get("format") == "date":
        return "2024-01-15"
    if node.get("format") == "uuid":
        return str(uuid.uuid4())
    if node.get("enum"):
        return node["enum"][0]
    return "Zz walk"


def body_for(op: dict[str, Any], schema: dict[str, Any], world: World) -> str | None:
    content = op.get("requestBody", {}).get("content", {})
    if "application/json" not in content:
        return None
    return json.dumps(example_of(schema, content["application/json"]["schema"], world))


# ------------------------------------------------------------------------------------------ the checks
@dataclass
class Walk:
    world: World
    failures: list[str] = field(default_factory=list)
    requests: int = 0
    sent: set[str] = field(default_factory=set)  # every value of A the walk has put in a URL
    own_hits: int = 0  # own-scope objects answered 200: the walk is not vacuous
    analytics_rows: int = 0  # analytics rows of the walker's own unit checked against its own subtree's count

    def leaked(self, body: bytes, sent: frozenset[str] = frozenset()) -> list[str]:
        """Province A's strings in a body, except those the request itself sent (checked by `echoes`)."""
        text = body.decode("utf-8", errors="replace")
        return sorted(
            secret for secret in self.world.secrets - sent if any(form in text for form in encodings(secret))
        )

    def send(self, client: Client, method: str, url: str, body: str | None, headers: dict[str, str]) -> Any:
        self.requests += 1
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs.update(data=body, content_type="application/json")
        try:
            return getattr(client, method.lower())(url, **kwargs)
        except Exception as exc:  # a crash is a finding, reported with the others
            return exc

    def check_list(
        self,
        who: str,
        client: Client,
        method: str,
        url: str,
        headers: dict[str, str],
        body: str | None = None,
    ) -> None:
        response = self.send(client, method, url, body, headers)
        if isinstance(response, Exception):
            self.failures.append(f"{who} {method} {url}: raised {type(response).__name__}: {response}")
            return
        if response.status_code >= 500:
            self.failures.append(f"{who} {method} {url}: status {response.status_code}")
        path = url.split("?")[0].lstrip("/")
        if path in STATIC_DOCUMENTS:
            return
        echoed = frozenset(self.sent) if path.startswith(tuple(ECHO_ROUTES)) else frozenset()
        if leaked := self.leaked(response.content, echoed):
            self.failures.append(f"{who} {method} {url}: shows province A's {leaked}")

    def check_object(
        self,
        who: str,
        client: Client,
        method: str,
        route: str,
        headers: dict[str, str],
        body: str | None = None,
    ) -> None:
        try:
            providers = {name: provider_for(name, route) for name in params_of(route)}
            foreign = {name: p.value(self.world, FOREIGN) for name, p in providers.items()}
        except (MissingProvider, NoObject) as exc:
            self.failures.append(f"/{route}: {exc}")
            return
        if not any(p.scoped for p in providers.values()):  # nothing jurisdiction-bound in the path
            self.check_list(who, client, method, fill(route, foreign), headers, body)
            return
        missing = {n: (missing_value(v) if providers[n].scoped else v) for n, v in foreign.items()}
        self.sent.update(str(v) for v in foreign.values())
        url = fill(route, foreign)
        got = self.send(client, method, url, body, headers)
        ref = self.send(client, method, fill(route, missing), body, headers)
        for response, label in ((got, url), (ref, fill(route, missing))):
            if isinstance(response, Exception):
                self.failures.append(f"{who} {method} {label}: raised {type(response).__name__}: {response}")
                return
        if leaked := self.leaked(got.content):
            self.failures.append(f"{who} {method} {url}: shows province A's {leaked}")
        if got.status_code >= 500:
            self.failures.append(f"{who} {method} {url}: status {got.status_code}")
        elif not is_public(route, method):
            same = (got.status_code, where(got, foreign)) == (ref.status_code, where(ref, missing))
            if not (self.status_reveals_nothing(got) or (got.status_code in (302, 303) and same)):
                self.failures.append(
                    f"{who} {method} {url}: status {got.status_code} for another province's object"
                )
            elif not same:
                self.failures.append(
                    f"{who} {method} {url}: answers {got.status_code} but {ref.status_code} for a missing object"
                    " (existence leaks)"
                )
        if method == "GET" and not is_public(route, method):
            self.control(who, client, route, providers, headers)

    def status_reveals_nothing(self, response: Any) -> bool:
        if response.status_code in OK_STATUSES:
            return True
        return response.status_code == 302 and "/accounts/login/" in response.get("Location", "")

    def control(
        self, who: str, client: Client, route: str, providers: dict[str, P], headers: dict[str, str]
    ) -> None:
        try:
            own = {name: p.value(self.world, OWN) for name, p in providers.items()}
        except NoObject:
            return
        response = self.send(client, "GET", fill(route, own), None, headers)
        if not isinstance(response, Exception) and response.status_code == 200:
            self.own_hits += 1


def encodings(value: Any) -> set[str]:
    text = str(value)
    return {
        text,
        escape(text),
        json.dumps(text)[1:-1],
        json.dumps(text, ensure_ascii=False)[1:-1],
        quote_plus(text),
        quote(text),
    }


def occurrences(body: bytes, value: Any) -> int:
    text = body.decode("utf-8", errors="replace")
    return sum(text.count(form) for form in encodings(value))


def where(response: Any, values: dict[str, Any]) -> str:
    """A redirect's target with the request's own parameter values blanked, to compare foreign vs missing."""
    location = response.get("Location", "") or ""
    for value in values.values():
        location = location.replace(str(value), "<X>")
    return location


def report(walk: Walk) -> str:
    lines = walk.failures[:60]
    more = len(walk.failures) - len(lines)
    return "\n".join(lines + ([f"... and {more} more"] if more > 0 else []))


# Query-string filters that name province A's objects: list pages and list endpoints given them must still
# show nothing of A (searching another province's child by name, filtering by another province's unit).
QUERY_PROVIDERS: dict[str, P] = {
    "q": attr("child", "full_name"),
    "unit": attr("unit", "code"),
    "unit_code": attr("unit", "code"),
    "facility": attr("unit", "code"),
    "under": attr("unit", "code"),
    "child_id": attr("child", "public_id"),
}


def foreign_query(world: World, names: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(filters naming A's objects, same-shaped filters naming nothing) for the given parameter names."""
    foreign: dict[str, Any] = {}
    for name in names:
        provider = QUERY_PROVIDERS.get(name) or PARAM_PROVIDERS.get(name)
        if isinstance(provider, P) and provider.scoped:
            try:
                foreign[name] = provider.value(world, FOREIGN)
            except NoObject:
                continue
    missing = {k: ("Zzkhông Có Ai" if k == "q" else missing_value(v)) for k, v in foreign.items()}
    return foreign, missing


def check_filtered(
    walk: Walk, who: str, client: Client, path: str, names: list[str], headers: dict[str, str]
) -> None:
    """A list filtered by A's objects shows no more of them than the same list filtered by nothing: what a
    page echoes back (the search box, the `next` link) appears equally often in both answers."""
    foreign, missing = foreign_query(walk.world, names)
    if not foreign:
        return
    url = f"/{path}?{urlencode(foreign)}"
    got = walk.send(client, "GET", url, None, headers)
    ref = walk.send(client, "GET", f"/{path}?{urlencode(missing)}", None, headers)
    if isinstance(got, Exception) or isinstance(ref, Exception):
        error = got if isinstance(got, Exception) else ref
        walk.failures.append(f"{who} GET {url}: raised {type(error).__name__}: {error}")
        return
    if got.status_code >= 500:
        walk.failures.append(f"{who} GET {url}: status {got.status_code}")
    if path in STATIC_DOCUMENTS:
        return
    sent = frozenset(str(v) for v in foreign.values())
    walk.sent.update(sent)
    if path.startswith(tuple(ECHO_ROUTES)):
        sent |= frozenset(walk.sent)
    if leaked := walk.leaked(got.content, sent):
        walk.failures.append(f"{who} GET {url}: shows province A's {leaked}")
    for name, value in foreign.items():
        if occurrences(got.content, value) > occurrences(ref.content, missing[name]):
            walk.failures.append(f"{who} GET {url}: filter {name}={value} finds province A's object")


def walk_urlconf(walk: Walk, who: str, login: Callable[[], Client]) -> int:
    routes = sorted(set(urlconf_routes()))
    for route in routes:
        if route in SKIP_ROUTES:
            continue
        client = login()
        if params_of(route):
            for method in ("GET", "POST"):
                walk.check_object(who, client, method, route, {})
        else:
            walk.check_list(who, client, "GET", "/" + route, {})
            # HTML list pages do not declare their filters: offer the usual ones, naming A's objects.
            check_filtered(walk, who, client, route, list(QUERY_PROVIDERS), {})
    return len(routes)


def walk_openapi(walk: Walk, who: str, client_factory: Callable[[], Client], headers: dict[str, str]) -> int:
    count = 0
    for route, method, op, schema in openapi_operations():
        count += 1
        client = client_factory()
        if params_of(route):
            walk.check_object(who, client, method, route, headers, body_for(op, schema, walk.world))
        elif method == "GET":
            walk.check_list(who, client, "GET", "/" + route, headers)
            names = [p["name"] for p in op.get("parameters", []) if p.get("in") == "query"]
            check_filtered(walk, who, client, route, names, headers)
    return count


def walker(world: World, role: str, make_user: Callable[..., Any]) -> Callable[[], Client]:
    user = make_user(role, getattr(world.tree, WALK_ROLES[role]), username=f"walker_{role}")

    def login() -> Client:
        client = Client()
        client.force_login(user)
        step_up_session(client)  # deepest reach: as if the second factor had just been checked (R-SEC-04)
        return client

    return login


# ------------------------------------------------------------------- analytics: real selections, rows checked
# The analytics routes answer a selection (dx, pe, ou): requested bare they refuse it (422) or show an empty
# form, which proves nothing. The walk sends real selections while the store holds values of both provinces,
# and checks the rows themselves: a number is no identifying string, so the leak search alone would miss a
# foreign count summed into a total. Each station's deliveries differ (A: 3 + 2, B: 4), so a value tells
# whose rows were summed.
ANALYTICS_DELIVERIES = {"tyt_a1": 3, "tyt_a2": 2, "tyt_b1": 4}
ANALYTICS_DX = "AN.DLV:total"
OU_KEYWORDS = (
    "USER_ORGUNIT",
    "USER_ORGUNIT_CHILDREN",
    "USER_ORGUNIT_GRANDCHILDREN",
    "LEVEL-1",
    "LEVEL-2",
    "LEVEL-3",
    "OU_GROUP-doh",
    "OU_GROUP-ttyt",
    "OU_GROUP-tyt",
)


def analytics_month() -> date:
    """Last month: inside every relative period a page defaults to, never in the future."""
    return (timezone.localdate().replace(day=1) - timedelta(days=1)).replace(day=1)


def seed_analytics(world: World) -> date:
    """Deliveries of both provinces last month, recomputed into the analytics store (once per world)."""
    if (SHARED, "analytics") in world.objects:
        return world.objects[(SHARED, "analytics")]
    from mchis.analytics.store import mark_months, recompute_dirty
    from mchis.reports.tests.registerdata import rec

    Delivery = model("registers.Delivery")
    world.get(SHARED, "reports.FormDefinition")  # the shipped forms: the store computes with them
    month = analytics_month()
    units = [getattr(world.tree, name) for name in ANALYTICS_DELIVERIES]
    for unit, n in zip(units, ANALYTICS_DELIVERIES.values(), strict=True):
        for _ in range(n):
            rec(Delivery, unit, month + timedelta(days=9), place="at_facility")
    mark_months([month], [u.pk for u in units])
    recompute_dirty(limit=10_000)
    world.objects[(SHARED, "analytics")] = month
    return month


def subtree_deliveries(world: World, unit: Any) -> int:
    return sum(
        n for name, n in ANALYTICS_DELIVERIES.items() if getattr(world.tree, name).path.startswith(unit.path)
    )


def check_analytics_rows(walk: Walk, who: str, url: str, root: Any, rows: list[tuple[str, Any]]) -> None:
    """Every row (unit code, value) lies in the walker's subtree and holds exactly its own subtree's count."""
    from mchis.units.models import ReportingUnit

    units = {u.code: u for u in ReportingUnit.objects.filter(code__in={code for code, _ in rows})}
    for code, value in rows:
        unit = units.get(code)
        if unit is None or not unit.path.startswith(root.path):
            walk.failures.append(f"{who} GET {url}: a row of unit {code}, outside {root.code}'s subtree")
            continue
        got = float(value) if value not in ("", None, "không xác định") else 0.0  # no value: nothing counted
        want = subtree_deliveries(walk.world, unit)
        if got != want:
            walk.failures.append(f"{who} GET {url}: {code} = {value}, its subtree holds {want}")
        elif unit.pk == root.pk and want > 0:
            walk.analytics_rows += 1


def analytics_refusal_same_as_missing(
    walk: Walk, who: str, client: Client, build: Callable[[str], str], code: str, headers: dict[str, str]
) -> Any:
    """A unit outside the walker's subtree is refused exactly as a code that does not exist."""
    missing = missing_value(code)
    walk.sent.add(code)
    got = walk.send(client, "GET", build(code), None, headers)
    ref = walk.send(client, "GET", build(missing), None, headers)
    if isinstance(got, Exception) or isinstance(ref, Exception):
        error = got if isinstance(got, Exception) else ref
        walk.failures.append(f"{who} GET {build(code)}: raised {type(error).__name__}: {error}")
        return None
    if got.status_code != ref.status_code:
        walk.failures.append(
            f"{who} GET {build(code)}: {got.status_code}, but {ref.status_code} for a unit that does not exist"
        )
    if leaked := walk.leaked(got.content, frozenset({code})):
        walk.failures.append(f"{who} GET {build(code)}: shows province A's {leaked}")
    return got


def outside_units(world: World) -> list[Any]:
    """Units a province-B walker must not read: A's station, district and province, and the nation."""
    t = world.tree
    return [t.tyt_a1, t.ttyt_a, t.doh_a, t.ministry]


def walk_analytics_api(
    walk: Walk, who: str, client: Client, root: Any, headers: dict[str, str], outside: list[Any]
) -> None:
    month = seed_analytics(walk.world)

    def url(ou: str) -> str:
        query = {"dx": ANALYTICS_DX, "pe": f"{month:%Y%m}", "ou": ou, "approved": "false"}
        return f"/api/v1/analytics?{urlencode(query)}"

    for ou in OU_KEYWORDS:
        response = walk.send(client, "GET", url(ou), None, headers)
        if isinstance(response, Exception) or response.status_code >= 500:
            walk.failures.append(f"{who} GET {url(ou)}: {response}")
            continue
        if leaked := walk.leaked(response.content):
            walk.failures.append(f"{who} GET {url(ou)}: shows province A's {leaked}")
        if response.status_code == 200:
            check_analytics_rows(walk, who, url(ou), root, [(r[2], r[3]) for r in response.json()["rows"]])
        elif response.status_code not in OK_STATUSES:
            walk.failures.append(f"{who} GET {url(ou)}: status {response.status_code}")
    for unit in outside:
        got = analytics_refusal_same_as_missing(walk, who, client, url, unit.code, headers)
        if got is not None and got.status_code == 200:
            walk.failures.append(f"{who} GET {url(unit.code)}: answered rows for {unit.code}")


def walk_analytics_pages(walk: Walk, who: str, client: Client, root: Any, outside: list[Any]) -> None:
    """The pivot table (read through its CSV download: the same grid as the page) and the map (its areas from
    the JSON in the page), with keyword selections, the walker's own unit and other provinces' units."""
    month = seed_analytics(walk.world)
    pe = f"{month:%Y%m}"

    def pivot_url(ou: str) -> str:
        query = {"dx": ANALYTICS_DX, "pe": pe, "ou": ou, "approved": "0", "totals": "0", "format": "csv"}
        return f"/analytics/pivot/?{urlencode(query)}"

    def map_url(unit: str = "") -> str:
        query = {"dx": ANALYTICS_DX, "pe": pe, "approved": "0", **({"unit": unit} if unit else {})}
        return f"/analytics/map/?{urlencode(query)}"

    from mchis.units.models import ReportingUnit

    by_name = {u.name: u.code for u in ReportingUnit.objects.all()}
    for ou in OU_KEYWORDS:
        response = walk.send(client, "GET", pivot_url(ou), None, {})
        if isinstance(response, Exception) or response.status_code >= 500:
            walk.failures.append(f"{who} GET {pivot_url(ou)}: {response}")
            continue
        if leaked := walk.leaked(response.content):
            walk.failures.append(f"{who} GET {pivot_url(ou)}: shows province A's {leaked}")
        if response.status_code == 200 and response["Content-Type"].startswith("text/csv"):
            lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))[2:]  # source, header
            check_analytics_rows(walk, who, pivot_url(ou), root, [(by_name[r[0]], r[1]) for r in lines])
    for unit in outside:
        got = analytics_refusal_same_as_missing(walk, who, client, pivot_url, unit.code, {})
        if got is not None and got["Content-Type"].startswith("text/csv"):
            walk.failures.append(f"{who} GET {pivot_url(unit.code)}: a table of {unit.code}")
    for unit in ("", root.code, *(u.code for u in outside)):
        response = walk.send(client, "GET", map_url(unit), None, {})
        if isinstance(response, Exception) or response.status_code >= 500:
            walk.failures.append(f"{who} GET {map_url(unit)}: {response}")
            continue
        if leaked := walk.leaked(response.content, frozenset({unit})):
            walk.failures.append(f"{who} GET {map_url(unit)}: shows province A's {leaked}")
        found = MAP_DATA.search(response.content.decode())
        if response.status_code == 200 and found:
            areas = json.loads(found.group(1))["areas"]
            check_analytics_rows(walk, who, map_url(unit), root, [(a["unit"], a["value"]) for a in areas])


MAP_DATA = re.compile(r'<script id="map-data" type="application/json">(.*?)</script>', re.S)


# Walk roles that may read analytics (accounts.permissions "analytics.view").
ANALYTICS_ROLES = ("auditor", "collector", "leader", "reporter", "viewer")


def walk_analytics(
    walk: Walk, who: str, login: Callable[[], Client], root: Any, outside: list[Any] | None = None
) -> None:
    outside = outside_units(walk.world) if outside is None else outside
    walk_analytics_api(walk, who, login(), root, {}, outside)
    walk_analytics_pages(walk, who, login(), root, outside)


# ------------------------------------------------------------------------------------------------ tests
def test_r_sec_01_every_route_has_a_parameter_provider(world):
    """New routes cannot escape the walk: every path parameter of every route must have a provider."""
    routes = set(urlconf_routes()) | {route for route, *_ in openapi_operations()}
    problems = []
    for route in sorted(routes):
        for name in params_of(route):
            try:
                provider_for(name, route).value(world, FOREIGN)
            except (MissingProvider, NoObject) as exc:
                problems.append(f"/{route}: {exc}")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
@pytest.mark.one_engine  # scoping is the ORM's (core.scoping), the same SQL on both engines
@pytest.mark.parametrize("role", sorted(WALK_ROLES))
def test_r_sec_01_no_route_leaks_another_province(world, make_user, settings, role):
    settings.ROLES_REQUIRING_2FA = []  # the walk is about jurisdiction; 2FA has its own tests
    walk = Walk(world)
    login = walker(world, role, make_user)
    n_urls = walk_urlconf(walk, role, login)
    n_ops = walk_openapi(walk, role, login, {})
    assert n_urls > 5 and n_ops > 0, "the walk found no routes: the URLconf/OpenAPI introspection is broken"
    walk_analytics(walk, role, login, getattr(world.tree, WALK_ROLES[role]))
    assert not walk.failures, f"{len(walk.failures)} leak(s) in {walk.requests} requests:\n{report(walk)}"
    if role in ANALYTICS_ROLES:  # the analytics checks compared real rows, not only refusals
        assert walk.analytics_rows > 0, f"{role}: no analytics row of its own unit was checked"


@pytest.mark.slow
@pytest.mark.one_engine
def test_r_sec_01_walk_reaches_own_objects(world, make_user, settings):
    """Control: the same walk with the walker's own objects gets real answers, so the 404s above come from
    scoping, not from a walker that can open nothing."""
    settings.ROLES_REQUIRING_2FA = []
    walk = Walk(world)
    for role in ("leader", "unit_admin"):
        walk_urlconf(walk, role, walker(world, role, make_user))
    assert walk.own_hits > 0


@pytest.mark.slow
def test_r_sec_01_machine_client_of_another_province_sees_nothing(world):
    from mchis.accounts.permissions import MACHINE_ACTIONS
    from mchis.accounts.services import api_client_create

    _, token = api_client_create(
        actor=None, name="Walker HIS B", unit=world.tree.doh_b, scopes=sorted(MACHINE_ACTIONS)
    )
    walk = Walk(world)
    headers = {"Authorization": f"Bearer {token}"}
    n_ops = walk_openapi(walk, "client", Client, headers)
    assert n_ops > 0
    walk_analytics_api(walk, "client", Client(), world.tree.doh_b, headers, outside_units(world))
    assert walk.analytics_rows > 0, "the machine client's analytics rows were not checked"
    assert not walk.failures, f"{len(walk.failures)} leak(s) in {walk.requests} requests:\n{report(walk)}"


def test_r_sec_01_analytics_district_analyst_of_a_sees_its_subtree_only(world, make_user, settings):
    """The other direction, with the rows named: a district analyst of province A gets its own stations' counts
    (3 and 2, total 5) on the API, the pivot table and the map, and nothing of B, of its province or of the
    nation (which would add B's 4)."""
    settings.ROLES_REQUIRING_2FA = []
    t = world.tree
    walk = Walk(world)
    client = Client()
    client.force_login(make_user("reporter", t.ttyt_a, username="analyst_ttyt_a"))
    walk.world.secrets = {t.tyt_b1.code, t.tyt_b1.name, t.ttyt_b.code, t.ttyt_b.name}  # B is the foreign side
    month = seed_analytics(world)
    query = {"dx": ANALYTICS_DX, "pe": f"{month:%Y%m}", "approved": "false"}
    body = client.get("/api/v1/analytics", {**query, "ou": "USER_ORGUNIT;USER_ORGUNIT_CHILDREN"}).json()
    assert {row[2]: row[3] for row in body["rows"]} == {"TTYT08-01": "5", "TYT02269": "3", "TYT02296": "2"}
    for code in (t.tyt_b1.code, t.doh_a.code, t.ministry.code):
        response = client.get("/api/v1/analytics", {**query, "ou": code})
        assert response.status_code == 400 and response.json()["code"] == "unknown_unit", code
    csv_body = client.get(
        "/analytics/pivot/",
        {**query, "approved": "0", "ou": "USER_ORGUNIT_CHILDREN", "totals": "0", "format": "csv"},
    ).content.decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(csv_body)))[2:] == [
        ["Trạm Y tế phường Minh Xuân", "3"],
        ["Trạm Y tế xã Kim Bình", "2"],
    ]
    page = client.get("/analytics/map/", {**query, "approved": "0", "unit": t.ttyt_a.code}).content.decode()
    found = MAP_DATA.search(page)
    assert found, "the map page carries no map data"
    areas = json.loads(found.group(1))["areas"]
    assert {a["unit"]: a["value"] for a in areas} == {"TYT02269": 3, "TYT02296": 2}
    walk_analytics(walk, "analyst A", lambda: client, t.ttyt_a, [t.tyt_b1, t.ttyt_b, t.doh_a, t.ministry])
    assert not walk.failures, report(walk)
    assert walk.analytics_rows > 0


def test_r_sec_01_walk_detects_a_leaking_route(world, make_user, settings):
    """The walk can fail: a detail route that shows any child by id and a search that ignores scoping
    are both caught, while a page that merely echoes the search box is not."""
    from django.http import HttpResponse
    from django.urls import clear_url_caches, path

    Child = model("registry.Child")

    def leaky(request: Any, child_id: str) -> HttpResponse:
        child = Child.objects.filter(public_id=child_id).first()
        return HttpResponse(child.full_name if child else "", status=200 if child else 404)

    def leaky_search(request: Any) -> HttpResponse:
        q = request.GET.get("q", "")
        found = Child.objects.filter(full_name=q).exists()
        return HttpResponse(f"<input value='{escape(q)}'>" + (f"<td>{escape(q)}</td>" if found else ""))

    def echo_only(request: Any) -> HttpResponse:
        return HttpResponse(f"<input value='{escape(request.GET.get('q', ''))}'>")

    settings.ROLES_REQUIRING_2FA = []
    urlconf = type(
        "LeakyConf",
        (),
        {
            "urlpatterns": [
                path("leaky/<uuid:child_id>/", leaky),
                path("leaky-search/", leaky_search),
                path("echo/", echo_only),
            ]
        },
    )
    settings.ROOT_URLCONF = urlconf
    clear_url_caches()
    try:
        walk = Walk(world)
        walk_urlconf(walk, "leader", walker(world, "leader", make_user))
    finally:
        clear_url_caches()
    assert any("/leaky/" in f and "shows province A's" in f for f in walk.failures)
    assert any("/leaky/" in f and ("existence leaks" in f or "status 200" in f) for f in walk.failures)
    assert any("/leaky-search/" in f and "filter q=" in f for f in walk.failures)
    assert not any("/echo/" in f for f in walk.failures)


def test_r_sec_01_unknown_parameter_fails_the_walk():
    with pytest.raises(MissingProvider, match="add a provider for parameter 'gizmo_id'"):
        provider_for("gizmo_id", "gizmos/<gizmo_id>/")
    with pytest.raises(MissingProvider, match="add a provider for parameter 'pk'"):
        provider_for("pk", "gizmos/<int:pk>/")


# ------------------------------------------------------------------------- the unit-admin write walk
# Issue 10 item 2: a unit admin of province B sends every admin page and admin API operation forms that name
# province A's objects - as the object in the path, or as a field of the body (parent, location, unit of an
# account or token, commune of a village) - and nothing of A may change, nor may B locate anything in A.
ADMIN_ROUTE_PREFIXES = (
    "units/",
    "places/",
    "accounts/users/",
    "accounts/tokens/",
    "accounts/locked-ips/",
    "catalogs/",
    "audit/",
)
ADMIN_API_PREFIXES = (
    "api/v1/units",
    "api/v1/accounts",
    "api/v1/admin-units",
    "api/v1/catalogs",
    "api/v1/audit",
)


def admin_bodies(world: World) -> list[dict[str, Any]]:
    """Hostile bodies: fields naming A's objects, with a parent in B's own subtree (the reproduced attack:
    a unit under B located in A's commune) and with a parent in A."""
    t = world.tree
    village = world.get(FOREIGN, "places.Village")
    base = {
        "code": "ZZHOSTILE1",
        "name": "Zz Thôn Hay Đơn Vị Giả",
        "kind": "tyt",
        "admin_unit": t.commune_a1.code,
        "commune": t.commune_a1.code,
        "village": str(village.pk),
        "unit": t.tyt_a1.code,
        "new_parent": t.ttyt_a.code,
        "on": timezone.localdate().isoformat(),
        "reason": "Zz lý do",
        "role": "collector",
        "username": "zzhostile_user",
        "first_name": "Zz",
        "last_name": "Hostile",
        "email": "zzhostile@example.vn",
        "scopes": "child.view",
        "days": "30",
        "ip_address": "10.9.9.9",
        "active": "on",
    }
    return [base | {"parent": t.ttyt_b.code}, base | {"parent": t.ttyt_a.code, "code": "ZZHOSTILE2"}]


def province_a_state(world: World) -> dict[str, Any]:
    """Everything of province A a unit admin could touch, and every unit located in A's territory."""
    from mchis.accounts.models import ApiClient, User
    from mchis.places.models import AdminUnit, Village
    from mchis.units.models import ReportingUnit

    t = world.tree
    territory = AdminUnit.objects.filter(pk=t.province_a.pk) | AdminUnit.objects.filter(parent=t.province_a)
    a_path = t.doh_a.path
    return {
        "units of A": sorted(
            ReportingUnit.objects.filter(path__startswith=a_path).values_list(
                "code", "name", "kind", "admin_unit_id", "parent_id", "path", "active"
            )
        ),
        "units located in A": sorted(
            ReportingUnit.objects.filter(admin_unit__in=territory).values_list("code", "path")
        ),
        "villages of A": sorted(
            Village.objects.filter(commune__in=territory).values_list("pk", "code", "name", "kind", "active")
        ),
        "accounts of A": sorted(
            User.objects.filter(unit__path__startswith=a_path).values_list(
                "pk", "username", "role", "is_active", "unit_id"
            )
        ),
        "tokens of A": sorted(
            (pk, str(revoked))
            for pk, revoked in ApiClient.objects.filter(unit__path__startswith=a_path).values_list(
                "pk", "revoked_at"
            )
        ),
    }


def admin_write_walk(world: World, login: Callable[[], Client]) -> tuple[list[str], int]:
    """POST every hostile body to every admin page (path filled with A's and with B's objects) and send it
    to every admin API write; returns (crashes, requests)."""
    failures: list[str] = []
    sent = 0
    bodies = admin_bodies(world)
    routes = [r for r in sorted(set(urlconf_routes())) if r.startswith(ADMIN_ROUTE_PREFIXES)]
    for route in routes:
        if route in SKIP_ROUTES:
            continue
        names = params_of(route)
        for side in (FOREIGN, OWN) if names else (OWN,):
            try:
                values = {n: provider_for(n, route).value(world, side) for n in names}
            except (MissingProvider, NoObject) as exc:
                failures.append(f"/{route}: {exc}")
                break
            for body in bodies:
                sent += 1
                try:
                    response = login().post(fill(route, values), body)
                except Exception as exc:  # a crash is a finding
                    failures.append(f"POST {fill(route, values)}: raised {type(exc).__name__}: {exc}")
                    continue
                if response.status_code >= 500:
                    failures.append(f"POST {fill(route, values)}: status {response.status_code}")
    for route, method, op, schema in openapi_operations():
        if method == "GET" or not route.startswith(ADMIN_API_PREFIXES):
            continue
        names = params_of(route)
        for side in (FOREIGN, OWN) if names else (OWN,):
            values = {n: provider_for(n, route).value(world, side) for n in names}
            payload = example_of(schema, _request_schema(op), world) or {}
            for body in bodies:
                sent += 1
                merged = {**payload, **{k: v for k, v in body.items() if k in payload}}
                response = getattr(login(), method.lower())(
                    fill(route, values), json.dumps(merged), content_type="application/json"
                )
                if response.status_code >= 500:
                    failures.append(f"{method} {fill(route, values)}: status {response.status_code}")
    return failures, sent


def _request_schema(op: dict[str, Any]) -> dict[str, Any]:
    content: dict[str, Any] = op.get("requestBody", {}).get("content", {})
    first: dict[str, Any] = next(iter(content.values()), {})
    return first.get("schema", {})


@pytest.mark.slow
def test_r_sec_01_unit_admin_changes_nothing_of_another_province(world, make_user, settings):
    """Issue 10 item 2: every admin page and admin API write, sent by province B's unit admin with A's
    objects in the path and in the body, leaves A's units, villages, accounts and tokens as they were and
    locates nothing of B in A's communes."""
    settings.ROLES_REQUIRING_2FA = []
    world.get(FOREIGN, "places.Village")
    before = province_a_state(world)
    failures, sent = admin_write_walk(world, walker(world, "unit_admin", make_user))
    after = province_a_state(world)
    changed = [f"{key}: {before[key]} -> {after[key]}" for key in before if before[key] != after[key]]
    assert sent > 20, "the admin walk found no admin routes"
    assert not failures and not changed, "\n".join(failures + changed)


@pytest.mark.slow
def test_r_sec_01_unit_admin_walk_control_writes_in_its_own_province(world, make_user, settings):
    """Control: the same admin pages with B's own objects in the body do write (so the walk above is
    refused by scoping, not by forms it could never fill)."""
    from mchis.core.models import AuditEvent

    settings.ROLES_REQUIRING_2FA = []
    t = world.tree
    client = walker(world, "unit_admin", make_user)()
    client.post("/units/new/", {"code": "TYTB-NEW", "name": "Trạm mới B", "kind": "tyt",
                                "admin_unit": t.commune_b1.code, "parent": t.ttyt_b.code})  # fmt: skip
    client.post(f"/places/villages/{t.commune_b1.code}/", {"name": "Thôn Mới B", "kind": "thon"})
    actions = set(
        AuditEvent.objects.filter(actor_username="walker_unit_admin").values_list("action", flat=True)
    )
    assert {"unit.create", "village.create"} <= actions


# --- machine clients on every operation (issue 10 item 1, R-SEC-02) -----------------------------------------


# POST operations that write nothing (a question with a body); a token holding the read scope may ask.
READ_ONLY_POSTS = frozenset({"POST /api/v1/quality/check-child"})


def walk_every_operation(walk: Walk, who: str, headers: dict[str, str]) -> tuple[int, dict[str, int]]:
    """Every OpenAPI operation, whatever its method, once: objects of the other province in the path, the
    schema's example body. Returns (operations, status counts of the parameterless writes)."""
    count, statuses = 0, {}
    for route, method, op, schema in openapi_operations():
        count += 1
        body = body_for(op, schema, walk.world)
        if params_of(route):
            walk.check_object(who, Client(), method, route, headers, body)
            continue
        walk.check_list(who, Client(), method, "/" + route, headers, body)
        if method != "GET":
            response = walk.send(Client(), method, "/" + route, body, headers)
            code = getattr(response, "status_code", 599)
            statuses[f"{method} /{route}"] = code
    return count, statuses


def test_r_sec_02_machine_client_walks_every_operation_of_another_province(world):
    """A token of province B with every scope it may hold, and a token stored with *every* MATRIX scope (as one
    issued before machine clients were restricted): every API operation, every method, objects of province A.
    Nothing of A leaks, nothing answers 500, and no person's act is accepted from a token."""
    from mchis.accounts.models import ApiClient
    from mchis.accounts.permissions import MACHINE_ACTIONS, MATRIX
    from mchis.accounts.services import api_client_create

    machine, token = api_client_create(
        actor=None, name="Walker HIS B2", unit=world.tree.doh_b, scopes=sorted(MACHINE_ACTIONS)
    )
    legacy, legacy_token = api_client_create(
        actor=None, name="Walker legacy B", unit=world.tree.doh_b, scopes=["child.view"]
    )
    ApiClient.objects.filter(pk=legacy.pk).update(scopes=sorted(MATRIX))
    total = sum(1 for _ in openapi_operations())
    for who, secret in (("client", token), ("legacy-client", legacy_token)):
        walk = Walk(world)
        n_ops, writes = walk_every_operation(walk, who, {"Authorization": f"Bearer {secret}"})
        assert n_ops == total
        assert not walk.failures, f"{len(walk.failures)} leak(s) in {walk.requests} requests:\n{report(walk)}"
        accepted = {
            op: code
            for op, code in writes.items()
            if code < 400 and "/registers/" not in op and op not in READ_ONLY_POSTS
        }
        assert not accepted, f"{who}: a token performed a person's act: {accepted}"
