"""Numbers, periods and figures on the public pages, in the visitor's language."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext

register = template.Library()


@register.filter
def num(value: Decimal | int | None) -> str:
    """1234567.5 → "1.234.567,5" in Vietnamese, "1,234,567.5" in English; "" for nothing."""
    if value is None:
        return ""
    d = Decimal(value)
    text = f"{d:,.1f}" if d != d.to_integral_value() else f"{int(d):,}"
    if (translation.get_language() or "vi").startswith("vi"):
        text = text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


@register.filter
def period_label(period: str, months: int | None = None) -> str:
    if "-" in period:
        year, month = period.split("-")
        return gettext("Tháng %(m)s/%(y)s") % {"m": month, "y": year}
    if months and months < 12:
        return gettext("Năm %(y)s (%(n)s tháng đã công bố)") % {"y": period, "n": months}
    return gettext("Năm %(y)s") % {"y": period}


@register.filter
def localized(obj: Any, field: str) -> str:
    """A published statistic's field in the visitor's language (name / name_en, …)."""
    en = (translation.get_language() or "vi").startswith("en")
    return str(getattr(obj, f"{field}_en", "") if en else getattr(obj, field, "")) or str(
        getattr(obj, field, "")
    )


@register.simple_tag
def figure(f: Any) -> SafeString:
    """One published figure: its value, or the suppression mark, with flags for a small denominator, a
    revision (date, previous value) or a review in progress."""
    if f is None:
        return format_html('<span class="muted" title="{}">–</span>', gettext("Chưa công bố"))
    if f.suppressed:
        return format_html(
            '<abbr class="suppressed" title="{}">*</abbr>', gettext("Ẩn để bảo vệ bí mật (số nhỏ)")
        )
    if f.value is None:
        return format_html('<span title="{}">{}</span>', gettext("Mẫu số bằng 0"), gettext("không xác định"))
    parts = [format_html("{}", num(f.value))]
    if f.flag == "small_denominator":
        parts.append(
            format_html(
                ' <abbr class="flag" title="{}">†</abbr>', gettext("Mẫu số nhỏ: diễn giải thận trọng")
            )
        )
    if f.revised_on:
        title = gettext("Đã điều chỉnh ngày %(d)s") % {"d": f.revised_on.strftime("%d/%m/%Y")}
        if f.previous_value is not None:
            title += " · " + gettext("giá trị trước: %(v)s") % {"v": num(f.previous_value)}
        parts.append(format_html(' <abbr class="flag revised" title="{}">{}</abbr>', title, gettext("đc")))
    if f.under_review_since:
        title = gettext("Đang rà soát từ ngày %(d)s") % {"d": f.under_review_since.strftime("%d/%m/%Y")}
        parts.append(format_html(' <abbr class="flag review" title="{}">‡</abbr>', title))
    return SafeString("".join(parts))
