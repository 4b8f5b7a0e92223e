"""Security headers, cookies and CSRF (R-SEC-07 and the Content-Security-Policy of the brief)."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db

PASSWORD = "Passw0rd!x"
PAGES_ANONYMOUS = ["/accounts/login/"]
PAGES_SIGNED_IN = ["/", "/audit/"]


def directives(policy: str) -> dict[str, list[str]]:
    out = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.fixture
def signed_in(tree, make_user, settings):
    settings.ROLES_REQUIRING_2FA = []
    client = Client()
    client.force_login(make_user("unit_admin", tree.ttyt_a))
    return client


def pages(client: Client, signed_in: Client) -> list[tuple[str, Any]]:
    return [(url, client.get(url)) for url in PAGES_ANONYMOUS] + [
        (url, signed_in.get(url)) for url in PAGES_SIGNED_IN
    ]


def test_csp_forbids_inline_scripts_on_normal_pages(client, signed_in):
    for url, response in pages(client, signed_in):
        assert response.status_code == 200, url
        policy = directives(response["Content-Security-Policy"])
        script_src = policy.get("script-src", policy.get("default-src"))
        assert script_src is not None, url
        assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src, url
        assert "'unsafe-inline'" not in policy.get("style-src", []), url
        assert policy.get("frame-ancestors") == ["'none'"], url
        assert policy.get("object-src") == ["'none'"], url


def test_pages_carry_no_inline_script_or_style(client, signed_in):
    """What the policy forbids must not be in our own pages either, or the browser would drop it."""
    for url, response in pages(client, signed_in):
        html = response.content.decode()
        inline_scripts = [tag for tag in re.findall(r"<script\b[^>]*>", html) if "src=" not in tag]
        assert not inline_scripts, f"{url}: inline <script> {inline_scripts}"
        assert not re.search(r"<style\b", html), f"{url}: inline <style>"
        assert not re.search(r"\sstyle=\"", html), f"{url}: style attribute"
        assert not re.search(r"\son(click|load|change|submit|input)=", html), f"{url}: inline event handler"


def test_frame_sniffing_and_referrer_headers(client, signed_in):
    for url, response in pages(client, signed_in):
        assert response["X-Frame-Options"] == "DENY", url
        assert response["X-Content-Type-Options"] == "nosniff", url
        assert response["Referrer-Policy"] == "same-origin", url
        assert response["Cross-Origin-Opener-Policy"] == "same-origin", url
    api = client.get("/api/v1/admin-units")
    assert api["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in api


def test_r_sec_07_session_cookie_is_httponly_and_samesite(tree, make_user, settings):
    settings.ROLES_REQUIRING_2FA = []
    user = make_user("collector", tree.tyt_a1)
    client = Client()
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, "login failed"
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    csrf = response.cookies.get(settings.CSRF_COOKIE_NAME) or client.cookies.get(settings.CSRF_COOKIE_NAME)
    if csrf is not None:  # the CSRF cookie, when set, is same-site too
        assert csrf["samesite"] == "Lax"


def test_r_sec_07_post_without_csrf_token_is_refused_for_session_users(tree, make_user, settings):
    settings.ROLES_REQUIRING_2FA = []
    user = make_user("collector", tree.tyt_a1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    # a page form
    assert client.post("/accounts/logout/").status_code == 403
    assert client.get("/").status_code == 200, "the forged POST must not have logged the user out"
    # the JSON API with the session cookie: every POST operation refuses a request without the token
    from config.api import api

    posts = [
        "/" + path.lstrip("/")
        for path, ops in api.get_openapi_schema()["paths"].items()
        if "post" in ops
        and "{" not in path
        # public and sessionless by design: anyone may check a signed document (issue 21)
        and not path.endswith("/documents/verify")
    ]
    assert posts, "no POST operation found in the API"
    for url in posts:
        response = client.post(url, data="{}", content_type="application/json")
        assert response.status_code == 403, f"{url}: {response.status_code}"


def test_r_sec_07_post_with_csrf_token_is_accepted(tree, make_user, settings):
    """Control for the test above: the same POST with the token gets through."""
    settings.ROLES_REQUIRING_2FA = []
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user("collector", tree.tyt_a1))
    client.get("/")  # sets the CSRF cookie
    token = client.cookies[settings.CSRF_COOKIE_NAME].value
    response = client.post("/accounts/logout/", HTTP_X_CSRFTOKEN=token)
    assert response.status_code in (200, 302)
    assert client.get("/").status_code == 302  # logged out: the session ended (R-SEC-07)


@pytest.mark.slow
def test_r_sec_07_production_settings_pass_check_deploy(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64)[:60],
        "ALLOWED_HOSTS": "mchis.example.gov.vn",
        "CSRF_TRUSTED_ORIGINS": "https://mchis.example.gov.vn",
        "MCHIS_VAR_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    env.pop(
        "DJANGO_ALLOW_ASYNC_UNSAFE", None
    )  # set by the browser tests in this process; never in production
    result = subprocess.run(  # our own manage.py
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=Path(settings.BASE_DIR),
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
