"""The one date input of the UI: a text field typed dd/mm/yyyy with a calendar helper (static web/widgets.js, in the web app).

Never `<input type="date">`: browsers show it as mm/dd/yyyy on an English system, and phones replace it with
their own picker. The server parses what was typed (dd/mm/yyyy: mchis.core.dates, mchis/web/formats/) and answers in Vietnamese.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

DATE_ATTRS = {"data-date": "", "placeholder": "dd/mm/yyyy", "inputmode": "numeric", "autocomplete": "off"}
INPUT_FORMATS = ["%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d"]


class DateInput(forms.DateInput):
    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={**DATE_ATTRS, **(attrs or {})}, format="%d/%m/%Y")


class DateField(forms.DateField):
    """A form date: dd/mm/yyyy typed or picked; a clear Vietnamese message otherwise."""

    widget = DateInput
    default_error_messages = {"invalid": _("Ngày không hợp lệ: nhập theo dạng dd/mm/yyyy, ví dụ 05/03/2026.")}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("input_formats", INPUT_FORMATS)
        super().__init__(**kwargs)


def date_text_attrs() -> dict[str, str]:
    """Attributes for a hand-written date input in a template-driven form (same widget, same parsing)."""
    return dict(DATE_ATTRS)
