from django.urls import path

from . import views

app_name = "analytics"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("dashboard/edit/", views.dashboard_edit, name="dashboard_edit"),
    path("pivot/", views.pivot_page, name="pivot"),
    path("map/", views.map_page, name="map"),
    path("favorites/", views.favorite_save, name="favorite_save"),
    path("favorites/<int:pk>/delete/", views.favorite_delete, name="favorite_delete"),
]
