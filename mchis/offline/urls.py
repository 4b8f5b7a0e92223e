from django.urls import path

from . import views

app_name = "offline"
urlpatterns = [
    path("", views.outbox, name="outbox"),
    path("conflicts/", views.conflict_list, name="conflicts"),
    path("conflicts/<uuid:public_id>/", views.conflict_resolve, name="conflict_resolve"),
    path(
        "conflicts/records/<uuid:public_id>/", views.record_conflict_resolve, name="record_conflict_resolve"
    ),
]
