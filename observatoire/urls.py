"""URLs of the observatory, under /<conference_slug>/observatoire/ (included by cil.urls)."""

from django.urls import path

from observatoire.views import analysis, communes, opendata, territory_map
from observatoire.views import imports as observatoire_imports
from observatoire.views import settings as observatoire_settings_views

urlpatterns: list = [
    # Analysis page, its exports and the settings (helper obscalc).
    path("", analysis.observatoire_home, name="observatoire_home"),
    path(
        "export/<str:table>.<str:fmt>",
        analysis.observatoire_export,
        name="observatoire_export",
    ),
    path(
        "parametres/",
        observatoire_settings_views.observatoire_settings,
        name="observatoire_settings",
    ),
    # Imports of demand, RPLS and QPV files (helper obsimport).
    path(
        "imports/",
        observatoire_imports.observatoire_import_upload,
        name="observatoire_import_upload",
    ),
    path(
        "imports/modele-demandes.csv",
        observatoire_imports.observatoire_import_template,
        name="observatoire_import_template",
    ),
    path(
        "imports/<uuid:job_id>/",
        observatoire_imports.observatoire_import_detail,
        name="observatoire_import_detail",
    ),
    path(
        "imports/<uuid:job_id>/progression/",
        observatoire_imports.observatoire_import_progress,
        name="observatoire_import_progress",
    ),
    path(
        "imports/<uuid:job_id>/confirmer/",
        observatoire_imports.observatoire_import_confirm,
        name="observatoire_import_confirm",
    ),
    # Territory map and commune pages (helper obsmap).
    path("carte/", territory_map.territory_map_page, name="observatoire_map"),
    path("carte/contours/", territory_map.boundaries_upload, name="observatoire_map_upload"),
    path("communes/", communes.commune_list, name="observatoire_communes"),
    path("communes/<str:insee>/", communes.commune_detail, name="observatoire_commune"),
    # Open data: the secretariat's choices (helper obsopen); public files in cil/urls.py.
    *opendata.urlpatterns,
]
