from django.urls import path
from django.views.i18n import JavaScriptCatalog

from . import views, webauthn

app_name = "accounts"
urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.logout_view, name="logout"),
    path("logout-everywhere/", views.logout_everywhere, name="logout_everywhere"),
    path("keepalive/", views.keepalive, name="keepalive"),
    path("security/", views.account_security, name="security"),
    path("password/change/", views.password_change, name="password_change"),
    path("otp/setup/", views.otp_setup, name="otp_setup"),
    path("otp/verify/", views.otp_verify, name="otp_verify"),
    path("step-up/", views.step_up, name="step_up"),
    path("security-keys/<int:key_id>/revoke/", views.security_key_revoke, name="security_key_revoke"),
    path(
        "webauthn/registration/begin/", webauthn.BeginRegistration.as_view(), name="webauthn_register_begin"
    ),
    path(
        "webauthn/registration/complete/",
        webauthn.CompleteRegistration.as_view(),
        name="webauthn_register_complete",
    ),
    path(
        "webauthn/authentication/begin/", webauthn.BeginAuthentication.as_view(), name="webauthn_auth_begin"
    ),
    path(
        "webauthn/authentication/complete/",
        webauthn.CompleteAuthentication.as_view(),
        name="webauthn_auth_complete",
    ),
    path("webauthn/i18n/", JavaScriptCatalog.as_view(packages=["mchis.accounts"]), name="webauthn_i18n"),
    path("users/", views.user_list, name="user_list"),
    path("users/new/", views.user_create, name="user_create"),
    path("users/<int:pk>/", views.user_detail, name="user_detail"),
    path("users/<int:pk>/role/", views.user_change_role, name="user_change_role"),
    path("users/<int:pk>/deactivate/", views.user_deactivate, name="user_deactivate"),
    path("users/<int:pk>/reactivate/", views.user_reactivate, name="user_reactivate"),
    path("users/<int:pk>/unlock/", views.user_unlock, name="user_unlock"),
    path("users/<int:pk>/reset-otp/", views.user_reset_otp, name="user_reset_otp"),
    path(
        "users/<int:pk>/security-keys/<int:key_id>/revoke/",
        views.user_security_key_revoke,
        name="user_security_key_revoke",
    ),
    path("users/<int:pk>/reset-password/", views.user_reset_password, name="user_reset_password"),
    path("users/<int:pk>/enrolment-code/", views.user_enrolment_code, name="user_enrolment_code"),
    path("locked-ips/unlock/", views.ip_unlock, name="ip_unlock"),
    path("tokens/", views.token_list, name="token_list"),
    path("tokens/new/", views.token_create, name="token_create"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
