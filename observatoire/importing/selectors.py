"""Which import jobs of the observatory a person sees (inside the conference scope): the
secretariat's pages only (permission `observatoire.import`)."""

from django.shortcuts import get_object_or_404

from observatoire.models import ObservatoireImport

RECENT_JOBS = 50


def recent_imports() -> list[ObservatoireImport]:
    return list(
        ObservatoireImport.objects.select_related("created_by").order_by("-created_at")[
            :RECENT_JOBS
        ]
    )


def access_observatoire_import(*, job_id) -> ObservatoireImport:
    """The job, or Http404 alike for a job that does not exist or belongs to another
    conference (the scope)."""
    return get_object_or_404(
        ObservatoireImport.objects.select_related("created_by"), public_id=job_id
    )
