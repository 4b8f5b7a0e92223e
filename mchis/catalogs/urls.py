from django.urls import path

from . import views

app_name = "catalogs"
urlpatterns = [
    path("", views.catalog_index, name="index"),
    path("<slug:code>/", views.catalog_detail, name="detail"),
    path("<slug:code>/add/", views.item_add, name="add"),
    path("<slug:code>/items/<str:item_code>/", views.item_edit, name="item"),
    path("<slug:code>/items/<str:item_code>/retire/", views.item_retire, name="retire"),
]
