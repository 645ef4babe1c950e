"""Who imports for whom, and which import jobs a person sees (inside the conference scope)."""

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from attributions.models import ImportJob
from cil.roles import RoleName

RECENT_JOBS = 20


def acting_bailleur_of(request):
    """The organisation a person imports as: None for the secretariat, which imports for any
    bailleur member; a bailleur's own organisation otherwise (a line of another bailleur is
    then an error). Call behind `requires("attributions.import")`."""
    if RoleName.SECRETARIAT in request.roles:
        return None
    organisation = request.user.organisation
    if organisation is None:
        raise PermissionDenied
    return organisation


def import_jobs(*, acting_bailleur) -> QuerySet[ImportJob]:
    """The conference's import jobs this person may see: all of them for the secretariat, its
    own organisation's for a bailleur."""
    jobs = ImportJob.objects.select_related("created_by", "acting_bailleur")
    if acting_bailleur is not None:
        jobs = jobs.filter(acting_bailleur=acting_bailleur)
    return jobs


def recent_import_jobs(*, acting_bailleur) -> list[ImportJob]:
    return list(import_jobs(acting_bailleur=acting_bailleur).order_by("-created_at")[:RECENT_JOBS])


def access_import_job(*, job_id, acting_bailleur) -> ImportJob:
    """The job, or Http404 alike for a job that does not exist, belongs to another conference
    or to another organisation."""
    return get_object_or_404(import_jobs(acting_bailleur=acting_bailleur), public_id=job_id)
