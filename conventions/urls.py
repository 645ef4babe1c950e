"""Convention URLs, under /<conference_slug>/.

Each flow's module declares its own `urlpatterns` and adds one line below.
"""

from conventions.views import cia, documents, orientations

urlpatterns = [
    *cia.urlpatterns,
    *documents.urlpatterns,
    *orientations.urlpatterns,
]
