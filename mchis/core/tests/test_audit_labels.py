"""Audit actions read as words and are found by words (issue 13 item 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from mchis.core.audit import log_event
from mchis.core.audit_labels import ACTION_LABELS, action_label, actions_matching
from mchis.core.selectors import AuditFilters, audit_event_search

LITERAL = re.compile(r'action="([a-z_]+(?:\.[a-z_]+)+)"')
SOURCE = Path(settings.BASE_DIR) / "mchis"


def _written_action_codes() -> set[str]:
    """Every literal action code passed to log_event in the source (tests excluded)."""
    codes: set[str] = set()
    for path in SOURCE.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        text = path.read_text(encoding="utf-8")
        if "log_event" in text or "_decide_negative" in text:
            codes |= set(LITERAL.findall(text))
    return codes


def _generated_action_codes() -> set[str]:
    """Codes built with f-strings: each family expanded from the values it is built from."""
    from mchis.registers.models import BatchChannel
    from mchis.registry.models import RequestKind
    from mchis.reports.workflow import TRANSITIONS

    codes = {f"report.{verb}" for verb in TRANSITIONS}
    codes |= {f"register.{channel}_batch" for channel in BatchChannel.values}
    codes |= {f"child.propose_{kind}" for kind in RequestKind.values}
    codes |= {f"child.{kind}" for kind in RequestKind.values}
    codes |= {f"auth.otp_{p}" for p in ("login", "step_up")} | {
        f"auth.otp_failed.{p}" for p in ("login", "step_up")
    }
    codes |= {"child.read", "evidence.read", "export"}
    return codes


def test_every_audit_action_written_by_the_code_has_a_label():
    written = _written_action_codes() | _generated_action_codes()
    missing = sorted(code for code in written if code not in ACTION_LABELS and not code.startswith("thing."))
    assert not missing, f"add a label in mchis/core/audit_labels.py for: {missing}"


def test_labels_follow_the_ui_language():
    with translation.override("vi"):
        assert action_label("report.approve") == "Duyệt báo cáo"
    with translation.override("en"):
        assert action_label("report.approve") == "Report approved"
    assert action_label("unknown.code") == "unknown.code"


def test_vietnamese_words_with_or_without_accents_find_the_actions():
    assert "report.approve" in actions_matching("duyệt báo cáo")
    assert "report.approve" in actions_matching("duyet bao cao")
    assert "child.request_approve" in actions_matching("Duyệt đề xuất")
    assert actions_matching("   ") == set()


@pytest.mark.django_db
def test_the_audit_log_search_finds_entries_by_their_vietnamese_label(tree, make_user):
    # given an approved report and an unrelated login in the log
    admin = make_user("system_admin", tree.ministry)
    log_event(
        actor=admin, action="report.approve", object_type="report", object_id="1", scope_path=tree.tyt_a1.path
    )
    log_event(
        actor=admin, action="auth.login", object_type="account", object_id="2", scope_path=tree.tyt_a1.path
    )
    # when an admin searches the action "duyệt báo cáo"
    found = audit_event_search(principal=admin, filters=AuditFilters(action="duyệt báo cáo"))
    # then only the approval is found
    assert {e.action for e in found} == {"report.approve"}


def test_every_audit_label_reads_in_english_in_the_english_ui():
    """Actions (ops, exchanges, signatures included), object kinds and field names: none left in Vietnamese."""
    from mchis.core.audit_labels import FIELD_LABELS, OBJECT_LABELS

    with translation.override("en"):
        untranslated = [
            f"{code}: {label}"
            for table in (ACTION_LABELS, OBJECT_LABELS, FIELD_LABELS)
            for code, label in table.items()
            if translation.gettext(label) == label and not label.isascii()
        ]
    assert not untranslated, "add an English msgstr in locale/en/LC_MESSAGES/django.po for: " + "; ".join(
        untranslated
    )
