"""R-INT-03 (issue 17): an exchange failure that needs a person - a dead letter, or a partner failing again and
again - is told to the unit administrators above the units concerned and the system administrators, through
notifications.notify, once per partner, kind and day; the sync monitoring page lists the alerts sent."""

from __future__ import annotations

from django.test import Client

from mchis.integrations.exchange import engine
from mchis.integrations.exchange.alerts import FAILURES_BEFORE_ALERT
from mchis.notifications.models import Notification, NotificationKind
from mchis.outbox.models import OutboxEntry
from mchis.registers.tests.conftest import anc

from .test_exchanges_ehr import _write, clerk, jwks_file  # noqa: F401 - fixtures


def test_r_int_03_a_failing_partner_alerts_the_people_responsible_once(
    clerk,  # noqa: F811
    tree,
    make_user,
    jwks_file,  # noqa: F811
    settings,
):
    # given the administrators above commune A1, one of another province, and a collector
    province_admin = make_user("unit_admin", tree.doh_a)
    system_admin = make_user("system_admin", tree.ministry)
    other_admin = make_user("unit_admin", tree.doh_b)
    settings.EXCHANGE_PARTNERS = {"ehr": {"url": "http://127.0.0.1:9", "token": "t"}}  # nobody listens there
    _write(clerk, "anc", [anc(rid="A-1")])
    # when the warehouse cannot be reached, again and again
    for _ in range(FAILURES_BEFORE_ALERT - 1):
        OutboxEntry.objects.filter(partner="ehr").update(next_attempt_at=None)
        engine.deliver_partner("ehr")
    assert not Notification.objects.filter(kind=NotificationKind.EXCHANGE).exists()  # transient so far
    for _ in range(2):
        OutboxEntry.objects.filter(partner="ehr").update(next_attempt_at=None)
        engine.deliver_partner("ehr")
    # then the people responsible are told once, the others not
    alerted = Notification.objects.filter(kind=NotificationKind.EXCHANGE)
    assert set(alerted.values_list("recipient_id", flat=True)) == {province_admin.pk, system_admin.pk}
    assert all("lần gửi lỗi liên tiếp" in n.title for n in alerted)
    assert other_admin.pk not in set(alerted.values_list("recipient_id", flat=True))
    assert clerk.pk not in set(alerted.values_list("recipient_id", flat=True))

    # and a dead letter is its own alert, with the error, shown on the monitoring page
    OutboxEntry.objects.filter(partner="ehr").update(attempts=engine.MAX_ATTEMPTS, next_attempt_at=None)
    report = engine.deliver_partner("ehr")
    assert report.dead == 1
    dead = Notification.objects.get(
        kind=NotificationKind.EXCHANGE, recipient=province_admin, title__contains="thư chết"
    )
    assert dead.reason and dead.url == "/exchanges/"
    client = Client()
    client.force_login(province_admin)
    page = client.get("/exchanges/").content.decode()
    assert 'data-testid="exchange-alerts-sent"' in page and "thư chết" in page
