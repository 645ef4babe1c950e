"""The document d'orientation: reading, writing (secretariat), comments (members), versions
and their comparison, and the steps of the approval circuit (CCH L.441-1-5).

The role check is the decorator's (403); what the state of the document allows is
`circuit.abilities()`, the same function the templates and the services read: a step the
document cannot take now sends back to the document with an explanation.
"""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cil.views.decorators import requires
from cil.views.forms import apply_service_errors
from conventions import circuit
from conventions import selectors_orientations as selectors
from conventions import services_orientations as services
from conventions.circuit import State
from conventions.forms_orientations import (
    CommentForm,
    DocumentCreateForm,
    ReorderForm,
    SectionForm,
    step_form_class,
)
from conventions.models import DocumentKind
from conventions.pdf.orientations import orientations_title
from conventions.pdf.services import document_request


def _document_url(request, document, anchor: str = "") -> str:
    url = reverse(
        "orientation_detail",
        kwargs={"conference_slug": request.conference.slug, "document_id": document.public_id},
    )
    return f"{url}#{anchor}" if anchor else url


def _crumbs(request, document) -> list[tuple[str, str]]:
    return [(_document_url(request, document), "Document d'orientation")]


def _refuse(request, document, message: str):
    messages.warning(request, message)
    return redirect(_document_url(request, document))


def _not_now(request, document):
    if not document.is_current:
        return _refuse(
            request, document, "Ce document n'est plus le document courant : il ne change plus."
        )
    label = State(document.state).label.lower()
    return _refuse(
        request, document, f"Ce n'est pas possible quand le document est à l'état « {label} »."
    )


def _version_message(request, version, restarted: bool) -> None:
    if version is None:
        messages.info(request, "Aucune modification : aucune nouvelle version n'a été créée.")
        return
    text = f"Modification enregistrée : version {version.number}."
    if restarted:
        text += " Le document avait été soumis : il revient au brouillon et le circuit d'approbation reprend depuis le début."
    messages.success(request, text)


def _page(request, document, version=None):
    context = selectors.document_page(document=document, roles=request.roles, version=version)
    context["past_documents"] = selectors.past_documents(exclude=document)
    in_force = selectors.in_force_document()
    context["in_force"] = in_force if in_force and in_force.pk != document.pk else None
    context["pdf_url"] = reverse(
        "orientation_pdf",
        kwargs={"conference_slug": request.conference.slug, "document_id": document.public_id},
    )
    return TemplateResponse(request, "conventions/orientations/document.html", context)


# --- Reading --------------------------------------------------------------------------


@require_GET
@requires("orientations.view")
def orientation_home(request):
    document = selectors.current_document()
    if document is None:
        return TemplateResponse(
            request,
            "conventions/orientations/empty.html",
            {"past_documents": selectors.past_documents()},
        )
    return _page(request, document)


@require_GET
@requires("orientations.view")
def orientation_detail(request, document_id):
    return _page(request, selectors.access_document(document_id=document_id))


@require_GET
@requires("orientations.view")
def orientation_version(request, document_id, number):
    document = selectors.access_document(document_id=document_id)
    version = selectors.access_version(document=document, number=number)
    return _page(request, document, version)


@require_GET
@requires("orientations.view")
def orientation_versions(request, document_id):
    document = selectors.access_document(document_id=document_id)
    return TemplateResponse(
        request,
        "conventions/orientations/versions.html",
        {
            "document": document,
            "versions": selectors.versions_of(document),
            "breadcrumb_links": _crumbs(request, document),
        },
    )


@require_GET
@requires("orientations.view")
def orientation_compare(request, document_id):
    document = selectors.access_document(document_id=document_id)
    versions = selectors.versions_of(document)
    newest = versions[0].number
    new = selectors.access_version(document=document, number=request.GET.get("a") or newest)
    default_old = new.number - 1 if new.number > 1 else new.number
    old = selectors.access_version(document=document, number=request.GET.get("de") or default_old)
    return TemplateResponse(
        request,
        "conventions/orientations/compare.html",
        {
            "document": document,
            "versions": versions,
            "old": old,
            "new": new,
            "sections": selectors.compare_versions(old, new),
            "breadcrumb_links": _crumbs(request, document),
        },
    )


@require_GET
@requires("orientations.view")
def orientation_attachment(request, document_id, transition_id):
    document = selectors.access_document(document_id=document_id)
    row = selectors.access_attachment(document=document, transition_id=transition_id)
    number = "".join(c for c in str(row.data.get("numero", "")) if c.isalnum() or c in "-_")
    return FileResponse(
        row.attachment.open("rb"),
        as_attachment=True,
        filename=f"deliberation-{number or row.public_id}.pdf",
        content_type="application/pdf",
    )


# --- Writing (secretariat) ------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires("orientations.edit")
def orientation_create(request):
    current = selectors.current_document()
    if current is not None and "revise" not in circuit.abilities(request.roles, current):
        return _refuse(
            request,
            current,
            "Un document d'orientation est déjà en préparation : modifiez-le plutôt que d'en créer un autre.",
        )
    form = DocumentCreateForm(
        request.POST or None,
        in_force=current,
        initial={"title": f"Document d'orientation — {request.conference.name}"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            document = services.orientation_document_create(
                conference=request.conference, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Le document d'orientation est créé (version 1).")
            return redirect(_document_url(request, document))
    return TemplateResponse(
        request,
        "conventions/orientations/create.html",
        {"form": form, "title": "Nouveau document d'orientation", "in_force": current},
    )


def _section_form(request, document, section):
    title = "Ajouter une section" if section is None else f"Modifier « {section.title} »"
    form = SectionForm(
        request.POST or None,
        initial=SectionForm.initial_from(section, document.current_version.number),
    )
    if request.method == "POST" and form.is_valid():
        was = document.state
        try:
            version = services.orientation_section_save(
                conference=request.conference,
                actor=request.user,
                document=document,
                key=section.key if section else None,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            _version_message(
                request, version, restarted=version is not None and was != State.BROUILLON
            )
            anchor = f"section-{section.key}" if section else ""
            return redirect(_document_url(request, document, anchor))
    return TemplateResponse(
        request,
        "conventions/orientations/section_form.html",
        {
            "form": form,
            "title": title,
            "document": document,
            "section": section,
            "breadcrumb_links": _crumbs(request, document),
        },
    )


@require_http_methods(["GET", "POST"])
@requires("orientations.edit")
def orientation_section_add(request, document_id):
    document = selectors.access_document(document_id=document_id)
    if "edit" not in circuit.abilities(request.roles, document):
        return _not_now(request, document)
    return _section_form(request, document, None)


@require_http_methods(["GET", "POST"])
@requires("orientations.edit")
def orientation_section_edit(request, document_id, section_key):
    document = selectors.access_document(document_id=document_id)
    section = selectors.access_section(document=document, key=section_key)
    if "edit" not in circuit.abilities(request.roles, document):
        return _not_now(request, document)
    return _section_form(request, document, section)


@require_POST
@requires("orientations.edit")
def orientation_section_remove(request, document_id, section_key):
    document = selectors.access_document(document_id=document_id)
    section = selectors.access_section(document=document, key=section_key)
    if "edit" not in circuit.abilities(request.roles, document):
        return _not_now(request, document)
    was = document.state
    try:
        version = services.orientation_section_remove(
            conference=request.conference,
            actor=request.user,
            document=document,
            base_version=_int(request.POST.get("base_version")),
            key=section.key,
        )
    except ValidationError as error:
        return _refuse(request, document, " ".join(error.messages))
    _version_message(request, version, restarted=was != State.BROUILLON)
    return redirect(_document_url(request, document))


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_http_methods(["GET", "POST"])
@requires("orientations.edit")
def orientation_reorder(request, document_id):
    document = selectors.access_document(document_id=document_id)
    if "edit" not in circuit.abilities(request.roles, document):
        return _not_now(request, document)
    sections = selectors.sections_of(document.current_version)
    form = ReorderForm(
        request.POST or None,
        sections=sections,
        initial={"base_version": document.current_version.number},
    )
    if request.method == "POST" and form.is_valid():
        was = document.state
        try:
            version = services.orientation_sections_reorder(
                conference=request.conference,
                actor=request.user,
                document=document,
                base_version=form.cleaned_data["base_version"],
                keys=form.ordered_keys(),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            _version_message(
                request, version, restarted=version is not None and was != State.BROUILLON
            )
            return redirect(_document_url(request, document))
    return TemplateResponse(
        request,
        "conventions/orientations/reorder.html",
        {
            "form": form,
            "title": "Ordre des sections",
            "document": document,
            "breadcrumb_links": _crumbs(request, document),
        },
    )


# --- Comments -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires("orientations.comment")
def orientation_comment(request, document_id, section_key):
    document = selectors.access_document(document_id=document_id)
    section = selectors.access_section(document=document, key=section_key)
    if "comment" not in circuit.abilities(request.roles, document):
        return _refuse(request, document, "Les commentaires sont clos sur ce document.")
    form = CommentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.orientation_comment_add(
                conference=request.conference,
                actor=request.user,
                document=document,
                key=section.key,
                body=form.cleaned_data["body"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Votre commentaire est publié.")
            return redirect(_document_url(request, document, f"section-{section.key}"))
    return TemplateResponse(
        request,
        "conventions/orientations/comment_form.html",
        {
            "form": form,
            "title": f"Commenter « {section.title} »",
            "document": document,
            "section": section,
            "breadcrumb_links": _crumbs(request, document),
        },
    )


@require_POST
@requires("orientations.resolve_comments")
def orientation_comment_resolve(request, document_id, comment_id):
    document = selectors.access_document(document_id=document_id)
    comment = selectors.access_comment(document=document, comment_id=comment_id)
    try:
        services.orientation_comment_resolve(
            conference=request.conference, actor=request.user, comment=comment
        )
    except ValidationError as error:
        return _refuse(request, document, " ".join(error.messages))
    messages.success(request, f"Le commentaire de {comment.author_label} est résolu.")
    return redirect(_document_url(request, document, f"section-{comment.section_key}"))


# --- The PDF (conventions/pdf/orientations.py) -----------------------------------------


@require_POST
@requires("documents.generate")
def orientation_pdf(request, document_id):
    document = selectors.access_document(document_id=document_id)
    version = selectors.access_version(
        document=document, number=request.POST.get("version") or document.current_version.number
    )
    document_request(
        conference=request.conference,
        actor=request.user,
        kind=DocumentKind.ORIENTATIONS,
        title=orientations_title(document, version.number),
        subject_type="conventions.orientationdocument",
        subject_id=str(document.public_id),
        parameters={"version": version.number},
    )
    messages.success(
        request,
        f"La production du PDF de la version {version.number} est lancée ; il apparaîtra dans la liste des documents dès qu'il sera scellé.",
    )
    return redirect("document_list", conference_slug=request.conference.slug)


# --- The circuit ----------------------------------------------------------------------


def _step_view(step: circuit.Transition):
    """The page and the POST of one step of the circuit (one view per step: each declares
    its own permission)."""

    @require_http_methods(["GET", "POST"])
    def view(request, document_id):
        document = selectors.access_document(document_id=document_id)
        if step.name not in circuit.abilities(request.roles, document):
            return _not_now(request, document)
        form_class = step_form_class(step)
        form = form_class(
            request.POST or None,
            request.FILES or None,
            initial={"base_version": document.current_version.number},
        )
        if request.method == "POST" and form.is_valid():
            try:
                services.orientation_transition_apply(
                    conference=request.conference,
                    actor=request.user,
                    document=document,
                    name=step.name,
                    base_version=form.cleaned_data["base_version"],
                    data=form.data_for_service(),
                    comment=form.cleaned_data["comment"],
                    attachment=form.attachment(),
                )
            except ValidationError as error:
                apply_service_errors(form, error)
            else:
                document.refresh_from_db(fields=["state"])
                messages.success(
                    request,
                    f"Étape enregistrée : le document est à l'état « {State(document.state).label.lower()} ».",
                )
                return redirect(_document_url(request, document))
        return TemplateResponse(
            request,
            "conventions/orientations/step_form.html",
            {
                "form": form,
                "title": step.label,
                "step": step,
                "document": document,
                "has_file": any(spec.kind == circuit.PDF for spec in step.fields),
                "breadcrumb_links": _crumbs(request, document),
            },
        )

    view.__name__ = view.__qualname__ = f"orientation_step_{step.name}"
    return requires(step.permission)(view)


@require_GET
@requires("orientations.advance")
def orientation_adopt(request, document_id):
    """CCH L.441-1-5: the conference adopts the orientations by a vote in session. The step
    is taken by the decision of the session (cil/governance), never entered by hand: this
    page says so and points to the sessions whose agenda submits the document."""
    from cil.governance.selectors import items_adopting

    document = selectors.access_document(document_id=document_id)
    if "adopter" not in circuit.abilities(request.roles, document):
        return _not_now(request, document)
    return TemplateResponse(
        request,
        "conventions/orientations/adopt.html",
        {
            "title": "Adoption par la conférence",
            "document": document,
            "items": items_adopting(document),
            "breadcrumb_links": _crumbs(request, document),
        },
    )


STEP_VIEWS = {step.name: _step_view(step) for step in circuit.MANUAL}
# The adoption is recorded by the decision of a session (see orientation_adopt).
STEP_VIEWS["adopter"] = orientation_adopt


urlpatterns = [
    path("orientations/", orientation_home, name="orientation_home"),
    path("orientations/nouveau/", orientation_create, name="orientation_create"),
    path("orientations/<uuid:document_id>/", orientation_detail, name="orientation_detail"),
    path(
        "orientations/<uuid:document_id>/sections/ajouter/",
        orientation_section_add,
        name="orientation_section_add",
    ),
    path(
        "orientations/<uuid:document_id>/sections/ordre/",
        orientation_reorder,
        name="orientation_reorder",
    ),
    path(
        "orientations/<uuid:document_id>/sections/<uuid:section_key>/",
        orientation_section_edit,
        name="orientation_section_edit",
    ),
    path(
        "orientations/<uuid:document_id>/sections/<uuid:section_key>/retirer/",
        orientation_section_remove,
        name="orientation_section_remove",
    ),
    path(
        "orientations/<uuid:document_id>/sections/<uuid:section_key>/commenter/",
        orientation_comment,
        name="orientation_comment",
    ),
    path(
        "orientations/<uuid:document_id>/commentaires/<uuid:comment_id>/resoudre/",
        orientation_comment_resolve,
        name="orientation_comment_resolve",
    ),
    path(
        "orientations/<uuid:document_id>/versions/",
        orientation_versions,
        name="orientation_versions",
    ),
    path(
        "orientations/<uuid:document_id>/versions/comparer/",
        orientation_compare,
        name="orientation_compare",
    ),
    path(
        "orientations/<uuid:document_id>/versions/<int:number>/",
        orientation_version,
        name="orientation_version",
    ),
    path("orientations/<uuid:document_id>/pdf/", orientation_pdf, name="orientation_pdf"),
    path(
        "orientations/<uuid:document_id>/etapes/<uuid:transition_id>/deliberation.pdf",
        orientation_attachment,
        name="orientation_attachment",
    ),
    *(
        path(
            f"orientations/<uuid:document_id>/etapes/{step.slug}/",
            STEP_VIEWS[step.name],
            name=step.url_name,
        )
        for step in circuit.MANUAL
    ),
]
