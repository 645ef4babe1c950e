"""Public open-data URLs, under /<conference_slug>/donnees-ouvertes/ (included by cil.urls)."""

from observatoire.views.opendata import public_urlpatterns as urlpatterns

__all__ = ["urlpatterns"]
