"""URLs of the conference's sessions, under /<conference_slug>/seances/ (included by cil.urls)."""

urlpatterns: list = []
