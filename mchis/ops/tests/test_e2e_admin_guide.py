"""Browser walk of an **administrator** (unit admin of a Sở Y tế), by clicking only, for the admin user guide
(docs/user-guide/quan-tri.md): the home page, the accounts of the province, one account, the new-account form,
the audit log. With MCHIS_GUIDE_SHOTS=1 (CI) the desktop run writes the guide's pictures, like the other roles'
walks in mchis/web/tests/test_e2e_roles.py."""

from __future__ import annotations

import shutil

import pytest

from mchis.web.tests.test_e2e_roles import ARGS, CHROMIUM, Walk

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        shutil.which(CHROMIUM) is None, reason="Chromium not installed (apt-get install chromium)"
    ),
]


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.mark.parametrize("viewport", ["desktop", "phone"])
def test_admin_walks_accounts_and_audit_log_by_clicking(
    transactional_db, live_server, tree, make_user, browser, viewport, settings
):
    import mchis

    settings.ROLES_REQUIRING_2FA = []
    admin = make_user("unit_admin", tree.doh_a, username="quan_tri_tinh")
    collector = make_user("collector", tree.tyt_a1, username="thu_thap_xa")
    walk = Walk(browser, live_server, admin, viewport, "admin")
    footer = walk.page.locator("footer [data-version]").inner_text()
    assert mchis.__version__ in footer  # the release is on every page (R-OPS-03)
    walk.shot("home", "admin-home")
    walk.nav("/accounts/users/")
    assert collector.username in walk.page.locator("main").inner_text()
    walk.shot("accounts", "admin-accounts")
    walk.click(f"a[href='/accounts/users/{collector.pk}/']")
    assert collector.username in walk.page.locator("main").inner_text()
    walk.shot("account", "admin-account")
    walk.nav("/accounts/users/")
    walk.click("a[href='/accounts/users/new/']")
    walk.shot("new-account", "admin-new-account")
    walk.nav("/audit/")
    walk.shot("audit-log", "admin-audit")
    assert not [e for e in walk.errors if "Content Security Policy" in e], walk.errors
    walk.context.close()
