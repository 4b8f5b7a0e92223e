"""/public/ - the public statistics portal (no login); /public/data/ - its downloads (issue 16 contract)."""

from django.urls import path, re_path

from . import bulletins, downloads, views

app_name = "public"

KEY = r"(?P<key>[a-z0-9][a-z0-9-]{0,39})"

urlpatterns = [
    path("", views.home, name="home"),
    path("indicators/", views.indicators, name="indicators"),
    re_path(rf"^indicators/{KEY}/$", views.indicator, name="indicator"),
    re_path(r"^provinces/(?P<code>[0-9]{2})/$", views.province, name="province"),
    path("methods/", views.methods, name="methods"),
    path("bulletins/", bulletins.index, name="bulletins"),
    re_path(r"^bulletins/(?P<period>[0-9]{4}(?:-[0-9]{2})?)\.pdf$", bulletins.pdf, name="bulletin"),
    path("lang/<str:code>/", views.language, name="language"),
    path("data/", downloads.index, name="data"),
    path("data/dictionary.json", downloads.dictionary_json, name="dictionary_json"),
    path("data/dictionary.csv", downloads.dictionary_csv, name="dictionary_csv"),
    path("data/statistics.csv", downloads.all_csv, name="all_csv"),
    path("data/statistics.json", downloads.all_json, name="all_json"),
    path("data/statistics.adx.xml", downloads.adx, name="adx"),
    re_path(rf"^data/{KEY}\.csv$", downloads.statistic_csv, name="statistic_csv"),
    re_path(rf"^data/{KEY}\.json$", downloads.statistic_json, name="statistic_json"),
    re_path(r"^.*$", views.not_found_view, name="not_found"),
]
