from django.urls import path

from . import views

app_name = "units"
urlpatterns = [
    path("", views.unit_tree, name="tree"),
    path("new/", views.unit_new, name="new"),
    path("<str:code>/", views.unit_detail, name="detail"),
    path("<str:code>/children/", views.unit_children, name="children"),
    path("<str:code>/edit/", views.unit_edit, name="edit"),
    path("<str:code>/move/", views.unit_move, name="move"),
    path("<str:code>/deactivate/", views.unit_deactivate, name="deactivate"),
]
