"""Village forms (parsing only; rules in services)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import VillageKind


class VillageForm(forms.Form):
    name = forms.CharField(label=_("Tên thôn / tổ dân phố"), max_length=128)
    kind = forms.ChoiceField(label=_("Loại"), choices=VillageKind.choices)
    code = forms.CharField(label=_("Mã (để trống: tự đánh số)"), max_length=16, required=False)


class VillageEditForm(VillageForm):
    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        del self.fields["code"]
