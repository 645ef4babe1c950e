"""The signature of a CIA version: the secretariat chooses the signatory organisations of a
draft; once the version is in signature, each organisation (or the secretariat) designates
its signer, who signs with their password on the SHA-256 of the frozen document, which
anyone of the conference may download."""

from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404
from django.urls import path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from cil.views.decorators import requires
from conventions import selectors_cia as selectors
from conventions import services_cia as services
from conventions import signing
from conventions.forms_cia import DesignateForm, SignatoriesForm, SignForm
from conventions.views.cia_common import (
    abilities_of,
    detail_url,
    draft_of,
    form_page,
    version_of,
    version_page,
)


@require_http_methods(["GET", "POST"])
@requires("cia.edit")
def cia_signatories_edit(request, version_id):
    convention, version = draft_of(request, version_id)
    form = SignatoriesForm(
        request.POST or None,
        candidates=selectors.signatory_candidates(),
        initial={
            "organisations": [
                str(s.organisation.public_id) for s in selectors.signatories_of(version)
            ]
        },
    )
    return form_page(
        request,
        form,
        save=lambda: services.signatories_set(
            conference=request.conference,
            actor=request.user,
            version=version,
            organisations=form.cleaned_data["organisations"],
        ),
        done=lambda _signatories: (
            "La liste des signataires est enregistrée.",
            detail_url(request, convention, version),
        ),
        template="conventions/cia/signatories_form.html",
        context=version_page(request, version, title="Signataires de la convention"),
    )


def _signing_context(request, version_id):
    """The version, its signatories and what the user may do on it (designate, sign)."""
    convention, version = version_of(version_id)
    signatories = selectors.signatories_of(version)
    return version, signatories, abilities_of(request, convention, version, signatories)


@require_http_methods(["GET", "POST"])
@requires("cia.designate_signer")
def cia_designate(request, version_id):
    version, signatories, abilities = _signing_context(request, version_id)
    if not abilities.designate:
        raise PermissionDenied
    allowed = [s for s in signatories if s.pk in abilities.designate_for]
    form = DesignateForm(
        request.POST or None,
        signatories=allowed,
        people=services.signer_candidates_of(allowed),
    )
    return form_page(
        request,
        form,
        save=lambda: services.signer_designate(
            conference=request.conference,
            actor=request.user,
            signatory=form.cleaned_data["signatory"],
            signer=form.cleaned_data["signer"],
        ),
        done=lambda signatory: (
            f"{signatory.signer} est désigné·e pour signer au nom de {signatory.organisation.name}.",
            detail_url(request, version.convention, version),
        ),
        template="conventions/cia/designate_form.html",
        context=version_page(request, version, signatories=allowed, title="Désigner un signataire"),
    )


@never_cache
@require_http_methods(["GET", "POST"])
@requires("cia.sign")
def cia_sign(request, version_id):
    version, signatories, abilities = _signing_context(request, version_id)
    if not abilities.sign:
        raise PermissionDenied
    signatory = next(s for s in signatories if s.pk == abilities.sign_as)
    form = SignForm(
        request.POST or None,
        initial={"sha256": version.canonical_sha256},
        second_factor=signing.second_factor_required(request.user),
    )
    return form_page(
        request,
        form,
        save=lambda: services.version_sign(
            conference=request.conference,
            actor=request.user,
            version=version,
            password=form.cleaned_data["password"],
            confirmed_sha256=form.cleaned_data["sha256"],
            otp_code=form.cleaned_data.get("otp_code", ""),
        ),
        done=lambda _signatory: (
            f"Vous avez signé la version au nom de {signatory.organisation.name}.",
            detail_url(request, version.convention, version),
        ),
        template="conventions/cia/sign_form.html",
        context=version_page(
            request,
            version,
            signatory=signatory,
            sha256_grouped=signing.grouped(version.canonical_sha256),
            title="Signer la convention",
        ),
    )


@require_GET
@requires("cia.view")
def cia_version_document(request, version_id):
    """The exact bytes the signatories sign (the version's canonical PDF)."""
    _convention, version = version_of(version_id)
    if not version.canonical_file:
        raise Http404("Cette version n'est pas encore en signature.")
    return FileResponse(
        version.canonical_file.open("rb"),
        as_attachment=True,
        filename=f"cia-version-{version.number}-{version.canonical_sha256[:12]}.pdf",
        content_type="application/pdf",
    )


urlpatterns = [
    path(
        "cia/versions/<uuid:version_id>/signataires/",
        cia_signatories_edit,
        name="cia_signatories_edit",
    ),
    path("cia/versions/<uuid:version_id>/designation/", cia_designate, name="cia_designate"),
    path("cia/versions/<uuid:version_id>/signature/", cia_sign, name="cia_sign"),
    path(
        "cia/versions/<uuid:version_id>/document.pdf",
        cia_version_document,
        name="cia_version_document",
    ),
]
