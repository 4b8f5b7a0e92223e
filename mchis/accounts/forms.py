"""Forms for login, passwords, second factor and account administration (labels in Vietnamese)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from mchis.units.choices import grouped_unit_choices
from mchis.units.models import ReportingUnit

from .permissions import MACHINE_ACTIONS
from .roles import Role


class LoginForm(AuthenticationForm):
    error_messages = {
        "invalid_login": _("Tên đăng nhập hoặc mật khẩu không đúng."),
        "inactive": _("Tài khoản đã bị vô hiệu hóa."),
    }


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(
        label=_("Mật khẩu hiện tại"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "autofocus": True}),
    )
    new_password1 = forms.CharField(
        label=_("Mật khẩu mới"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )
    new_password2 = forms.CharField(
        label=_("Nhập lại mật khẩu mới"), widget=forms.PasswordInput(attrs={"autocomplete": "new-password"})
    )

    def __init__(self, user: Any, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_old_password(self) -> str:
        value: str = self.cleaned_data["old_password"]
        if not self.user.check_password(value):
            raise forms.ValidationError(_("Mật khẩu hiện tại không đúng."))
        return value

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("new_password1") and data.get("new_password1") != data.get("new_password2"):
            self.add_error("new_password2", _("Hai mật khẩu mới không khớp."))
        return data


class OtpCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Mã xác thực"),
        max_length=16,
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
        help_text=_("Mã 6 chữ số trong ứng dụng xác thực, hoặc một mã khôi phục."),
    )


class OtpEnrolForm(OtpCodeForm):
    """Enrolling proves the person (R-SEC-04): the password again and the admin-issued enrolment code."""

    password = forms.CharField(
        label=_("Mật khẩu"), widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    enrolment_code = forms.CharField(
        label=_("Mã đăng ký do quản trị cấp"),
        max_length=32,
        help_text=_("Mã dùng một lần do quản trị đơn vị trao trực tiếp cho bạn."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("Mã 6 chữ số ứng dụng xác thực đang hiển thị.")


class AccountCreateForm(forms.Form):
    username = forms.CharField(label=_("Tên đăng nhập"), max_length=150)
    full_name = forms.CharField(label=_("Họ và tên"), max_length=300, required=False)
    email = forms.EmailField(label=_("Thư điện tử"), required=False)
    unit: forms.ModelChoiceField[ReportingUnit] = forms.ModelChoiceField(
        label=_("Đơn vị"), queryset=ReportingUnit.objects.none()
    )
    role = forms.ChoiceField(label=_("Vai trò"))

    def __init__(self, *args: Any, units: Any, roles: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        # a picker grouped by the tree, with type-to-search (validation still uses the queryset)
        self.fields["unit"].choices = [("", "—"), *grouped_unit_choices(units, key=lambda u: u.pk)]  # type: ignore[attr-defined]
        self.fields["unit"].widget.attrs["data-search"] = ""
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]  # type: ignore[attr-defined]


class RoleChangeForm(forms.Form):
    role = forms.ChoiceField(label=_("Vai trò mới"))
    reason = forms.CharField(label=_("Lý do"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, roles: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = [(r, Role(r).label) for r in roles]  # type: ignore[attr-defined]


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Lý do"), max_length=500, required=False)


class ApiClientCreateForm(forms.Form):
    name = forms.CharField(label=_("Tên máy khách"), max_length=150)
    unit: forms.ModelChoiceField[ReportingUnit] = forms.ModelChoiceField(
        label=_("Đơn vị (phạm vi dữ liệu)"), queryset=ReportingUnit.objects.none()
    )
    scopes = forms.MultipleChoiceField(
        label=_("Quyền được phép"), widget=forms.CheckboxSelectMultiple, choices=[]
    )
    days = forms.IntegerField(label=_("Thời hạn (ngày)"), min_value=1, max_value=3650, initial=365)

    def __init__(self, *args: Any, units: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["unit"].queryset = units  # type: ignore[attr-defined]
        self.fields["scopes"].choices = [(a, a) for a in sorted(MACHINE_ACTIONS)]  # type: ignore[attr-defined]
