"""The main menu, per role: one list, each entry shown only to those whose role may open it (R-SEC-02).

An entry's `action` is the permission the page itself requires (the view's `require(...)`); the menu walk test
(mchis/web/tests/test_navigation.py) opens every entry as every role and expects 200, so a link a role cannot use
is never shown. The collector's first item is the child registry ("Sổ theo dõi trẻ em").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from mchis.accounts.permissions import can


@dataclass(frozen=True)
class NavItem:
    label: str | Promise
    url_name: str
    actions: tuple[str, ...]  # shown when the person holds any of these
    leader_label: str | Promise | None = None  # the same page, worded for approvers

    @property
    def url(self) -> str:
        return reverse(self.url_name)


MENU: tuple[NavItem, ...] = (
    NavItem(_("Sổ theo dõi trẻ em"), "registry:child_list", ("child.view",)),
    NavItem(
        _("Đề xuất của tôi"),
        "registry:request_list",
        ("child.propose", "child.approve"),
        leader_label=_("Đề xuất chờ duyệt"),
    ),
    NavItem(_("Xung đột dữ liệu"), "offline:conflicts", ("child.approve", "register.write")),
    NavItem(_("Sổ SKBMTE"), "registers:index", ("register.view",)),
    NavItem(_("Báo cáo"), "reports:list", ("report.view",)),
    NavItem(_("Phân tích"), "analytics:dashboard", ("analytics.view",)),
    NavItem(_("Phúc tra"), "quality:campaigns", ("audit_campaign.manage",)),
    NavItem(_("Chất lượng dữ liệu"), "quality:dashboard", ("quality.view",)),
    NavItem(_("Tài khoản"), "accounts:user_list", ("account.manage",)),
    NavItem(_("Đơn vị"), "units:tree", ("unit.manage",)),
    NavItem(_("Thôn, tổ dân phố"), "places:communes", ("village.manage",)),
    NavItem(_("Danh mục"), "catalogs:index", ("catalog.manage",)),
    NavItem(_("Đồng bộ dữ liệu"), "registers:sync", ("sync.view",)),
    NavItem(_("Liên thông"), "integrations:monitor", ("sync.view",)),
    NavItem(_("Công bố số liệu"), "portal:index", ("portal.view",)),
    NavItem(_("Nhật ký"), "core:audit_log", ("audit_log.view",)),
)


def menu_for(user: Any) -> list[dict[str, Any]]:
    """The entries this person may open, in menu order, with the label worded for their role."""
    if user is None or not getattr(user, "is_authenticated", False):
        return []
    items = []
    for item in MENU:
        if not any(can(user, action) for action in item.actions):
            continue
        label = item.leader_label if item.leader_label and can(user, "child.approve") else item.label
        items.append({"label": label, "url": item.url, "name": item.url_name})
    return items
