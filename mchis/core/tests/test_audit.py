"""The audit log is complete, append-only and tamper-evident (R-SEC-05), and records reads/exports (R-SEC-06)."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, connections, transaction
from django.db.utils import DatabaseError
from django.test import override_settings

from mchis.core.audit import GENESIS, log_event, log_export, log_read, record_anchor, verify_chain
from mchis.core.context import RequestMeta, reset_meta, set_meta
from mchis.core.models import AuditAnchor, AuditEvent

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL trigger")


def write(n: int, action: str = "thing.update") -> list[AuditEvent]:
    with transaction.atomic():
        return [
            log_event(actor=None, action=action, object_type="thing", object_id=i, scope_path="/1/2/")
            for i in range(n)
        ]


def raw(sql: str, params: list | None = None, table: str = "core_auditevent") -> None:
    """Tamper behind the application's back: raw SQL, and on PostgreSQL with the trigger switched off
    (what a DBA could do)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # flush deferred FK checks before ALTER
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(sql, params or [])
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")


def run_verify(*args: str) -> tuple[int, str, str]:
    out, err = StringIO(), StringIO()
    try:
        call_command("audit_verify", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


@pytest.mark.django_db
def test_r_sec_05_intact_chain_verifies_and_command_exits_zero():
    write(7)
    report = verify_chain()
    assert report.ok and report.checked == 7
    code, out, _ = run_verify()
    assert code == 0
    assert "7 bản ghi" in out


@pytest.mark.django_db(transaction=True)
def test_r_sec_05_log_event_refuses_to_run_outside_a_transaction():
    with pytest.raises(
        RuntimeError, match=r"log_event must be called inside the service's transaction\.atomic block"
    ):
        log_event(actor=None, action="thing.update")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("reason", "sửa lén"),
        ("actor_username", "ai_do"),
        ("object_id", "999"),
        ("action", "thing.delete"),
        ("changes", '{"x": [1, 2]}'),
        ("ip", "10.9.9.9"),
    ],
)
def test_r_sec_05_tampering_any_field_of_any_row_is_detected(column, value):
    events = write(6)
    victim = events[3]
    raw(f"UPDATE core_auditevent SET {column} = %s WHERE id = %s", [value, victim.id])
    report = verify_chain()
    assert report.broken_id == victim.id
    assert report.checked == 3
    code, _, err = run_verify()
    assert code == 1
    assert f"id={victim.id}" in err and report.broken_action in err


@pytest.mark.django_db
def test_r_sec_05_rehashing_a_tampered_row_breaks_the_next_link():
    events = write(5)
    victim = events[1]
    raw("UPDATE core_auditevent SET reason = 'x', entry_hash = %s WHERE id = %s", ["f" * 64, victim.id])
    report = verify_chain()
    assert report.broken_id == victim.id  # its own hash no longer matches its content


@pytest.mark.django_db
def test_r_sec_05_deleting_a_middle_or_first_entry_is_detected():
    events = write(5)
    raw("DELETE FROM core_auditevent WHERE id = %s", [events[2].id])
    assert verify_chain().broken_id == events[3].id
    raw("DELETE FROM core_auditevent WHERE id = %s", [events[0].id])
    assert verify_chain().broken_id == events[1].id


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EVERY=3)
def test_r_sec_05_truncating_the_newest_entries_past_an_anchor_is_detected():
    events = write(8)  # anchors at the 1st, 4th and 7th entries
    assert list(AuditAnchor.objects.values_list("event_id", flat=True)) == [
        events[0].id,
        events[3].id,
        events[6].id,
    ]
    assert verify_chain().ok
    raw("DELETE FROM core_auditevent WHERE id >= %s", [events[5].id])
    report = verify_chain()
    assert not report.ok
    assert report.broken_id == events[6].id
    assert "cắt bớt" in report.detail
    code, _, err = run_verify()
    assert code == 1 and str(events[6].id) in err


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EVERY=1000)
def test_r_sec_05_deleting_only_entries_after_the_last_anchor_is_not_detectable_without_external_anchor():
    """Documents the limit: the newest entries written after the last anchor can vanish unnoticed
    from inside the database; `audit_anchor` + an externally kept hash close the gap."""
    events = write(4)
    anchor = record_anchor()
    assert anchor is not None and anchor.event_id == events[-1].id
    later = write(2)
    raw("DELETE FROM core_auditevent WHERE id >= %s", [later[0].id])
    assert verify_chain().ok
    # an anchor kept outside the database still exposes deletion of anchors + entries
    raw("DELETE FROM core_auditanchor WHERE id = %s", [anchor.id], table="core_auditanchor")
    raw("DELETE FROM core_auditevent WHERE id >= %s", [events[2].id])
    assert not verify_chain(expect_anchor=anchor.anchor_hash).ok
    code, _, err = run_verify("--expect-anchor", anchor.anchor_hash)
    assert code == 1 and "mốc neo" in err


@pytest.mark.django_db
@override_settings(AUDIT_ANCHOR_EVERY=2)
def test_r_sec_05_tampering_with_an_anchor_is_detected():
    write(5)
    first = AuditAnchor.objects.order_by("id").first()
    assert first is not None
    raw(
        "UPDATE core_auditanchor SET event_count = 99 WHERE id = %s",
        [first.id],
        table="core_auditanchor",
    )
    report = verify_chain()
    assert not report.ok and "mốc neo" in report.detail


@pytest.mark.django_db
def test_r_sec_05_chain_cannot_fork():
    events = write(2)
    forged = AuditEvent(at=events[1].at, action="x", prev_hash=events[0].entry_hash, entry_hash="a" * 64)
    with (
        pytest.raises(
            IntegrityError, match=r"UNIQUE constraint failed|duplicate key value violates unique constraint"
        ),
        transaction.atomic(),
    ):
        forged.save(force_insert=True)


@pytest.mark.django_db
def test_r_sec_05_first_entry_links_to_genesis_and_is_anchored():
    (event,) = write(1)
    assert event.prev_hash == GENESIS
    assert AuditAnchor.objects.get().event_id == event.id


@pytest.mark.django_db
def test_r_sec_05_entry_records_who_what_when_where_why(tree, make_user):
    leader = make_user("leader", tree.tyt_a1)
    token = set_meta(RequestMeta(ip="10.1.2.3", user_agent="Firefox/1"))
    try:
        with transaction.atomic():
            event = log_event(
                actor=leader,
                action="child.approve",
                object_type="child",
                object_id=42,
                scope_path=tree.tyt_a1.path,
                changes={"full_name": ["A", "B"]},
                reason="Phiếu yêu cầu số 7",
                evidence_ref="sha256:abc",
            )
    finally:
        reset_meta(token)
    event.refresh_from_db()
    assert (event.actor_id, event.actor_username, event.actor_unit_code) == (
        leader.pk,
        leader.username,
        "TYT02269",
    )
    assert (event.ip, event.user_agent) == ("10.1.2.3", "Firefox/1")
    assert event.changes == {"full_name": ["A", "B"]}
    assert event.reason == "Phiếu yêu cầu số 7" and event.evidence_ref == "sha256:abc"
    assert verify_chain().ok


@pytest.mark.django_db
def test_r_sec_06_reads_and_exports_of_personal_data_are_logged(tree, make_user):
    collector = make_user("collector", tree.tyt_a1)
    read = log_read(
        actor=collector, object_type="child", object_id=5, scope_path=tree.tyt_a1.path, purpose="tiêm chủng"
    )
    export = log_export(
        actor=collector,
        what="children.xlsx",
        filters={"village": "Thôn 1"},
        row_count=12,
        scope_path=tree.tyt_a1.path,
    )
    assert (read.action, read.object_type, read.object_id, read.reason) == (
        "child.read",
        "child",
        "5",
        "tiêm chủng",
    )
    assert export.action == "export" and export.object_type == "children.xlsx"
    assert export.changes == {"filters": {"village": "Thôn 1"}, "row_count": 12}
    assert export.actor_username == collector.username
    visible = AuditEvent.objects.in_scope(tree.ttyt_a.path)
    assert {read.pk, export.pk} <= set(visible.values_list("pk", flat=True))
    assert not AuditEvent.objects.in_scope(tree.ttyt_b.path).filter(pk__in=[read.pk, export.pk]).exists()


@on_postgres
@pytest.mark.django_db
@pytest.mark.parametrize("table", ["core_auditevent", "core_auditanchor"])
def test_r_sec_05_postgres_trigger_refuses_update_and_delete(table):
    write(2)
    column = "event_id" if table == "core_auditanchor" else "object_id"
    for sql in (f"UPDATE {table} SET {column} = {column}", f"DELETE FROM {table}"):
        with (
            pytest.raises(DatabaseError, match="append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql)
    assert verify_chain().ok


@on_postgres
@pytest.mark.django_db(transaction=True)
def test_r_sec_05_chain_stays_valid_under_concurrent_writers():
    errors: list[BaseException] = []
    start = threading.Barrier(3)

    def writer(tag: str) -> None:
        try:
            start.wait()
            for i in range(25):
                with transaction.atomic():
                    log_event(actor=None, action=f"{tag}.write", object_id=i)
        except BaseException as exc:  # reported by the assertion below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(t,)) for t in ("a", "b", "c")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    report = verify_chain()
    assert report.ok and report.checked == 75


@pytest.mark.django_db
def test_r_sec_05_machine_client_calls_are_logged_with_the_clients_identity(tree):
    """A machine client (token) has no user row: the entry names the client and its unit instead."""

    class Client:
        pk = 7
        client_name = "HIS Minh Xuân"
        unit = tree.tyt_a1
        is_authenticated = True
        is_active = True
        is_superuser = False
        role = None
        ref = None
        scopes = frozenset({"child.view"})

    with transaction.atomic():
        event = log_event(actor=Client(), action="child.read", object_type="child", object_id=1)
    assert event.actor_id is None and event.actor_username == ""
    assert (event.client_name, event.actor_unit_code) == ("HIS Minh Xuân", "TYT02269")
    assert AuditEvent.objects.in_scope(tree.ttyt_a.path).filter(pk=event.pk).exists()
    assert not AuditEvent.objects.in_scope(tree.ttyt_b.path).filter(pk=event.pk).exists()
