"""Password rules (R-SEC-03): upper, lower, digit and special character; no reuse of recent passwords."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError


class ComplexityValidator:
    def validate(self, password: str, user: Any = None) -> None:
        missing = []
        if not re.search(r"[A-ZÀ-Ỹ]", password):
            missing.append("chữ hoa")
        if not re.search(r"[a-zà-ỹ]", password):
            missing.append("chữ thường")
        if not re.search(r"\d", password):
            missing.append("chữ số")
        if not re.search(r"[^\w\s]|_", password):
            missing.append("ký tự đặc biệt")
        if missing:
            raise ValidationError(
                "Mật khẩu phải có đủ: " + ", ".join(missing) + ".", code="password_complexity"
            )

    def get_help_text(self) -> str:
        return "Mật khẩu phải có chữ hoa, chữ thường, chữ số và ký tự đặc biệt."


class NoReuseValidator:
    """Refuses any of the user's last `history` passwords (kept hashed in PasswordHistory)."""

    def __init__(self, history: int = 5) -> None:
        self.history = history

    def validate(self, password: str, user: Any = None) -> None:
        if user is None or not getattr(user, "pk", None):
            return

        from .models import PasswordHistory

        recent = PasswordHistory.objects.filter(user=user).order_by("-created_at")[: self.history]
        if any(check_password(password, entry.password) for entry in recent) or (
            user.password and check_password(password, user.password)
        ):
            raise ValidationError(
                f"Không được dùng lại {self.history} mật khẩu gần nhất.", code="password_reused"
            )

    def get_help_text(self) -> str:
        return f"Không được dùng lại {self.history} mật khẩu gần nhất."
