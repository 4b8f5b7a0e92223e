"""Issue 21: approving a report when signing is on needs a step-up; for a role that must use a security key, the
step-up made with the key lets the interrupted approval complete (the report is signed), a TOTP one does not."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from mchis.accounts.testing import enrol_totp, step_up_session
from mchis.accounts.tests.softkey import SoftKey
from mchis.accounts.tests.test_security_keys import enrol_key, use_key
from mchis.documents.models import SignedDocument
from mchis.reports.tests.registerdata import submit

P = "2026-01"


@pytest.mark.django_db
def test_approval_under_step_up_with_a_security_key_signs_the_report(
    settings, signing_on, forms, people, tree
):
    settings.SECURITY_KEY_ROLES = ["leader"]
    leader = people.ttyt_leader
    enrol_totp(leader)
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)
    client = Client()
    client.force_login(leader)
    step_up_session(client)  # a TOTP step-up: enough to enrol the first key, not to approve
    key = SoftKey(attestation="maker")
    assert enrol_key(client, key).status_code == 200
    action = f"/reports/BCX3/{tree.tyt_a1.code}/{P}/act/approve/"
    refused = client.post(action)
    assert refused.status_code == 302 and "/accounts/step-up/" in refused["Location"]
    assert not SignedDocument.objects.exists()
    # the key on the step-up page, then the kept form is sent again
    assert use_key(client, key).status_code == 200
    back = client.get(reverse("accounts:step_up"), {"next": action, "key": "1"})
    assert back.status_code == 200 and 'data-testid="step-up-continue"' in back.content.decode()
    done = client.post(action)
    detail = f"/reports/BCX3/{tree.tyt_a1.code}/{P}/"
    assert done.status_code == 302 and done["Location"].endswith(detail), done
    assert SignedDocument.objects.get(object_type="report").signed_by == leader
