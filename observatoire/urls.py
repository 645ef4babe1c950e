"""URLs of the observatory, under /<conference_slug>/observatoire/ (included by cil.urls)."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
