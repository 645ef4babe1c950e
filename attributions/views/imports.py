"""Import of `attributions` v1 files from the web: upload → whole-file check (a task with a
progress bar for big files) → preview (to create / update / unchanged, or the errors) →
confirmation → import, all or nothing. A bailleur imports its own lines and sees its own
organisation's jobs; the secretariat imports for every bailleur member."""

from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from attributions import contract
from attributions.importing import jobs
from attributions.importing.forms import ImportUploadForm, max_size_label
from attributions.importing.reading import FileRefused
from attributions.importing.selectors import (
    access_import_job,
    acting_bailleur_of,
    recent_import_jobs,
)
from attributions.models import ImportJob, ImportStatus
from cil.access_journal import journal_quoted_values
from cil.views.decorators import requires

# What each column holds, for the upload page (shared/formats.md, `attributions` v1).
COLUMN_HELP = {
    "reference": "Votre identifiant de l'attribution (64 caractères au plus). Réimporter une référence met l'attribution à jour.",
    "bailleur_siren": "SIREN du bailleur (9 chiffres), membre de la conférence.",
    "date_signature_bail": "Date de signature du bail (AAAA-MM-JJ ou JJ/MM/AAAA) : elle décide de l'année.",
    "commune_insee": "Code INSEE de la commune du logement (5 caractères), sur le territoire de la conférence.",
    "qpv_code": "Code du QPV du logement (par exemple QN07601M) ; vide hors QPV.",
    "numero_unique": "Numéro unique SNE de la demande.",
    "rpls_id": "Identifiant RPLS du logement.",
    "typologie": "T1 à T5, T6+ (ou 1 à 6).",
    "financement": "PLAI, PLUS, PLS, PLI ou autre.",
    "reservataire": "Contingent : " + ", ".join(contract.RESERVATAIRE_CODES) + ".",
    "reservataire_siren": "SIREN du réservataire quand il y en a plusieurs (commune, EPCI…).",
    "nb_personnes": "Nombre de personnes du ménage (1 ou plus).",
    "nb_enfants_moins_14": "Enfants de moins de 14 ans parmi elles (0 par défaut).",
    "revenu_annuel": "Revenu annuel du ménage en euros (virgule ou point décimal) ; vide si inconnu.",
    "revenu_par_uc": "Revenu par unité de consommation, utilisé tel quel s'il est donné.",
    "dalo": "Ménage reconnu DALO (oui/non).",
    "prioritaire": "Public prioritaire (L.441-1 du CCH) (oui/non) ; DALO vaut prioritaire.",
    "relogement_npnru": "Relogement au titre du renouvellement urbain (ANRU/NPNRU) ou d'une ORCOD (oui/non).",
    "mutation": "Ménage déjà locataire du parc social (oui/non).",
}
TEMPLATE_FILENAME = "attributions-modele.csv"
RUNNING = (ImportStatus.VALIDATING, ImportStatus.IMPORTING)


def _columns() -> list[dict]:
    return [
        {"name": c.name, "required": c.required, "help": COLUMN_HELP.get(c.name, "")}
        for c in contract.COLUMNS
    ]


@require_http_methods(["GET", "POST"])
@requires("attributions.import")
def import_upload(request):
    acting_bailleur = acting_bailleur_of(request)
    form = ImportUploadForm(request.POST or None, request.FILES or None)
    refused: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = jobs.import_job_create(
                conference=request.conference,
                actor=request.user,
                file=upload,
                filename=upload.name,
                acting_bailleur=acting_bailleur,
            )
        except FileRefused as error:
            refused = error.problems
        else:
            jobs.start_validation(job)
            return redirect(
                "import_detail", conference_slug=request.conference.slug, job_id=job.public_id
            )
    return TemplateResponse(
        request,
        "attributions/import_upload.html",
        {
            "form": form,
            "refused": refused,
            "acting_bailleur": acting_bailleur,
            "columns": _columns(),
            "max_size": max_size_label(),
            "recent_jobs": [
                {"job": job, "lines": job.counts.get("lines")}
                for job in recent_import_jobs(acting_bailleur=acting_bailleur)
            ],
        },
    )


@require_GET
@requires("attributions.import")
def import_template(request):
    """The header line of the format, to fill in a spreadsheet (UTF-8 with BOM, `;`: what
    Excel opens as-is on a French Windows)."""
    header = ";".join(column.name for column in contract.COLUMNS)
    response = HttpResponse(f"\ufeff{header}\r\n".encode(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{TEMPLATE_FILENAME}"'
    return response


def _job_context(job: ImportJob) -> dict:
    counts = {
        key: job.counts.get(key, 0) for key in ("lines", "create", "update", "unchanged", "errors")
    }
    running = job.status in RUNNING
    return {
        "job": job,
        "counts": counts,
        "running": running,
        "percent": job.progress_percent if running else 100,
        "errors": job.errors,
        "more_errors": max(0, counts["errors"] - len(job.errors)),
        "is_ready": job.status == ImportStatus.READY,
        "is_done": job.status == ImportStatus.DONE,
        "is_invalid": job.status == ImportStatus.INVALID,
        "is_failed": job.status == ImportStatus.FAILED,
        "is_importing": job.status == ImportStatus.IMPORTING,
    }


@require_GET
@requires("attributions.import")
def import_detail(request, job_id):
    job = access_import_job(job_id=job_id, acting_bailleur=acting_bailleur_of(request))
    context = _job_context(job)
    if context["is_invalid"]:
        # Its error list quotes cells of the file's lines (household-level data).
        journal_quoted_values(
            request=request, job=job, errors=job.errors, object_type="attributions.importjob"
        )
    context["breadcrumb_links"] = [
        (
            reverse("import_upload", kwargs={"conference_slug": request.conference.slug}),
            "Importer des attributions",
        )
    ]
    return TemplateResponse(request, "attributions/import_detail.html", context)


@require_GET
@requires("attributions.import")
def import_progress(request, job_id):
    """The progress block, polled every second by htmx while the job runs; once it has
    finished, htmx reloads the page to show the result."""
    job = access_import_job(job_id=job_id, acting_bailleur=acting_bailleur_of(request))
    context = _job_context(job)
    response = TemplateResponse(request, "attributions/import_progress.html", context)
    if request.htmx and not context["running"]:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@requires("attributions.import")
def import_confirm(request, job_id):
    job = access_import_job(job_id=job_id, acting_bailleur=acting_bailleur_of(request))
    jobs.import_confirm(job=job, actor=request.user)
    return redirect("import_detail", conference_slug=request.conference.slug, job_id=job.public_id)


urlpatterns = [
    path("imports/", import_upload, name="import_upload"),
    path("imports/modele.csv", import_template, name="import_template"),
    path("imports/<uuid:job_id>/", import_detail, name="import_detail"),
    path("imports/<uuid:job_id>/progression/", import_progress, name="import_progress"),
    path("imports/<uuid:job_id>/confirmer/", import_confirm, name="import_confirm"),
]
