"""Browser walk (Playwright + Chromium's virtual authenticator over CDP, issue 21): a leader whose role must use
a security key enrols one, approves a report under a step-up made with the key (the kept form is re-sent and the
approval signs the PDF), checks the PDF on the public verification page, logs in with the key, then revokes it.
Screenshots go to test-results/security-key/ (gitignored)
for a person to look at (desktop and a 360 px phone)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]  # fmt: skip
SHOTS = Path(__file__).resolve().parents[3] / "test-results" / "security-key"
P = "2026-01"

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason="Chromium not installed (apt-get install chromium)"
    ),
]


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_security_key_enrol_login_step_up_approval_and_revoke(
    transactional_db, live_server, tree, forms, people, settings, signing_on
):
    from django_otp_webauthn.models import WebAuthnCredential
    from playwright.sync_api import sync_playwright

    from mchis.accounts.testing import enrol_totp, fresh_totp_code
    from mchis.core.models import AuditEvent
    from mchis.documents.models import SignedDocument
    from mchis.documents.services import document_verify
    from mchis.reports.tests.registerdata import submit

    settings.ROLES_REQUIRING_2FA = ["leader"]
    settings.SECURITY_KEY_ROLES = ["leader"]
    leader = people.ttyt_leader
    device, _ = enrol_totp(leader)
    submit(actor=people.tyt_reporter, form_code="BCX3", unit_code=tree.tyt_a1.code, period=P)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        page = browser.new_page()
        page.set_default_timeout(60000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        cdp = page.context.new_cdp_session(page)
        cdp.send("WebAuthn.enable")
        authenticator = cdp.send(
            "WebAuthn.addVirtualAuthenticator",
            {"options": {"protocol": "ctap2", "transport": "usb", "hasResidentKey": True,
                         "hasUserVerification": True, "isUserVerified": True,
                         "automaticPresenceSimulation": True}},
        )["authenticatorId"]  # fmt: skip

        # 1. password + TOTP (no key yet)
        page.goto(f"{live_server.url}/accounts/login/")
        page.fill("input[name=username]", leader.username)
        page.fill("input[name=password]", "Passw0rd!x")
        page.click("main button[type=submit]")
        page.wait_for_url("**/accounts/otp/verify/**")
        page.fill("input[name=code]", fresh_totp_code(device))
        page.click("main form button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")

        # 2. enrol a key: a fresh check first (an OTP code may be used for the first key), then the key
        page.goto(f"{live_server.url}/accounts/security/")
        page.click('[data-testid="step-up-to-add-key"]')
        page.wait_for_url("**/accounts/step-up/**")
        page.fill("input[name=code]", fresh_totp_code(device))
        page.click("main form button[type=submit]")
        page.wait_for_url("**/accounts/security/**")
        page.click("#passkey-register-button")
        page.wait_for_selector("#passkey-register-status-message[data-status-enum='success']")
        page.reload()
        assert page.locator('[data-testid="security-keys"] tbody tr').count() == 1
        assert "Đang dùng" in page.locator('[data-testid="security-keys"]').inner_text()
        shot(page, "01-enrolled")
        assert WebAuthnCredential.objects.filter(user=leader, confirmed=True).count() == 1
        credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
        assert len(credentials) == 1

        # 3. approve the report: the OTP step-up made to enrol does not count for this role, the key is asked,
        #    and the kept form is sent again after it (the approval signs the report)
        page.goto(f"{live_server.url}/reports/BCX3/{tree.tyt_a1.code}/{P}")
        page.click('[data-testid="act-approve"]')
        page.wait_for_url("**/accounts/step-up/**")
        assert "phải xác thực lại bằng khóa bảo mật" in page.locator("main").inner_text()
        assert page.locator("input[name=code]").count() == 0  # no TOTP fallback for this role
        shot(page, "02-step-up-key-only")
        with page.expect_response("**/webauthn/authentication/complete/**") as completed:
            page.click("#passkey-verification-button")
        assert completed.value.status == 200, completed.value.text()
        page.wait_for_url(f"**/reports/BCX3/{tree.tyt_a1.code}/{P}/")
        assert "Đã duyệt" in page.locator("main").inner_text()
        shot(page, "03-approved-and-signed")
        doc = SignedDocument.objects.get(object_type="report")
        assert doc.signed_by == leader
        assert AuditEvent.objects.filter(action="auth.security_key_step_up", actor=leader).exists()
        signed_pdf = bytes(doc.pdf)  # verified below, outside Playwright's event loop (pyHanko runs its own)

        # 4. log out, log in with the password and the key
        page.click("header form[action$='/accounts/logout/'] button")
        page.wait_for_url("**/accounts/login/**")
        page.fill("input[name=username]", leader.username)
        page.fill("input[name=password]", "Passw0rd!x")
        page.click("main button[type=submit]")
        page.wait_for_url("**/accounts/otp/verify/**")
        shot(page, "04-login-second-factor")
        with page.expect_response("**/webauthn/authentication/complete/**") as completed:
            page.click("#passkey-verification-button")
        assert completed.value.status == 200, completed.value.text()
        # the page's script navigates away after the key answers: wait for that navigation to finish, or the
        # next goto races it (net::ERR_ABORTED)
        page.wait_for_url(lambda url: "/accounts/otp/verify" not in url)
        page.wait_for_load_state()
        assert AuditEvent.objects.filter(action="auth.security_key_login", actor=leader).exists()
        page.goto(f"{live_server.url}/")
        assert page.url == f"{live_server.url}/"

        # 5. the public verification page, desktop and phone, with the signed PDF
        pdf_path = SHOTS / "signed-report.pdf"
        SHOTS.mkdir(parents=True, exist_ok=True)
        pdf_path.write_bytes(signed_pdf)
        for width, name in ((1280, "05-verify-desktop"), (360, "06-verify-phone")):
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(f"{live_server.url}/documents/verify/")
            page.set_input_files("input[name=file]", str(pdf_path))
            page.click("main form button[type=submit]")
            page.wait_for_selector('[data-testid="verify-result"]')
            result = page.locator("main").inner_text()
            assert "Chữ ký hợp lệ; văn bản khớp bản lưu tại hệ thống." in result
            assert f"BCX3 — {tree.tyt_a1.name} — Tháng 01/2026" in result, result
            shot(page, name)
        page.set_viewport_size({"width": 1280, "height": 900})

        # 6. revoke the key
        page.goto(f"{live_server.url}/accounts/security/")
        page.click('[data-testid="revoke-key"]')
        # this session's second factor was that key: revoked, it no longer vouches for the session (django-otp
        # checks the session's device on every request), so the person verifies again with what is left
        page.wait_for_url("**/accounts/otp/verify/**")
        assert "Đã thu hồi khóa bảo mật." in page.locator("main").inner_text()
        assert page.locator("#passkey-verification-button").count() == 0
        page.fill("input[name=code]", fresh_totp_code(device))
        page.click("main form button[type=submit]")
        page.wait_for_url("**/accounts/security/**")
        assert "Đã thu hồi" in page.locator('[data-testid="security-keys"]').inner_text()
        shot(page, "07-revoked")
        page.set_viewport_size({"width": 360, "height": 800})
        shot(page, "08-security-phone")
        browser.close()
    assert not WebAuthnCredential.objects.filter(user=leader, confirmed=True).exists()
    assert document_verify(actor=None, data=signed_pdf).valid
    assert not [e for e in errors if "Content Security Policy" in e], errors
