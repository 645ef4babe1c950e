"""Imports of the observatory, for the secretariat: upload (kind and year) → whole-file check
(a task with a progress bar for big files) → preview (what would be created, updated,
deleted, ignored, or the errors) → confirmation → import, all or nothing; the list of past
imports."""

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cil.access_journal import journal_quoted_values
from cil.tabular import FileRefused
from cil.views.decorators import requires
from observatoire.contracts import demandes, financement, rpls
from observatoire.importing import jobs
from observatoire.importing.forms import (
    RPLS_MAX_BYTES,
    ObservatoireImportForm,
    size_label,
)
from observatoire.importing.selectors import access_observatoire_import, recent_imports
from observatoire.models import ObservatoireImport, ObservatoireImportKind
from observatoire.models.imports import ObservatoireImportStatus as Status

PERMISSION = "observatoire.import"
TEMPLATE_FILENAME = "demandes-modele.csv"
DEMAND_HELP = {
    "numero_unique": "Numéro unique SNE de la demande (32 caractères au plus). Réimporter un numéro met la demande à jour.",
    "date_depot": "Date de dépôt initial (AAAA-MM-JJ ou JJ/MM/AAAA).",
    "communes_souhaitees": "Codes INSEE des communes souhaitées, dans l'ordre, séparés par | (par exemple 76540|76541). La première doit appartenir au territoire.",
    "nb_personnes": "Nombre de personnes du ménage (1 ou plus).",
    "nb_enfants_moins_14": "Enfants de moins de 14 ans parmi elles (0 par défaut).",
    "revenu_annuel": "Revenu annuel du ménage en euros (revenus mensuels × 12) ; vide si inconnu.",
    "typologie": "Typologie souhaitée : T1 à T5, T6+ (ou 1 à 6).",
    "mutation": "Demandeur déjà locataire du parc social (oui/non).",
    "dalo": "Ménage reconnu DALO (oui/non).",
    "prioritaire": "Public prioritaire (L.441-1 du CCH) (oui/non) ; DALO vaut prioritaire.",
    "date_radiation": "Date de radiation, pour une demande close.",
    "motif_radiation": "Motif de radiation : " + ", ".join(demandes.CLOSURE_CODES) + ".",
}


def _demand_columns() -> list[dict]:
    return [
        {"name": c.name, "required": c.required, "help": DEMAND_HELP[c.name]}
        for c in demandes.COLUMNS
    ]


def _rpls_columns() -> list[dict]:
    return [
        {
            "name": field.shown,
            "required": field.column_required,
            "names": ", ".join(field.names),
        }
        for field in rpls.FIELDS
    ]


@require_http_methods(["GET", "POST"])
@requires(PERMISSION)
def observatoire_import_upload(request):
    form = ObservatoireImportForm(request.POST or None, request.FILES or None)
    refused: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = jobs.observatoire_import_create(
                conference=request.conference,
                actor=request.user,
                kind=form.cleaned_data["kind"],
                year=form.cleaned_data["year"],
                file=upload,
                filename=upload.name,
            )
        except FileRefused as error:
            refused = error.problems
        else:
            jobs.start_validation(job)
            return redirect(
                "observatoire_import_detail",
                conference_slug=request.conference.slug,
                job_id=job.public_id,
            )
    return TemplateResponse(
        request,
        "observatoire/imports/upload.html",
        {
            "form": form,
            "refused": refused,
            "demand_columns": _demand_columns(),
            "rpls_columns": _rpls_columns(),
            "finan_codes": financement.FINAN_CODES,
            "rpls_max_size": size_label(RPLS_MAX_BYTES),
            "max_size": size_label(settings.CIL_IMPORT_MAX_BYTES),
            "recent_jobs": recent_imports(),
        },
    )


@require_GET
@requires(PERMISSION)
def observatoire_import_template(request):
    """The header line of `demandes` v1, to fill in a spreadsheet (UTF-8 with BOM, `;`)."""
    header = ";".join(column.name for column in demandes.COLUMNS)
    response = HttpResponse(f"\ufeff{header}\r\n".encode(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{TEMPLATE_FILENAME}"'
    return response


# (singular, plural, feminine) of what each kind writes.
NOUNS = {
    ObservatoireImportKind.DEMANDES: ("demande", "demandes", True),
    ObservatoireImportKind.RPLS: ("logement", "logements", False),
    ObservatoireImportKind.QPV: ("QPV", "QPV", False),
}
# (count key, participle once done, infinitive before).
_CARDS = (
    ("create", "créé", "à créer"),
    ("update", "modifié", "à modifier"),
    ("unchanged", "inchangé", "inchangé"),
    ("delete", "supprimé", "à supprimer"),
)


def _cards(job: ObservatoireImport, counts: dict, done: bool) -> list[dict]:
    """The figures of a preview or a result, in words: « 12 demandes à créer »."""
    singular, plural, feminine = NOUNS[job.kind]
    cards = []
    for key, participle, planned in _CARDS:
        if key == "delete" and job.kind != ObservatoireImportKind.RPLS:
            continue
        count = counts.get(key, 0)
        many = count > 1
        words = participle if done or key == "unchanged" else planned
        if words.endswith("é"):
            words += ("e" if feminine else "") + ("s" if many else "")
        cards.append(
            {
                "id": f"count-{key}",
                "count": count,
                "label": f"{plural if many else singular} {words}",
            }
        )
    return cards


# Every figure a page may show, for jobs whose counts lack it (refused file, other kind).
COUNT_DEFAULTS = {
    **dict.fromkeys(("lines", "create", "update", "unchanged", "delete", "ignored", "errors"), 0),
    **dict.fromkeys(("without_commune", "financement_unknown", "financement_absent"), 0),
    **{key: [] for key in ("communes", "missing_columns", "financement_unknown_codes", "absent")},
}


def _job_context(job: ObservatoireImport) -> dict:
    counts = {**COUNT_DEFAULTS, **job.counts}
    running = job.status in jobs.RUNNING
    columns = counts.get("columns") or {}
    return {
        "job": job,
        "counts": counts,
        "cards": _cards(job, counts, job.status == Status.DONE),
        "rpls_columns_read": [
            {"shown": field.shown, "header": columns[field.name]}
            for field in rpls.FIELDS
            if field.name in columns
        ],
        "is_demandes": job.kind == ObservatoireImportKind.DEMANDES,
        "is_rpls": job.kind == ObservatoireImportKind.RPLS,
        "is_qpv": job.kind == ObservatoireImportKind.QPV,
        "running": running,
        "percent": job.progress_percent if running else 100,
        "errors": job.errors,
        "more_errors": max(0, counts["errors"] - len(job.errors)),
        "is_ready": job.status == Status.READY,
        "is_done": job.status == Status.DONE,
        "is_invalid": job.status == Status.INVALID,
        "is_failed": job.status == Status.FAILED,
        "is_committing": job.status == Status.COMMITTING,
    }


@require_GET
@requires(PERMISSION)
def observatoire_import_detail(request, job_id):
    job = access_observatoire_import(job_id=job_id)
    context = _job_context(job)
    if context["is_invalid"] and job.kind == ObservatoireImportKind.DEMANDES:
        # Its error list quotes cells of the demand lines (household-level data).
        journal_quoted_values(
            request=request,
            job=job,
            errors=job.errors,
            object_type="observatoire.observatoireimport",
        )
    context["breadcrumb_links"] = [
        (
            reverse(
                "observatoire_import_upload", kwargs={"conference_slug": request.conference.slug}
            ),
            "Imports de l'observatoire",
        )
    ]
    return TemplateResponse(request, "observatoire/imports/detail.html", context)


@require_GET
@requires(PERMISSION)
def observatoire_import_progress(request, job_id):
    """The progress block, polled every second by htmx while the job runs; once it has
    finished, htmx reloads the page to show the result."""
    job = access_observatoire_import(job_id=job_id)
    context = _job_context(job)
    response = TemplateResponse(request, "observatoire/imports/progress.html", context)
    if request.htmx and not context["running"]:
        response["HX-Refresh"] = "true"
    return response


@require_POST
@requires(PERMISSION)
def observatoire_import_confirm(request, job_id):
    job = access_observatoire_import(job_id=job_id)
    jobs.observatoire_import_confirm(job=job, actor=request.user)
    return redirect(
        "observatoire_import_detail",
        conference_slug=request.conference.slug,
        job_id=job.public_id,
    )
