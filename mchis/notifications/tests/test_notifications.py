"""The notification model, its services and pages: one's own only, mark read, optional e-mail after commit."""

from __future__ import annotations

import pytest
from django.core import mail
from django.test import Client

from mchis.notifications.models import Notification, NotificationKind
from mchis.notifications.selectors import unread_count
from mchis.notifications.services import notification_mark_read, notification_preference_set, notify


@pytest.fixture(autouse=True)
def _no_login_2fa(settings):
    settings.ROLES_REQUIRING_2FA = []


@pytest.fixture
def two(tree, make_user):
    a = make_user("collector", tree.tyt_a1)
    b = make_user("collector", tree.tyt_a1)
    a.email, b.email = "a@example.org", "b@example.org"
    a.save(update_fields=["email"])
    b.save(update_fields=["email"])
    return a, b


def test_notify_once_per_key_and_only_active_people(two):
    a, b = two
    notify(recipients=[a, b, a, None], kind=NotificationKind.DEADLINE, title="Sắp đến hạn", key="k1")
    notify(recipients=[a, b], kind=NotificationKind.DEADLINE, title="Sắp đến hạn", key="k1")
    assert Notification.objects.count() == 2


def test_mark_read_touches_only_ones_own(two):
    a, b = two
    notify(recipients=[a, b], kind=NotificationKind.APPROVED, title="Đã duyệt")
    theirs = Notification.objects.get(recipient=b)
    assert notification_mark_read(actor=a, ids=[theirs.pk]) == 0
    assert unread_count(b) == 1
    assert notification_mark_read(actor=a) == 1 and unread_count(a) == 0


def test_email_only_to_who_asked_and_only_after_commit(two, django_capture_on_commit_callbacks):
    a, b = two
    notification_preference_set(actor=a, email=True)
    with django_capture_on_commit_callbacks(execute=True):
        notify(
            recipients=[a, b],
            kind=NotificationKind.RETURNED,
            title="Báo cáo bị trả lại",
            reason="Thiếu số liệu",
        )
        assert mail.outbox == [], "nothing is sent before the transaction commits"
    assert [m.to for m in mail.outbox] == [["a@example.org"]]
    assert "Thiếu số liệu" in mail.outbox[0].body


def test_list_page_shows_reason_and_preference_form(two):
    a, b = two
    notify(recipients=[a], kind=NotificationKind.RETURNED, title="Đề xuất bị trả lại", reason="Sai tên mẹ")
    notify(recipients=[b], kind=NotificationKind.RETURNED, title="Của người khác", reason="x")
    client = Client()
    client.force_login(a)
    html = client.get("/notifications/").content.decode()
    assert "Sai tên mẹ" in html and "Của người khác" not in html
    client.post("/notifications/preference/", {"email": "on"})
    assert 'name="email" role="switch" checked' in client.get("/notifications/").content.decode()
    client.post("/notifications/read/")
    assert "Không có thông báo mới." in client.get("/notifications/").content.decode()
