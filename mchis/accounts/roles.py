"""Roles (R-SEC-02). The role × action matrix lives in permissions.py."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COLLECTOR = "collector", _("Cán bộ thu thập")
    LEADER = "leader", _("Lãnh đạo")
    UNIT_ADMIN = "unit_admin", _("Quản trị đơn vị")
    SYSTEM_ADMIN = "system_admin", _("Quản trị hệ thống")
    AUDITOR = "auditor", _("Phúc tra")
    REPORTER = "reporter", _("Tổng hợp báo cáo")
    VIEWER = "viewer", _("Xem")


# Roles that administer accounts: their passwords expire (R-SEC-03) and they hold no business-data write.
ADMIN_ROLES = frozenset({Role.UNIT_ADMIN, Role.SYSTEM_ADMIN})
