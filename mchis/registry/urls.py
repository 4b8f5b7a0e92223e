from django.urls import path

from . import views, views_lists

app_name = "registry"
urlpatterns = [
    path("", views.child_list, name="child_list"),
    path("new/", views.child_new, name="child_new"),
    path("requests/", views.request_list, name="request_list"),
    path("requests/<uuid:public_id>/", views.request_detail, name="request_detail"),
    path("requests/<uuid:public_id>/edit/", views.request_edit, name="request_edit"),
    path("evidence/<int:pk>/", views.evidence_download, name="evidence"),
    path("review/", views_lists.review_list, name="review"),
    path("review/export.xlsx", views_lists.review_export, name="review_export"),
    path("police/export.xlsx", views_lists.police_export, name="police_export"),
    path("review/export.pdf", views_lists.review_export_pdf, name="review_export_pdf"),
    path("police/export.pdf", views_lists.police_export_pdf, name="police_export_pdf"),
    path("police/import/", views_lists.police_import, name="police_import"),
    path("import/", views_lists.survey_import, name="survey_import"),
    path("corrections/", views_lists.correction_list, name="correction_list"),
    path("corrections/<uuid:public_id>/", views_lists.correction_detail, name="correction_detail"),
    path("<uuid:public_id>/", views.child_detail, name="child_detail"),
    path("<uuid:public_id>/change/", views.child_change, name="child_change"),
    path("<uuid:public_id>/delete/", views.child_delete, name="child_delete"),
    path("<uuid:public_id>/verify/", views_lists.child_verify, name="child_verify"),
    path("<uuid:public_id>/correction/", views_lists.correction_new, name="correction_new"),
]
