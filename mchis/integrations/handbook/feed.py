"""The handbook feed: pages of per-person timelines for the persons who consented, after a cursor.

The cursor is the id of the last handbook outbox entry the page covers: any change that concerns a person
(a register row, an approved child change, a consent given or withdrawn) queues an entry, so `since=<cursor>`
returns exactly the persons changed since the app's last pull. Reading a page with `since=N` acknowledges
entries up to N (the app has stored them): the monitoring page shows the app's backlog and last pull.
A person without an open consent is never in a page; a withdrawn one appears once as a tombstone
(`{"personal_id", "withdrawn": true}`, no data) so the app deletes what it holds.

Next contacts due: pregnancy — the WHO 2016 eight-contact schedule (12, 20, 26, 30, 34, 36, 38, 40 weeks from
the last menstrual period, or from the expected delivery date minus 280 days), the first one after the latest
visit, while no delivery is recorded after it; child — monthly weighing before 24 months, then every six months
until 60 months (the commune's growth-monitoring rhythm), counted from the last exam.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction

from mchis.accounts.permissions import is_machine_client
from mchis.core.ages import completed_months
from mchis.core.audit import log_event
from mchis.core.scoping import visible_to
from mchis.outbox.models import OutboxEntry
from mchis.outbox.services import outbox_acknowledge
from mchis.registers.models import AncVisit, ChildExam, Delivery
from mchis.registry.models import Child

from ..models import HandbookConsent
from .services import NAME

ANC_CONTACT_WEEKS = (12, 20, 26, 30, 34, 36, 38, 40)
MAX_PAGE = 500


@dataclass(frozen=True)
class FeedPage:
    body: bytes
    etag: str
    cursor: int
    count: int


def _d(value: date | None) -> str | None:
    return value.isoformat() if value else None


def _f(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


def next_anc_contact(*, lmp: date | None, edd: date | None, last_visit: date) -> date | None:
    start = lmp or (edd - timedelta(days=280) if edd else None)
    if start is None:
        return None
    for week in ANC_CONTACT_WEEKS:
        due = start + timedelta(weeks=week)
        if due > last_visit:
            return due
    return None


def next_child_exam(*, dob: date | None, last_exam: date) -> date | None:
    if dob is None:
        return None
    months = completed_months(dob, last_exam)
    step = 1 if months < 24 else 6
    due = last_exam + timedelta(days=30 * step)
    return due if completed_months(dob, due) < 60 else None


def timeline(principal: Any, personal_id: str) -> dict[str, Any]:
    """Everything the handbook shows for one person, inside the client's jurisdiction."""
    visits = list(
        visible_to(AncVisit.objects.filter(personal_id=personal_id, voided_at__isnull=True), principal)
        .select_related("facility")
        .order_by("event_date", "id")
    )
    deliveries = list(
        visible_to(Delivery.objects.filter(personal_id=personal_id, voided_at__isnull=True), principal)
        .select_related("facility")
        .prefetch_related("newborns")
        .order_by("event_date", "id")
    )
    exams = list(
        visible_to(ChildExam.objects.filter(personal_id=personal_id, voided_at__isnull=True), principal)
        .select_related("facility")
        .order_by("event_date", "id")
    )
    child = (
        visible_to(Child.objects.filter(personal_id=personal_id), principal).order_by("-updated_at").first()
    )
    subject: Any = child or (exams or deliveries or visits or [None])[-1]
    person: dict[str, Any] = {"personal_id": personal_id}
    if child is not None:
        person |= {"full_name": child.full_name, "date_of_birth": _d(child.date_of_birth), "sex": child.sex}
    elif subject is not None:
        person |= {"full_name": subject.full_name, "date_of_birth": _d(subject.dob), "sex": subject.sex}
    out: dict[str, Any] = {"person": person, "pregnancy": None, "anc_contacts": [], "deliveries": []}
    out["anc_contacts"] = [
        {
            "date": _d(v.event_date),
            "facility": v.facility.name,
            "visit_number": v.visit_number,
            "gestational_age_weeks": v.gestational_age_weeks,
            "tetanus_dose": v.tetanus_dose or None,
        }
        for v in visits
    ]
    out["deliveries"] = [
        {
            "date": _d(d.event_date),
            "facility": d.facility.name,
            "mode": d.delivery_mode,
            "newborns": [
                {
                    "birth_order": n.birth_order,
                    "outcome": n.outcome,
                    "sex": n.sex,
                    "weight_grams": n.weight_grams,
                }
                for n in d.newborns.all()
            ],
        }
        for d in deliveries
    ]
    if visits:
        last = visits[-1]
        delivered_after = any(d.event_date >= last.event_date for d in deliveries)
        lmp = next((v.lmp_date for v in reversed(visits) if v.lmp_date), None)
        edd = next((v.expected_delivery_date for v in reversed(visits) if v.expected_delivery_date), None)
        if not delivered_after:
            out["pregnancy"] = {
                "lmp_date": _d(lmp),
                "expected_delivery_date": _d(edd),
                "next_contact_due": _d(next_anc_contact(lmp=lmp, edd=edd, last_visit=last.event_date)),
            }
    out["child_exams"] = [
        {
            "date": _d(e.event_date),
            "facility": e.facility.name,
            "age_months": e.age_months,
            "weight_kg": _f(e.weight_kg),
            "height_cm": _f(e.height_cm),
            "z_scores": {"waz": _f(e.waz), "haz": _f(e.haz), "whz": _f(e.whz), "bmiz": _f(e.bmiz)},
        }
        for e in exams
    ]
    if exams:
        out["next_child_exam_due"] = _d(next_child_exam(dob=exams[-1].dob, last_exam=exams[-1].event_date))
    return out


def _consents(personal_ids: Iterable[str]) -> tuple[set[str], set[str]]:
    """(open, withdrawn-and-not-given-again) among these persons."""
    rows = HandbookConsent.objects.filter(personal_id__in=list(personal_ids)).values_list(
        "personal_id", "withdrawn_at"
    )
    open_ = {pid for pid, withdrawn in rows if withdrawn is None}
    withdrawn = {pid for pid, w in rows if w is not None} - open_
    return open_, withdrawn


@transaction.atomic
def handbook_feed_page(*, principal: Any, since: int, limit: int) -> FeedPage:
    """One page of the feed after `since`; acknowledges entries up to `since` (the app stored them) and
    audits what was served (payload sha256, count)."""
    entries = list(
        visible_to(OutboxEntry.objects.filter(partner=NAME, id__gt=since), principal)
        .order_by("id")
        .values_list("id", "person_key", "topic")[:limit]
    )
    cursor = entries[-1][0] if entries else since
    pids = list(dict.fromkeys(key[4:] for _, key, _ in entries if key.startswith("pid:")))
    consent_changed = {key[4:] for _, key, topic in entries if topic == "handbook.consent"}
    open_, withdrawn = _consents(pids)
    persons = []
    for pid in pids:
        if pid in open_:
            persons.append(timeline(principal, pid))
        elif pid in withdrawn and pid in consent_changed:  # once, when the withdrawal is new
            persons.append({"person": {"personal_id": pid}, "withdrawn": True})
    page = {"since": since, "cursor": cursor, "has_more": len(entries) == limit, "persons": persons}
    body = json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()
    if since and is_machine_client(principal):  # only the app's own pull means "stored by the app"
        outbox_acknowledge(partner=NAME, up_to_id=since, principal=principal)
    log_event(
        actor=principal,
        action="exchange.feed_read",
        object_type="Partner",
        object_id=NAME,
        changes={
            "since": [None, since],
            "cursor": [None, cursor],
            "persons": [None, len(persons)],
            "payload_sha256": [None, digest],
        },
    )
    return FeedPage(body=body, etag=f'"{digest[:32]}"', cursor=cursor, count=len(persons))
