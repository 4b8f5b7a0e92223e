from django.urls import path

from . import views

app_name = "core"
urlpatterns = [
    path("", views.audit_log, name="audit_log"),
    path("export.xlsx", views.audit_log_export, name="audit_log_export"),
]
