"""Produced documents of a conference: the list (with the progress of those being made),
the download of a sealed PDF, and the request of the bilan annuel PDF."""

from django.contrib import messages
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from attributions import selectors as attribution_selectors
from cil.permissions import has_permission
from cil.views.decorators import requires
from conventions.forms_documents import BilanPdfForm
from conventions.models import DocumentKind
from conventions.pdf.bilan import bilan_title
from conventions.pdf.selectors import access_document, documents_visible
from conventions.pdf.services import document_request

LIST_LIMIT = 100
# The bilan PDF is offered for the most recent years with attributions.
BILAN_YEARS_OFFERED = 4


def _list_context(request, form: BilanPdfForm | None = None) -> dict:
    documents = list(documents_visible(roles=request.roles)[:LIST_LIMIT])
    context = {"documents": documents, "can_generate": False}
    if has_permission(request.roles, "documents.generate"):
        years = attribution_selectors.attribution_years()
        context.update(
            can_generate=True,
            bilan_form=form or BilanPdfForm(years=years),
            bilan_years=years[:BILAN_YEARS_OFFERED],
        )
    return context


@require_GET
@requires("documents.view")
def document_list(request):
    return TemplateResponse(request, "conventions/document_list.html", _list_context(request))


@require_GET
@requires("documents.view")
def document_progress(request, document_id):
    """One document's row, polled every 2 s by htmx while it is being made; the row it
    returns once the document is ready or failed no longer polls."""
    document = access_document(roles=request.roles, document_id=document_id)
    return TemplateResponse(request, "conventions/document_row.html", {"document": document})


@require_GET
@requires("documents.view")
def document_download(request, document_id):
    document = access_document(roles=request.roles, document_id=document_id)
    if not document.is_ready or not document.file:
        raise Http404("Ce document n'est pas prêt.")
    filename = f"{slugify(document.title)[:120] or 'document'}.pdf"
    return FileResponse(
        document.file.open("rb"),
        as_attachment=True,
        filename=filename,
        content_type="application/pdf",
    )


@require_POST
@requires("documents.generate")
def bilan_pdf_request(request):
    conference = request.conference
    years = attribution_selectors.attribution_years()
    form = BilanPdfForm(request.POST, years=years)
    if not form.is_valid():
        return TemplateResponse(
            request, "conventions/document_list.html", _list_context(request, form)
        )
    year = form.cleaned_data["year"]
    document_request(
        conference=conference,
        actor=request.user,
        kind=DocumentKind.BILAN_ANNUEL,
        title=bilan_title(conference, year),
        subject_type="attributions.bilan",
        year=year,
    )
    messages.success(
        request,
        f"La production du bilan annuel {year} en PDF est lancée ; "
        "il apparaîtra ci-dessous dès qu'il sera scellé.",
    )
    return redirect("document_list", conference_slug=conference.slug)


urlpatterns = [
    path("documents/", document_list, name="document_list"),
    path("documents/bilan-annuel/", bilan_pdf_request, name="document_bilan_request"),
    path(
        "documents/<uuid:document_id>/progression/",
        document_progress,
        name="document_progress",
    ),
    path(
        "documents/<uuid:document_id>/telecharger/",
        document_download,
        name="document_download",
    ),
]
