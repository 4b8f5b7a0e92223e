"""Step-up authentication (R-SEC-04): critical operations need a second-factor check in the last N minutes.

Services call `require_step_up()`; the session's last OTP verification time reaches them through the
request context (mchis.core.context), set by the accounts middleware.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from mchis.core.context import current_meta
from mchis.core.errors import StepUpRequired


def has_recent_step_up() -> bool:
    at = current_meta().step_up_at
    if at is None:
        return False
    return timezone.now() - at <= timedelta(seconds=settings.STEP_UP_WINDOW_SECONDS)


def require_step_up() -> None:
    if not has_recent_step_up():
        raise StepUpRequired(
            "Thao tác quan trọng: vui lòng xác thực lại bằng mã hai lớp (OTP) trước khi tiếp tục."
        )
