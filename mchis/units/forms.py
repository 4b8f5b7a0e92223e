"""Forms of the unit admin pages. Validation of rules stays in the services; forms only parse input."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mchis.core.widgets import DateField
from mchis.places.models import AdminUnit, CodeVersion

from .choices import grouped_unit_choices
from .models import ReportingUnit, UnitKind


class AdminUnitCodeField(forms.CharField):
    """A 2025 province (2 digits) or commune (5 digits) code → AdminUnit."""

    def clean(self, value: Any) -> AdminUnit | None:
        code = super().clean(value)
        if not code:
            return None
        unit = AdminUnit.objects.filter(version=CodeVersion.V2025, code=code.strip()).first()
        if unit is None:
            raise forms.ValidationError(_("Không có tỉnh/xã mã %(code)s (mã 2025)."), params={"code": code})
        return unit


class UnitForm(forms.Form):
    code = forms.CharField(label=_("Mã đơn vị"), max_length=32)
    name = forms.CharField(label=_("Tên đơn vị"), max_length=200)
    kind = forms.ChoiceField(label=_("Loại đơn vị"), choices=UnitKind.choices)
    admin_unit = AdminUnitCodeField(
        label=_("Địa bàn (mã tỉnh hoặc mã xã 2025)"),
        max_length=5,
        help_text=_("Ví dụ: 01 (Hà Nội), 00004 (Phường Ba Đình)"),
    )
    parent = forms.ChoiceField(label=_("Đơn vị cấp trên"), required=False)

    def __init__(self, *args: Any, parents: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["parent"].choices = [("", _("(đơn vị gốc)")), *grouped_unit_choices(parents)]  # type: ignore[attr-defined]
        self.fields["parent"].widget.attrs["data-search"] = ""
        if editing:
            del self.fields["code"]
            del self.fields["parent"]


class MoveForm(forms.Form):
    new_parent = forms.ChoiceField(label=_("Chuyển về đơn vị cấp trên"))
    on = DateField(label=_("Từ ngày"))
    reason = forms.CharField(label=_("Lý do (văn bản, quyết định)"), widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, parents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_parent"].choices = grouped_unit_choices(parents)  # type: ignore[attr-defined]
        self.fields["new_parent"].widget.attrs["data-search"] = ""
        self.fields["on"].initial = timezone.localdate()


class DeactivateForm(forms.Form):
    reason = forms.CharField(label=_("Lý do ngừng hoạt động"), widget=forms.Textarea(attrs={"rows": 2}))


def parent_by_code(code: str, units: Any) -> ReportingUnit | None:
    return next((u for u in units if u.code == code), None) if code else None
