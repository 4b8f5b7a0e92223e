from django.urls import path

from . import views

app_name = "registers"
urlpatterns = [
    path("", views.index, name="index"),
    path("sync/", views.sync_monitor, name="sync"),
    path("uploads/<uuid:upload_id>/", views.upload_detail, name="upload_detail"),
    path("uploads/<uuid:upload_id>/confirm/", views.upload_confirm, name="upload_confirm"),
    path("uploads/<uuid:upload_id>/errors.xlsx", views.upload_errors, name="upload_errors"),
    path("<slug:register>/", views.record_list, name="record_list"),
    path("<slug:register>/new/", views.record_form, name="record_new"),
    path("<slug:register>/<int:pk>/", views.record_form, name="record_edit"),
    path("<slug:register>/<int:pk>/void/", views.record_void, name="record_void"),
    path("<slug:register>/template.xlsx", views.template_download, name="template"),
    path("<slug:register>/upload/", views.upload, name="upload"),
]
