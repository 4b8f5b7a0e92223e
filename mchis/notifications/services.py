"""Every write of notifications. Domain services call `notify` inside their own transaction (keep the call one
line); e-mail to those who asked for it goes out after commit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from mchis.accounts.principals import as_person
from mchis.core.audit import log_event
from mchis.core.principal import Principal

from .models import Notification, NotificationPreference


@transaction.atomic
def notify(
    *,
    recipients: Iterable[Any],
    kind: str,
    title: str,
    url: str = "",
    reason: str = "",
    object_type: str = "",
    object_id: Any = "",
    key: str = "",
    mail: bool = True,
) -> list[Notification]:
    """Create one notification per distinct active recipient (None and duplicates skipped). With `key`, a
    recipient already notified under that key is not notified again. `mail=False` when the caller sends its
    own e-mail (deadline reminders)."""
    people: dict[int, Any] = {
        r.pk: r for r in recipients if r is not None and r.pk is not None and getattr(r, "is_active", True)
    }
    if not people:
        return []
    if key:
        done = set(
            Notification.objects.filter(key=key, recipient_id__in=people).values_list(
                "recipient_id", flat=True
            )
        )
        people = {pk: u for pk, u in people.items() if pk not in done}
    rows = [
        Notification(recipient_id=pk, kind=kind, title=title[:300], reason=reason, url=url[:300],
                     object_type=object_type, object_id=str(object_id)[:64], key=key[:120])
        for pk in people
    ]  # fmt: skip
    Notification.objects.bulk_create(rows)
    log_event(
        actor=None, action="notification.create", object_type="notification", object_id="",
        changes={"kind": [None, kind], "about": [None, f"{object_type}:{object_id}" if object_type else None],
                 "recipients": [None, sorted(people)]},
    )  # fmt: skip
    mail_to = [
        u.email for pk, u in people.items()
        if mail and u.email and NotificationPreference.objects.filter(user_id=pk, email=True).exists()
    ]  # fmt: skip
    if mail_to:
        transaction.on_commit(lambda: _send_mail(title, reason, url, mail_to))
    return rows


def _send_mail(title: str, reason: str, url: str, to: list[str]) -> None:

    base = getattr(settings, "SITE_URL", "").rstrip("/")
    body = "\n\n".join(x for x in (title, reason, f"{base}{url}" if url else "") if x)
    for address in to:  # one message each: recipients never see each other
        send_mail(f"[mchis] {title}"[:200], body, None, [address], fail_silently=True)


@transaction.atomic
def notification_mark_read(*, actor: Principal, ids: Iterable[int] | None = None) -> int:
    """Mark the actor's own notifications read (all unread when `ids` is None). Returns how many."""
    qs = Notification.objects.filter(recipient=as_person(actor), read_at__isnull=True)
    if ids is not None:
        qs = qs.filter(pk__in=list(ids))
    marked = list(qs.values_list("pk", flat=True))
    if marked:
        Notification.objects.filter(pk__in=marked).update(read_at=timezone.now())
        log_event(
            actor=actor, action="notification.read", object_type="notification", object_id="",
            changes={"ids": [None, marked]},
        )  # fmt: skip
    return len(marked)


@transaction.atomic
def notification_preference_set(*, actor: Principal, email: bool) -> NotificationPreference:
    person = as_person(actor)
    pref, _ = NotificationPreference.objects.select_for_update().get_or_create(user=person)
    before = pref.email
    pref.email = bool(email)
    pref.save(update_fields=["email"])
    log_event(
        actor=actor, action="notification.preference", object_type="user", object_id=person.pk,
        changes={"email": [before, pref.email]},
    )  # fmt: skip
    return pref
