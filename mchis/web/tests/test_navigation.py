"""Navigation per role (issue 13 item 1): each role's menu shows exactly what it may open, and refusals,
missing pages and errors are Vietnamese pages inside the layout with a way back."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import path

from mchis.accounts.roles import Role
from mchis.web.nav import MENU, menu_for

pytestmark = pytest.mark.django_db

# Where each role sits in the fixture tree (commune staff at a TYT, reporters at a TTYT, admins at the DOH).
SEATS = {
    Role.COLLECTOR: "tyt_b1",
    Role.LEADER: "tyt_b1",
    Role.VIEWER: "tyt_b1",
    Role.REPORTER: "ttyt_b",
    Role.UNIT_ADMIN: "doh_b",
    Role.AUDITOR: "doh_b",
    Role.SYSTEM_ADMIN: "ministry",
}
MENU_LINK = re.compile(r'<ul id="site-menu"[^>]*>(.*?)</ul>', re.S)
HREF = re.compile(r'href="([^"]+)"')


def _menu_links(html: str) -> list[str]:
    match = MENU_LINK.search(html)
    assert match, "the page has no main menu"
    return HREF.findall(match.group(1))


@pytest.mark.parametrize("role", list(SEATS))
def test_every_link_of_every_roles_menu_opens_with_200(role, tree, make_user):
    # given a person of this role, logged in
    client = Client()
    client.force_login(make_user(role, getattr(tree, SEATS[role])))
    # when they open the home page and follow every link of their menu
    home = client.get("/")
    assert home.status_code == 200
    links = _menu_links(home.content.decode())
    # then the menu has something to do, and every link opens (no link the role cannot use)
    assert links, f"{role}: empty menu"
    for url in links:
        response = client.get(url)
        assert response.status_code == 200, f"{role}: menu link {url} answered {response.status_code}"


@pytest.mark.parametrize("role", list(SEATS))
def test_a_menu_entry_is_hidden_exactly_when_the_role_lacks_its_permission(role, tree, make_user):
    from mchis.accounts.permissions import can

    user = make_user(role, getattr(tree, SEATS[role]))
    shown = {item["name"] for item in menu_for(user)}
    for item in MENU:
        assert (item.url_name in shown) == any(can(user, a) for a in item.actions), item.url_name


def test_the_collectors_first_menu_item_is_the_child_registry(tree, make_user):
    client = Client()
    client.force_login(make_user(Role.COLLECTOR, tree.tyt_b1))
    html = client.get("/").content.decode()
    first = re.search(r'<ul id="site-menu"[^>]*>\s*<li><a href="([^"]+)"[^>]*>([^<]+)</a>', html)
    assert first is not None
    assert first.group(1) == "/children/"
    assert first.group(2) == "Sổ theo dõi trẻ em"


def test_a_refused_page_is_vietnamese_inside_the_layout_with_a_way_back(tree, make_user):
    # given a collector who follows an old link to the account administration
    client = Client()
    client.force_login(make_user(Role.COLLECTOR, tree.tyt_b1))
    response = client.get("/accounts/users/", HTTP_REFERER="http://testserver/children/")
    # then: 403, in Vietnamese, inside the layout (the menu), with a link back to where they came from
    html = response.content.decode()
    assert response.status_code == 403
    assert "Bạn không có quyền mở trang này" in html
    assert 'id="site-menu"' in html
    assert 'href="http://testserver/children/"' in html
    assert "Forbidden" not in html


def test_a_missing_page_is_vietnamese_inside_the_layout(tree, make_user):
    client = Client()
    client.force_login(make_user(Role.LEADER, tree.tyt_b1))
    response = client.get("/children/00000000-0000-0000-0000-000000000000/")
    html = response.content.decode()
    assert response.status_code == 404
    assert "Không tìm thấy trang" in html
    assert 'id="site-menu"' in html
    assert "Not Found" not in html


def _boom(request):
    raise RuntimeError("boom")


urlpatterns = [path("boom/", _boom)]


@pytest.mark.urls("mchis.web.tests.test_navigation")
def test_a_server_error_is_a_vietnamese_page_with_a_way_home(client):
    client.raise_request_exception = False
    response = client.get("/boom/")
    html = response.content.decode()
    assert response.status_code == 500
    assert "Đã xảy ra lỗi hệ thống" in html
    assert 'href="/"' in html


def test_a_rejected_form_csrf_is_a_vietnamese_page_with_a_way_back(tree, make_user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(make_user(Role.COLLECTOR, tree.tyt_b1))
    response = client.post("/accounts/logout/", HTTP_REFERER="http://testserver/children/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "Yêu cầu bị từ chối" in html
    assert 'href="http://testserver/children/"' in html
    assert "mã bảo vệ biểu mẫu" in html  # said in words, not "CSRF"
