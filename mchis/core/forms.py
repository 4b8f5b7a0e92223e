from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from .selectors import AuditFilters
from .widgets import DateField


class AuditSearchForm(forms.Form):
    """Tìm kiếm nhật ký: theo người dùng, đối tượng, hành động, khoảng ngày."""

    user = forms.CharField(label=_("Tài khoản"), required=False, max_length=150)
    object_type = forms.CharField(label=_("Loại đối tượng"), required=False, max_length=64)
    object_id = forms.CharField(label=_("Mã đối tượng"), required=False, max_length=64)
    action = forms.CharField(label=_("Hành động"), required=False, max_length=64)
    date_from = DateField(label=_("Từ ngày"), required=False)
    date_to = DateField(label=_("Đến ngày"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("Đến ngày phải sau hoặc bằng Từ ngày."))
        return data

    def filters(self) -> AuditFilters:
        data = self.cleaned_data
        return AuditFilters(
            user=data.get("user") or "",
            object_type=data.get("object_type") or "",
            object_id=data.get("object_id") or "",
            action=data.get("action") or "",
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
