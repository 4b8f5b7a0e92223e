"""Audit log search and export for admins and auditors, bounded by their jurisdiction (R-SEC-05, R-SEC-06)."""

from __future__ import annotations

from datetime import timedelta
from io import BytesIO

import pytest
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook

from mchis.core.audit import log_event
from mchis.core.models import AuditEvent

URL = "/audit/"


def event(unit, action="child.approve", object_id=1, actor=None, object_type="child"):
    with transaction.atomic():
        return log_event(
            actor=actor,
            action=action,
            object_type=object_type,
            object_id=object_id,
            scope_path=unit.path,
            changes={"full_name": ["Nguyễn Văn A", "Nguyễn Văn Ánh"]},
            reason=f"lý do {unit.code}",
        )


@pytest.fixture
def logged(tree, make_user):
    a_leader = make_user("leader", tree.tyt_a1, username="lanhdao_a1")
    b_leader = make_user("leader", tree.tyt_b1, username="lanhdao_b1")
    event(tree.tyt_a1, actor=a_leader, object_id=101)
    event(tree.tyt_a2, action="register.write", object_type="register_row", object_id=202)
    event(tree.tyt_b1, actor=b_leader, object_id=909)
    return a_leader, b_leader


def login(client, user):
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_r_sec_05_unit_admin_sees_only_own_subtree(client, tree, make_user, logged):
    admin = make_user("unit_admin", tree.ttyt_a)
    response = login(client, admin).get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert "lý do TYT02269" in body and "lý do TYT02296" in body
    assert "lý do TYT01273" not in body and "lanhdao_b1" not in body


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"user": "lanhdao_a1"}, {"101"}),
        ({"object_type": "register_row"}, {"202"}),
        ({"object_id": "202"}, {"202"}),
        ({"action": "child"}, {"101", "909"}),
        ({"action": "register.write"}, {"202"}),
        ({"user": "lanhdao_b1"}, {"909"}),
    ],
)
def test_r_sec_05_search_by_user_object_action(client, tree, make_user, logged, query, expected):
    auditor = make_user("auditor", tree.ministry)
    found = {e.object_id for e in login(client, auditor).get(URL, query).context["page"]}
    assert found == expected  # the ministry auditor sees the whole country
    admin = make_user("unit_admin", tree.tyt_a1)
    mine = {e.object_id for e in login(client, admin).get(URL, query).context["page"]}
    assert mine == expected - {"202", "909"}  # a commune admin: only TYT A1


@pytest.mark.django_db
def test_r_sec_05_search_by_date_range(client, tree, make_user, logged):
    auditor = make_user("auditor", tree.ministry)
    login(client, auditor)
    today = timezone.localdate()
    assert len(client.get(URL, {"date_from": today, "date_to": today}).context["page"]) >= 3
    tomorrow = today + timedelta(days=1)
    assert len(client.get(URL, {"date_from": tomorrow}).context["page"]) == 0
    bad = client.get(URL, {"date_from": tomorrow, "date_to": today})
    assert bad.context["page"] is None
    assert "Đến ngày phải sau" in bad.content.decode()


@pytest.mark.django_db
def test_r_sec_05_roles_without_permission_are_refused(client, tree, make_user, logged):
    assert client.get(URL).status_code == 302  # anonymous → login
    for role in ("collector", "leader", "reporter", "viewer"):
        user = make_user(role, tree.tyt_a1)
        assert login(client, user).get(URL).status_code == 403
        assert client.get(URL + "export.xlsx").status_code == 403


@pytest.mark.django_db
def test_r_sec_05_htmx_filter_returns_only_the_results_fragment(client, tree, make_user, logged):
    admin = make_user("system_admin", tree.ministry)
    response = login(client, admin).get(URL, {"object_id": "909"}, HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert "<html" not in body and "<table" in body and "909" in body


@pytest.mark.django_db
def test_r_sec_05_log_is_paginated(client, tree, make_user):
    for i in range(60):
        event(tree.tyt_a1, object_id=1000 + i)
    admin = make_user("unit_admin", tree.tyt_a1)
    login(client, admin)
    first = client.get(URL).context["page"]
    second = client.get(URL, {"page": 2}).context["page"]
    assert len(first) == 50
    ids = {e.object_id for e in first} | {e.object_id for e in second}
    assert {str(1000 + i) for i in range(60)} <= ids


@pytest.mark.django_db
def test_r_sec_06_excel_export_is_scoped_and_itself_logged(client, tree, make_user, logged):
    from mchis.accounts.testing import step_up_session

    admin = make_user("unit_admin", tree.ttyt_a)
    login(client, admin)
    step_up_session(client)
    response = client.get(URL + "export.xlsx", {"object_type": "child"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    header, data = rows[0], rows[1:]
    assert "Hành động" in header
    object_ids = {row[header.index("Mã đối tượng")] for row in data}
    assert object_ids == {"101"}  # the child event of TYT A1; not B's 909, not A2's register row
    logged_export = AuditEvent.objects.filter(action="export", object_type="audit_log.xlsx").get()
    assert logged_export.actor_id == admin.pk
    assert logged_export.changes == {"filters": {"object_type": "child"}, "row_count": 1}


@pytest.mark.django_db
def test_audit_link_in_navigation_only_for_permitted_roles(client, tree, make_user):
    auditor = make_user("auditor", tree.cdc_a)
    assert 'href="/audit/"' in login(client, auditor).get("/").content.decode()
    collector = make_user("collector", tree.tyt_a1)
    assert 'href="/audit/"' not in login(client, collector).get("/").content.decode()


@pytest.mark.django_db
def test_r_sec_04_audit_log_export_needs_a_recent_second_factor(client, tree, make_user):
    from mchis.accounts.testing import step_up_session

    admin = make_user("unit_admin", tree.ttyt_a)
    login(client, admin)
    response = client.get(URL + "export.xlsx")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/step-up/?next=")
    assert not AuditEvent.objects.filter(action="export", object_type="audit_log.xlsx").exists()
    step_up_session(client, seconds_ago=600)  # too old: outside the 5-minute window
    assert client.get(URL + "export.xlsx").status_code == 302
    step_up_session(client)
    assert client.get(URL + "export.xlsx").status_code == 200


@pytest.mark.django_db
def test_changes_show_the_fields_label_not_its_stored_name(client, tree, make_user, logged):
    # given an entry whose changes carry `full_name` and a key that is no model field (`device`)
    admin = make_user("system_admin", tree.ministry)
    with transaction.atomic():
        log_event(
            actor=admin, action="auth.otp_login", object_type="account", object_id=77,
            scope_path=tree.tyt_a1.path, changes={"device": [None, "totp"], "unknown_key": [1, 2]},
        )  # fmt: skip
    login(client, admin)
    # when the admin reads the log in Vietnamese, then in English
    vi = client.get(URL, {"object_id": "101"}).content.decode()
    device_vi = client.get(URL, {"object_id": "77"}).content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": URL})
    en = client.get(URL, {"object_id": "101"}).content.decode()
    # then the field reads as its label in the UI language, never as the stored name
    assert "<strong>Họ và tên</strong>" in vi and "<strong>full_name</strong>" not in vi
    assert "<strong>Full name</strong>" in en
    assert "<strong>Thiết bị xác thực</strong>" in device_vi
    assert (
        "<strong>unknown_key</strong>" in device_vi
    )  # a key nobody named stays as stored rather than vanish
