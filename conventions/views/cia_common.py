"""What the CIA views share: the lookups (inside the conference scope: another conference's
object is a 404) with the abilities check (refused: 403), the URLs of the convention page
and its breadcrumb, and the two shapes of a write: a form page whose service may refuse,
and a button that takes one step of the status machine."""

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from cil.views.forms import apply_service_errors
from conventions import selectors_cia as selectors
from conventions.models import ConventionVersion

# The rules of the CIA's objectives (in URLs) → their key in the bilan.
RULE_KEYS = {"r1": "r1_q1_hors_qpv", "r2": "r2_hors_q1_en_qpv", "r3": "r3_prioritaires_non_reserve"}


def abilities_of(request, convention, version, signatories=None) -> selectors.Abilities:
    return selectors.abilities(
        user=request.user,
        roles=request.roles,
        convention=convention,
        version=version,
        signatories=signatories,
    )


def version_of(version_id):
    """(convention, version) of a version id."""
    version = selectors.access_version(version_id=version_id)
    return version.convention, version


def draft_of(request, version_id):
    """(convention, version) of a draft the user may edit (the secretariat's), else 403."""
    convention, version = version_of(version_id)
    if not abilities_of(request, convention, version).edit_content:
        raise PermissionDenied
    return convention, version


def detail_url(request, convention, version: ConventionVersion | None = None) -> str:
    url = reverse(
        "cia_detail",
        kwargs={"conference_slug": request.conference.slug, "convention_id": convention.public_id},
    )
    return f"{url}?version={version.public_id}" if version is not None else url


def links(request, convention=None, version=None) -> list[tuple[str, str]]:
    """The breadcrumb above the page: the list, then the convention."""
    result = [
        (
            reverse("cia_list", kwargs={"conference_slug": request.conference.slug}),
            "Conventions d'attribution",
        )
    ]
    if convention is not None:
        result.append((detail_url(request, convention, version), convention.title))
    return result


def version_page(request, version, **context) -> dict:
    """The context of a form page about a version."""
    return {
        "version": version,
        "convention": version.convention,
        "links": links(request, version.convention, version),
        "cancel_url": detail_url(request, version.convention, version),
        **context,
    }


def form_page(
    request,
    form,
    *,
    save: Callable[[], Any],
    done: Callable[[Any], tuple[str, str]],
    template: str,
    context: dict,
) -> HttpResponse:
    """A page with a form that a service saves. On a valid POST, `save()` calls the service:
    its ValidationError lands on the form (on the field it names), nothing is written; once
    saved, `done(result)` gives the success message and the URL the browser goes to.
    Otherwise (GET, invalid form, refused) the page with the form and `context`."""
    if request.method == "POST" and form.is_valid():
        try:
            result = save()
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            message, url = done(result)
            messages.success(request, message)
            return redirect(url)
    return TemplateResponse(request, template, {"form": form, **context})


def status_step(request, version_id, *, ability: str, service, success: str) -> HttpResponse:
    """A button of the status machine: the user's abilities must allow it (`ability`, an
    attribute of `Abilities`), the service takes the step or says why not; back to the
    version's page either way."""
    convention, version = version_of(version_id)
    if not getattr(abilities_of(request, convention, version), ability):
        raise PermissionDenied
    try:
        service(conference=request.conference, actor=request.user, version=version)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, success)
    return redirect(detail_url(request, convention, version))
