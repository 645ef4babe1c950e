"""Reads of produced documents for the pages (inside the conference scope)."""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from cil.permissions import has_permission, permissions_of
from conventions.models import GeneratedDocument


def documents_visible(*, roles: Iterable[str]) -> QuerySet[GeneratedDocument]:
    """The conference's documents whose view permission the roles grant, newest first."""
    return GeneratedDocument.objects.filter(
        view_permission__in=permissions_of(roles)
    ).select_related("created_by")


def access_document(*, roles: Iterable[str], document_id) -> GeneratedDocument:
    """The document of the current conference named by its public id.

    Another conference's document (or none): 404, as the scope hides it. A document of this
    conference whose view permission the roles lack: 403.
    """
    document = GeneratedDocument.objects.filter(public_id=document_id).first()
    if document is None:
        raise Http404("Document introuvable.")
    if not has_permission(roles, document.view_permission):
        raise PermissionDenied
    return document
