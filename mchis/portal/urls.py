from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("", views.index, name="index"),
    path("publish/", views.publish, name="publish"),
    path("<int:pk>/revise/", views.revise, name="revise"),
    path("<int:pk>/unpublish/", views.unpublish, name="unpublish"),
]
