"""API URLs, under /api/ (global: the token, not the URL, names the conference)."""

from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView
from rest_framework.permissions import AllowAny

from attributions.api import views
from attributions.api.schema import ScopesDisabledSchemaGenerator

app_name = "api"


class ReferenceConverter:
    """A bailleur's reference is free text (`attributions` v1): any character, a slash
    (sent as %2F) or a line break included."""

    regex = r"[\s\S]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "api_reference")

v1 = [
    path("attributions/", views.AttributionListView.as_view(), name="attribution_list"),
    path(
        "attributions/<api_reference:reference>/",
        views.AttributionDetailView.as_view(),
        name="attribution_detail",
    ),
    # Any segment, checked by the view: a wrong year gets the API's JSON 404, not the site's.
    path("bilan/<str:annee>/", views.BilanView.as_view(), name="bilan"),
    # The schema describes the API, it holds no data: public. No docs page: drf-spectacular's
    # Swagger UI loads from a CDN, which the CSP (and the no-CDN rule) forbid.
    path(
        "schema/",
        SpectacularAPIView.as_view(
            generator_class=ScopesDisabledSchemaGenerator,
            authentication_classes=[],
            permission_classes=[AllowAny],
            throttle_classes=[],
        ),
        name="schema",
    ),
]

urlpatterns = [path("v1/", include(v1))]
