"""Convention URLs, under /<conference_slug>/.

Each flow's module declares its own `urlpatterns` and adds one line below.
"""

from conventions.views import (
    cia,
    cia_objectives,
    cia_signature,
    cia_versions,
    documents,
    orientations,
)

urlpatterns = [
    *cia.urlpatterns,
    *cia_versions.urlpatterns,
    *cia_objectives.urlpatterns,
    *cia_signature.urlpatterns,
    *documents.urlpatterns,
    *orientations.urlpatterns,
]
