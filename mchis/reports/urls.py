from django.urls import path

from . import views

app_name = "reports"
urlpatterns = [
    path("", views.report_list, name="list"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("forms/", views.form_list, name="form_list"),
    path("forms/<int:pk>/", views.form_detail, name="form_detail"),
    path("<str:form>/<str:unit>/<str:period>/", views.report_detail, name="detail"),
    path("<str:form>/<str:unit>/<str:period>/act/<str:verb>/", views.report_action, name="action"),
    path("<str:form>/<str:unit>/<str:period>/manual/", views.report_manual, name="manual"),
    path("<str:form>/<str:unit>/<str:period>/xlsx", views.report_excel, name="excel"),
    path("<str:form>/<str:unit>/<str:period>/pdf", views.report_pdf, name="pdf"),
]
