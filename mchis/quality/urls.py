from django.urls import path

from . import views

app_name = "quality"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("scores.json", views.scores_json, name="scores_json"),
    path("findings/", views.finding_list, name="findings"),
    path("findings/<int:pk>/accept/", views.finding_accept, name="finding_accept"),
    path("duplicates/", views.duplicate_list, name="duplicates"),
    path("duplicates/<int:pk>/", views.duplicate_detail, name="duplicate"),
    path("duplicates/<int:pk>/<str:decision>/", views.duplicate_decide, name="duplicate_decide"),
    path("audits/", views.campaign_list, name="campaigns"),
    path("audits/<int:pk>/", views.campaign_detail, name="campaign"),
    path("audits/<int:pk>/minutes.pdf", views.campaign_minutes, name="campaign_minutes"),
    path("audits/<int:pk>/samples/<int:sample_pk>/", views.sample_record, name="sample"),
    path("audits/<int:pk>/<str:action>/", views.campaign_action, name="campaign_action"),
    path("tasks/", views.task_list, name="tasks"),
    path("tasks/<int:pk>/done/", views.task_done, name="task_done"),
    path("check-child/", views.check_child_fragment, name="check_child"),
    path("report/", views.scan_report, name="report"),
    path("report.xlsx", views.scan_report_xlsx, name="report_xlsx"),
]
