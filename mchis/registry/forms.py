"""Data-entry forms (keyboard-first, phone-friendly). Validation lives in validation.py / services."""

from __future__ import annotations

import csv
from datetime import date as _date_cls
from functools import cache
from pathlib import Path
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from mchis.catalogs.models import CatalogItem
from mchis.catalogs.selectors import catalog_choices
from mchis.core.widgets import date_text_attrs

from .models import Sex
from .validation import LABELS

FIXTURES = Path(__file__).parent / "fixtures"
CIRCUMSTANCE_ROWS = 2


@cache
def _fixture_choices(name: str, code: str, label: str) -> list[tuple[str, str]]:
    with (FIXTURES / name).open(encoding="utf-8") as handle:
        return [(row[code], f"{row[code]} · {row[label]}") for row in csv.DictReader(handle)]


def _catalog(codes: tuple[str, ...]) -> list[tuple[str, str]]:
    try:
        for code in codes:
            choices = list(catalog_choices(code))
            if choices:
                return [(str(c[0]), str(c[1])) for c in choices]
    except (LookupError, TypeError, ValueError):
        pass

    items = CatalogItem.objects.current().filter(catalog__code__in=codes).order_by("sort_order", "code")
    return [(i.code, f"{i.code} · {i.name_vi}") for i in items]


def ethnicity_choices() -> list[tuple[str, str]]:
    return _catalog(("ethnic_group",)) or _fixture_choices("ethnic_groups_vn.csv", "code_qd121", "name")


def circumstance_choices() -> list[tuple[str, str]]:
    return _catalog(("child_circumstance",)) or _fixture_choices(
        "children_special_circumstances.csv", "no", "name_vi"
    )


def relationship_choices() -> list[tuple[str, str]]:
    return _catalog(("child_relationship",)) or [
        ("ong_ba", "Ông/bà"),
        ("anh_chi", "Anh/chị"),
        ("co_di_chu_bac", "Cô/dì/chú/bác"),
        ("khac", "Khác"),
    ]


def _text(label: Any, required: bool = False, **attrs: Any) -> forms.CharField:
    return forms.CharField(label=label, required=required, widget=forms.TextInput(attrs=attrs))


def _date(label: Any, required: bool = False) -> forms.CharField:
    return _text(label, required, **date_text_attrs())


def _pid(label: Any) -> forms.CharField:
    return _text(label, False, inputmode="numeric", maxlength="12", autocomplete="off", pattern="[0-9 ]*")


class ChildForm(forms.Form):
    """Thông tin trẻ em (R-CH-01). Field names = validation.FIELDS keys, so errors map 1:1."""

    full_name = _text(_(LABELS["full_name"]), True, autocomplete="off", autofocus="autofocus")
    date_of_birth = _date(_(LABELS["date_of_birth"]), True)
    sex = forms.ChoiceField(label=_(LABELS["sex"]), choices=[("", "—"), *Sex.choices], required=True)
    ethnicity_code = forms.ChoiceField(label=_(LABELS["ethnicity_code"]), required=False)
    personal_id = _pid(_(LABELS["personal_id"]))
    village = forms.ChoiceField(label=_(LABELS["village"]), required=False)
    address_detail = _text(_(LABELS["address_detail"]))
    father_name = _text(_(LABELS["father_name"]))
    father_dob = _date(_(LABELS["father_dob"]))
    father_personal_id = _pid(_(LABELS["father_personal_id"]))
    mother_name = _text(_(LABELS["mother_name"]))
    mother_dob = _date(_(LABELS["mother_dob"]))
    mother_personal_id = _pid(_(LABELS["mother_personal_id"]))
    guardian_name = _text(_(LABELS["guardian_name"]))
    guardian_dob = _date(_(LABELS["guardian_dob"]))
    guardian_personal_id = _pid(_(LABELS["guardian_personal_id"]))
    guardian_relationship = forms.ChoiceField(label=_(LABELS["guardian_relationship"]), required=False)
    reason = forms.CharField(label=_("Lý do / nguồn thông tin"), required=False, widget=forms.TextInput())
    event_date = _date(_("Ngày xảy ra thay đổi (thực tế)"))
    evidence = forms.FileField(
        label=_("Tài liệu minh chứng (PDF, JPEG, PNG)"),
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,image/jpeg,image/png"}),
    )
    acknowledge_warnings = forms.BooleanField(label=_("Tôi đã kiểm tra các cảnh báo ở trên"), required=False)
    client_key = forms.CharField(required=False, widget=forms.HiddenInput(attrs={"data-client-key": "1"}))

    def __init__(self, *args: Any, villages: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ethnicity_code"].choices = [("", "—"), *ethnicity_choices()]  # type: ignore[attr-defined]
        self.fields["guardian_relationship"].choices = [("", "—"), *relationship_choices()]  # type: ignore[attr-defined]
        self.fields["village"].choices = [("", "—"), *[(str(k), v) for k, v in (villages or [])]]  # type: ignore[attr-defined]
        groups = [("", "—"), *circumstance_choices()]
        for i in range(CIRCUMSTANCE_ROWS):
            self.fields[f"circ_{i}_group"] = forms.ChoiceField(
                label=_("Nhóm hoàn cảnh"), choices=groups, required=False
            )
            self.fields[f"circ_{i}_start"] = _date(_("Từ ngày"))
            self.fields[f"circ_{i}_end"] = _date(_("Đến ngày"))
        # long lists (55 ethnic groups, 26 circumstance groups, villages): type-to-search (web/widgets.js)
        for name, field in self.fields.items():
            if name in ("ethnicity_code", "village", "guardian_relationship") or name.endswith("_group"):
                field.widget.attrs["data-search"] = ""

    def child_data(self) -> dict[str, Any]:
        """Raw values for the services (they normalise and validate)."""
        raw = {name: self.data.get(name, "") for name in LABELS if name not in ("circumstances", "supports")}
        circumstances = []
        for i in range(CIRCUMSTANCE_ROWS):
            group = self.data.get(f"circ_{i}_group", "")
            if group:
                circumstances.append(
                    {
                        "group_code": group,
                        "start_date": self.data.get(f"circ_{i}_start", ""),
                        "end_date": self.data.get(f"circ_{i}_end", ""),
                    }
                )
        raw["circumstances"] = circumstances
        return raw

    @staticmethod
    def initial_from(data: dict[str, Any]) -> dict[str, Any]:
        """Form initial values from canonical data (ISO dates shown as dd/mm/yyyy)."""

        def show(value: Any) -> Any:
            if isinstance(value, str) and len(value) == 10 and value[4] == "-":
                try:
                    return _date_cls.fromisoformat(value).strftime("%d/%m/%Y")
                except ValueError:
                    return value
            return "" if value is None else value

        initial = {k: show(v) for k, v in data.items() if k not in ("circumstances", "supports")}
        for i, item in enumerate((data.get("circumstances") or [])[:CIRCUMSTANCE_ROWS]):
            initial[f"circ_{i}_group"] = item.get("group_code", "")
            initial[f"circ_{i}_start"] = show(item.get("start_date"))
            initial[f"circ_{i}_end"] = show(item.get("end_date"))
        return initial


class DecisionForm(forms.Form):
    comment = forms.CharField(label=_("Ý kiến"), required=False, widget=forms.Textarea(attrs={"rows": 2}))


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Lý do"), widget=forms.Textarea(attrs={"rows": 2}))
    evidence = forms.FileField(label=_("Tài liệu minh chứng"), required=False)


class UploadForm(forms.Form):
    file = forms.FileField(label=_("Tệp Excel (.xlsx) hoặc CSV"))
