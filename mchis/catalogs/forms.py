"""Forms of the catalog admin pages (parsing only; rules live in services)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from mchis.core.widgets import DateField


class ItemForm(forms.Form):
    code = forms.CharField(label=_("Mã"), max_length=32)
    name_vi = forms.CharField(label=_("Tên tiếng Việt"), max_length=300)
    name_en = forms.CharField(label=_("Tên tiếng Anh"), max_length=300, required=False)
    parent_code = forms.CharField(label=_("Mã mục cha"), max_length=32, required=False)
    valid_from = DateField(label=_("Hiệu lực từ ngày"), required=False, help_text=_("Để trống: từ hôm nay."))


class ItemEditForm(ItemForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Lý do thay đổi"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        del self.fields["code"]


class RetireForm(forms.Form):
    reason = forms.CharField(label=_("Lý do ngừng sử dụng"), widget=forms.Textarea(attrs={"rows": 2}))
