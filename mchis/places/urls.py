from django.urls import path

from . import views

app_name = "places"
urlpatterns = [
    path("villages/", views.commune_list, name="communes"),
    path("villages/<str:code>/", views.village_list, name="villages"),
    path("villages/<str:code>/<int:pk>/", views.village_edit, name="village_edit"),
]
