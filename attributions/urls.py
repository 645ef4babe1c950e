"""Attribution URLs, under /<conference_slug>/ (each flow's module declares its own)."""

from attributions.views import dashboards, entry, imports, reference, tokens

urlpatterns = [
    *entry.urlpatterns,
    *imports.urlpatterns,
    *reference.urlpatterns,
    *dashboards.urlpatterns,
    *tokens.urlpatterns,
]
