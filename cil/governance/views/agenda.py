"""The agenda of a session: items, their order, the documents attached to them."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.utils.text import get_valid_filename
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cil.governance import selectors
from cil.governance.forms import AttachmentForm, ItemForm
from cil.governance.services import agenda as services
from cil.governance.views.common import (
    abilities_of,
    bound,
    crumbs,
    meeting_url,
    not_now,
    post_data,
    refuse,
    url_for,
)
from cil.permissions import PERMISSIONS
from cil.roles import RoleName
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors
from conventions.models import ConventionVersion, DocumentStatus, GeneratedDocument

# Produced documents an agenda may carry: those every member may read.
MEMBER_READABLE = [name for name, roles in PERMISSIONS.items() if roles == frozenset(RoleName)]


def _item_form(request, meeting, item=None):
    initial = {}
    if item is not None:
        initial = {
            "kind": item.kind,
            "title": item.title,
            "description": item.description,
            "cia_version": str(item.cia_version.public_id) if item.cia_version_id else "",
            "minutes": str(item.minutes.public_id) if item.minutes_id else "",
        }
    form = ItemForm(
        post_data(request),
        initial=initial or {"kind": "information"},
        cia_versions=ConventionVersion.objects.select_related("convention").order_by(
            "-convention__start_year", "-number"
        ),
        minutes=services.eligible_minutes(meeting),
    )
    if request.method == "POST" and form.is_valid():
        try:
            saved = services.item_save(
                conference=request.conference,
                actor=request.user,
                meeting=meeting,
                item=item,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Point {saved.order} enregistré : « {saved.title} ».")
            return redirect(meeting_url(request, meeting, f"point-{saved.public_id}"))
    return TemplateResponse(
        request,
        "governance/item_form.html",
        {
            "form": form,
            "title": "Ajouter un point à l'ordre du jour"
            if item is None
            else f"Modifier le point {item.order}",
            "meeting": meeting,
            "breadcrumb_links": crumbs(request, meeting),
        },
    )


@require_http_methods(["GET", "POST"])
@requires("sessions.manage")
def item_add(request, meeting_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    if "edit_agenda" not in abilities_of(request, meeting):
        return not_now(request, meeting, "edit_agenda")
    return _item_form(request, meeting)


@require_http_methods(["GET", "POST"])
@requires("sessions.manage")
def item_edit(request, meeting_id, item_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    item = selectors.access_item(meeting=meeting, item_id=item_id)
    if "edit_agenda" not in abilities_of(request, meeting):
        return not_now(request, meeting, "edit_agenda")
    if hasattr(item, "decision"):
        return refuse(request, meeting, "Ce point a été voté : il ne change plus.")
    return _item_form(request, meeting, item)


@require_POST
@requires("sessions.manage")
def item_remove(request, meeting_id, item_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    item = selectors.access_item(meeting=meeting, item_id=item_id)
    try:
        services.item_remove(conference=request.conference, actor=request.user, item=item)
    except ValidationError as error:
        return refuse(request, meeting, " ".join(error.messages))
    messages.success(request, f"Le point « {item.title} » est retiré de l'ordre du jour.")
    return redirect(meeting_url(request, meeting, "ordre-du-jour"))


@require_POST
@requires("sessions.manage")
def item_move(request, meeting_id, item_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    item = selectors.access_item(meeting=meeting, item_id=item_id)
    try:
        services.item_move(
            conference=request.conference,
            actor=request.user,
            item=item,
            up=request.POST.get("direction") != "bas",
        )
    except ValidationError as error:
        return refuse(request, meeting, " ".join(error.messages))
    return redirect(meeting_url(request, meeting, "ordre-du-jour"))


@require_http_methods(["GET", "POST"])
@requires("sessions.manage")
def attachment_add(request, meeting_id, item_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    item = selectors.access_item(meeting=meeting, item_id=item_id)
    if "edit_agenda" not in abilities_of(request, meeting):
        return not_now(request, meeting, "edit_agenda")
    documents = GeneratedDocument.objects.filter(
        status=DocumentStatus.READY, view_permission__in=MEMBER_READABLE
    ).order_by("-created_at")[:100]
    form = AttachmentForm(*bound(request), documents=documents)
    if request.method == "POST" and form.is_valid():
        try:
            attachment = services.attachment_add(
                conference=request.conference,
                actor=request.user,
                item=item,
                title=form.cleaned_data["title"],
                upload=form.cleaned_data.get("file"),
                document=form.cleaned_data.get("document"),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"« {attachment.title} » est joint au point {item.order}.")
            return redirect(meeting_url(request, meeting, f"point-{item.public_id}"))
    return TemplateResponse(
        request,
        "governance/attachment_form.html",
        {
            "form": form,
            "title": f"Joindre un document au point {item.order}",
            "meeting": meeting,
            "item": item,
            "breadcrumb_links": crumbs(request, meeting),
        },
    )


@require_GET
@requires("sessions.view")
def attachment_download(request, meeting_id, attachment_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    attachment = selectors.access_attachment(meeting=meeting, attachment_id=attachment_id)
    if attachment.document_id:
        return redirect(
            url_for(request, "document_download", document_id=attachment.document.public_id)
        )
    name = get_valid_filename(attachment.original_name) or f"piece-{attachment.public_id}"
    return FileResponse(
        attachment.file.open("rb"),
        as_attachment=True,
        filename=name,
        content_type=attachment.content_type or "application/octet-stream",
    )


@require_POST
@requires("sessions.manage")
def attachment_remove(request, meeting_id, attachment_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    attachment = selectors.access_attachment(meeting=meeting, attachment_id=attachment_id)
    try:
        services.attachment_remove(
            conference=request.conference, actor=request.user, attachment=attachment
        )
    except ValidationError as error:
        return refuse(request, meeting, " ".join(error.messages))
    messages.success(request, f"« {attachment.title} » est retiré.")
    return redirect(meeting_url(request, meeting, f"point-{attachment.item.public_id}"))
