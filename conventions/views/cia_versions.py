"""The versions of a CIA: the secretariat edits a draft's text, creates an avenant of a
signed convention, puts a version to signature and declares a signed one in force."""

from django.core.exceptions import PermissionDenied
from django.urls import path
from django.views.decorators.http import require_http_methods, require_POST

from cil.concurrency import instance_fingerprint
from cil.views.decorators import requires
from conventions import selectors_cia as selectors
from conventions import services_cia as services
from conventions.forms_cia import AvenantForm, VersionForm
from conventions.views.cia_common import (
    abilities_of,
    detail_url,
    draft_of,
    form_page,
    links,
    status_step,
    version_page,
)


@require_http_methods(["GET", "POST"])
@requires("cia.edit")
def cia_version_edit(request, version_id):
    convention, version = draft_of(request, version_id)
    form = VersionForm(
        request.POST or None,
        initial={
            **{f: getattr(version, f) for f in services.VERSION_FIELDS},
            "fingerprint": instance_fingerprint(version, services.VERSION_FIELDS),
        },
    )
    return form_page(
        request,
        form,
        save=lambda: services.version_update(
            conference=request.conference,
            actor=request.user,
            version=version,
            fingerprint=form.submitted_fingerprint,
            **form.cleaned_data,
        ),
        done=lambda _version: (
            "Le texte de la version est enregistré.",
            detail_url(request, convention, version),
        ),
        template="conventions/cia/form.html",
        context=version_page(
            request,
            version,
            title=f"Modifier {version.title}",
            intro="Le texte reste modifiable tant que la version n'est pas mise en signature.",
        ),
    )


@require_http_methods(["GET", "POST"])
@requires("cia.edit")
def cia_avenant_create(request, convention_id):
    convention = selectors.access_convention(convention_id=convention_id)
    if not abilities_of(request, convention, None).create_avenant:
        raise PermissionDenied
    form = AvenantForm(request.POST or None)
    return form_page(
        request,
        form,
        save=lambda: services.avenant_create(
            conference=request.conference,
            actor=request.user,
            convention=convention,
            **form.cleaned_data,
        ),
        done=lambda avenant: (
            "L'avenant est créé en brouillon, à partir de la version signée : modifiez ses objectifs puis mettez-le en signature.",
            detail_url(request, convention, avenant),
        ),
        template="conventions/cia/form.html",
        context={
            "title": f"Nouvel avenant — {convention.title}",
            "intro": "L'avenant reprend le texte et les objectifs de la dernière version signée ; vous les modifierez ensuite, avant de le mettre en signature. La version signée et ses signatures restent inchangées.",
            "links": links(request, convention),
            "cancel_url": detail_url(request, convention),
        },
    )


@require_POST
@requires("cia.edit")
def cia_submit(request, version_id):
    return status_step(
        request,
        version_id,
        ability="submit",
        service=services.version_submit,
        success="La version est en signature : son contenu est figé. Chaque organisation signataire désigne maintenant son signataire.",
    )


@require_POST
@requires("cia.edit")
def cia_enter_into_force(request, version_id):
    return status_step(
        request,
        version_id,
        ability="enter_into_force",
        service=services.version_enter_into_force,
        success="La version est en vigueur.",
    )


urlpatterns = [
    path("cia/<uuid:convention_id>/avenant/", cia_avenant_create, name="cia_avenant_create"),
    path("cia/versions/<uuid:version_id>/modifier/", cia_version_edit, name="cia_version_edit"),
    path("cia/versions/<uuid:version_id>/mise-en-signature/", cia_submit, name="cia_submit"),
    path(
        "cia/versions/<uuid:version_id>/entree-en-vigueur/",
        cia_enter_into_force,
        name="cia_enter_into_force",
    ),
]
