from django.urls import path

from . import views

app_name = "integrations"
urlpatterns = [
    path("", views.exchange_monitor, name="monitor"),
]
