"""Roles (R-SEC-02). The role × action matrix lives in permissions.py."""

from django.db import models


class Role(models.TextChoices):
    COLLECTOR = "collector", "Cán bộ thu thập"
    LEADER = "leader", "Lãnh đạo"
    UNIT_ADMIN = "unit_admin", "Quản trị đơn vị"
    SYSTEM_ADMIN = "system_admin", "Quản trị hệ thống"
    AUDITOR = "auditor", "Phúc tra"
    REPORTER = "reporter", "Tổng hợp báo cáo"
    VIEWER = "viewer", "Xem"


# Roles that administer accounts: their passwords expire (R-SEC-03) and they hold no business-data write.
ADMIN_ROLES = frozenset({Role.UNIT_ADMIN, Role.SYSTEM_ADMIN})
