"""The agenda of a session and the documents attached to its items."""

import hashlib
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cil import audit
from cil.governance.models import (
    AgendaAttachment,
    AgendaItem,
    ItemKind,
    Meeting,
    MeetingState,
    Minutes,
    MinutesState,
)
from cil.governance.services.common import fail, lock_meeting, require, same_conference
from cil.models import AuditAction, Conference, User
from conventions.circuit import State as OrientationState
from conventions.models import ConventionVersion, GeneratedDocument, OrientationDocument

ITEM_FIELDS = ["title", "description", "kind", "order"]
TITLE_MAX = 255
DESCRIPTION_MAX = 10_000

# Attached files: the formats a secretariat circulates, recognised by their first bytes
# (never by the name or the type the browser announces).
MAX_ATTACHMENT_BYTES = getattr(settings, "CIL_SESSION_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024)
ZIP = b"PK\x03\x04"
OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
FORMATS: dict[str, tuple[str, bytes | None]] = {
    "pdf": ("application/pdf", b"%PDF-"),
    "odt": ("application/vnd.oasis.opendocument.text", ZIP),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", ZIP),
    "odp": ("application/vnd.oasis.opendocument.presentation", ZIP),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", ZIP),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ZIP),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", ZIP),
    "doc": ("application/msword", OLE),
    "xls": ("application/vnd.ms-excel", OLE),
    "png": ("image/png", b"\x89PNG\r\n\x1a\n"),
    "jpg": ("image/jpeg", b"\xff\xd8\xff"),
    "jpeg": ("image/jpeg", b"\xff\xd8\xff"),
    "csv": ("text/csv", None),
    "txt": ("text/plain", None),
}
ACCEPTED = ", ".join(f".{extension}" for extension in FORMATS)


def delete_file_on_commit(field) -> None:
    """Remove a stored file once the transaction that forgets it commits (a rollback keeps
    both the row and its file)."""
    if field:
        transaction.on_commit(partial(field.storage.delete, field.name))


def _editable(meeting: Meeting) -> None:
    if not meeting.is_open:
        fail(
            None,
            f"La séance est {meeting.get_state_display().lower()} : son ordre du jour ne change plus.",
        )


# --- What an item decides on ------------------------------------------------------------


def _orientation_target():
    """The version of the document d'orientation the conference may adopt now: the current
    version of the current document, once the members' consultation is open."""
    document = (
        OrientationDocument.objects.select_related("current_version")
        .filter(is_current=True)
        .first()
    )
    if document is None or document.current_version_id is None:
        fail("kind", "La conférence n'a pas de document d'orientation en préparation.")
    if document.state != OrientationState.CONSULTATION:
        fail(
            "kind",
            f"Le document d'orientation est à l'état « {OrientationState(document.state).label.lower()} » : la conférence adopte un document soumis à la consultation des membres.",
        )
    return document.current_version


def eligible_minutes(meeting: Meeting):
    """The minutes this session may approve: those of earlier, closed sessions of the same
    body, not approved yet."""
    return (
        Minutes.objects.filter(
            meeting__body=meeting.body_id,
            meeting__state=MeetingState.CLOTUREE,
            meeting__starts_at__lt=meeting.starts_at,
            state=MinutesState.BROUILLON,
        )
        .select_related("meeting")
        .order_by("-meeting__starts_at")
    )


def _targets(meeting: Meeting, kind: str, cia_version, minutes) -> dict:
    targets = {"orientation_version": None, "cia_version": None, "minutes": None}
    if kind == ItemKind.ORIENTATIONS:
        targets["orientation_version"] = _orientation_target()
    elif kind == ItemKind.CIA:
        if cia_version is None:
            fail("cia_version", "Choisissez la version de la convention soumise à l'approbation.")
        targets["cia_version"] = cia_version
    elif kind == ItemKind.PROCES_VERBAL:
        if minutes is None:
            fail("minutes", "Choisissez le procès-verbal soumis à l'approbation.")
        if not eligible_minutes(meeting).filter(pk=minutes.pk).exists():
            fail(
                "minutes",
                "Ce procès-verbal ne peut pas être approuvé par cette séance : il doit s'agir d'une séance précédente et close de la même instance, dont le procès-verbal n'est pas encore approuvé.",
            )
        targets["minutes"] = minutes
    return targets


def default_title(kind: str, targets: dict) -> str:
    if kind == ItemKind.ORIENTATIONS:
        version = targets["orientation_version"]
        return f"Adoption du document d'orientation « {version.document.title} » (version {version.number})"
    if kind == ItemKind.CIA:
        return f"Approbation de la convention intercommunale d'attribution : « {targets['cia_version'].title} »"
    if kind == ItemKind.PROCES_VERBAL:
        day = timezone.localtime(targets["minutes"].meeting.starts_at)
        return f"Approbation du procès-verbal de la séance du {day:%d/%m/%Y}"
    return ""


# --- Items ------------------------------------------------------------------------------


@transaction.atomic
def item_save(
    *,
    conference: Conference,
    actor: User | None,
    meeting: Meeting,
    item: AgendaItem | None = None,
    kind: str,
    title: str = "",
    description: str = "",
    cia_version: ConventionVersion | None = None,
    minutes: Minutes | None = None,
) -> AgendaItem:
    """Add an item at the end of the agenda (item=None) or change one not voted yet. An
    item adopting the document d'orientation follows its current version."""
    require(actor, "sessions.manage")
    same_conference(conference, item, cia_version, minutes)
    meeting = lock_meeting(conference, meeting)
    _editable(meeting)
    creating = item is None
    if not creating:
        if item.meeting_id != meeting.pk:
            fail(None, "Ce point n'appartient pas à cette séance.")
        if hasattr(item, "decision"):
            fail(None, "Ce point a été voté : il ne change plus.")
    if kind not in ItemKind.values:
        fail("kind", "Nature de point inconnue.")
    targets = _targets(meeting, kind, cia_version, minutes)
    item = item or AgendaItem(
        conference=conference,
        meeting=meeting,
        order=(meeting.items.aggregate(last=Max("order"))["last"] or 0) + 1,
    )
    before = {} if creating else audit.snapshot(item, ITEM_FIELDS)
    item.kind = kind
    item.title = ((title or "").strip() or default_title(kind, targets))[:TITLE_MAX]
    item.description = (description or "").strip()
    for name, value in targets.items():
        setattr(item, name, value)
    if not item.title:
        fail("title", "L'intitulé du point est obligatoire.")
    if len(item.description) > DESCRIPTION_MAX:
        fail("description", f"La présentation ne peut pas dépasser {DESCRIPTION_MAX} caractères.")
    item.save()
    changes = audit.diff(before, audit.snapshot(item, ITEM_FIELDS))
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.CREATE if creating else AuditAction.UPDATE,
            obj=item,
            object_repr=f"{meeting} — point {item.order} : {item.title}",
            changes=changes,
        )
    return item


def _renumber(meeting: Meeting) -> None:
    for position, item in enumerate(meeting.items.order_by("order", "id"), start=1):
        if item.order != position:
            item.order = position
            item.save(update_fields=["order"])


@transaction.atomic
def item_remove(*, conference: Conference, actor: User | None, item: AgendaItem) -> None:
    require(actor, "sessions.manage")
    same_conference(conference, item)
    meeting = lock_meeting(conference, item.meeting)
    _editable(meeting)
    if hasattr(item, "decision"):
        fail(None, "Ce point a été voté : il ne peut plus être retiré.")
    title = item.title
    for attachment in item.attachments.all():
        delete_file_on_commit(attachment.file)
    item.delete()
    _renumber(meeting)
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.DELETE,
        obj=meeting,
        object_repr=f"{meeting} — point retiré : {title}",
        changes={"point": [title, None]},
    )


@transaction.atomic
def item_move(*, conference: Conference, actor: User | None, item: AgendaItem, up: bool) -> None:
    """Swap the item with its neighbour above (up) or below."""
    require(actor, "sessions.manage")
    same_conference(conference, item)
    meeting = lock_meeting(conference, item.meeting)
    _editable(meeting)
    _renumber(meeting)
    items = list(meeting.items.order_by("order", "id"))
    index = next(i for i, other in enumerate(items) if other.pk == item.pk)
    other_index = index - 1 if up else index + 1
    if not 0 <= other_index < len(items):
        return
    first, second = items[index], items[other_index]
    first.order, second.order = second.order, first.order
    first.save(update_fields=["order"])
    second.save(update_fields=["order"])
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=first,
        object_repr=f"{meeting} — point : {first.title}",
        changes={"ordre": [second.order, first.order]},
    )


# --- Attachments ------------------------------------------------------------------------


def check_upload(upload) -> tuple[str, str]:
    """(extension, content type) of an uploaded file, checked by its content; a French
    error naming the problem otherwise. Returns the SHA-256 through `digest_of`."""
    if upload is None:
        fail("file", "Choisissez un fichier.")
    name = upload.name or ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in FORMATS:
        fail("file", f"Format de fichier non accepté ({name}). Formats acceptés : {ACCEPTED}.")
    if upload.size == 0:
        fail("file", "Le fichier est vide.")
    if upload.size > MAX_ATTACHMENT_BYTES:
        fail("file", f"Le fichier dépasse {MAX_ATTACHMENT_BYTES // (1024 * 1024)} Mo.")
    content_type, magic = FORMATS[extension]
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    if magic is not None and not head.startswith(magic):
        fail("file", f"Le contenu du fichier ne correspond pas à son extension .{extension}.")
    if magic is None and b"\x00" in head:
        fail(
            "file",
            f"Le fichier .{extension} doit être un texte (il contient des données binaires).",
        )
    return extension, content_type


def digest_of(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


@transaction.atomic
def attachment_add(
    *,
    conference: Conference,
    actor: User | None,
    item: AgendaItem,
    title: str = "",
    upload=None,
    document: GeneratedDocument | None = None,
) -> AgendaAttachment:
    """Attach an uploaded file, or a sealed document produced by the platform, to an item."""
    require(actor, "sessions.manage")
    same_conference(conference, item, document)
    meeting = lock_meeting(conference, item.meeting)
    _editable(meeting)
    if (upload is None) == (document is None):
        fail(None, "Joignez soit un fichier, soit un document produit par la plateforme.")
    attachment = AgendaAttachment(conference=conference, item=item, created_by=actor)
    if document is not None:
        if not document.is_ready:
            fail("document", "Ce document n'est pas encore prêt.")
        attachment.document = document
        attachment.title = ((title or "").strip() or document.title)[:255]
        attachment.content_type = "application/pdf"
        attachment.size = document.size
        attachment.sha256 = document.sha256
    else:
        extension, content_type = check_upload(upload)
        attachment.original_name = (upload.name or "")[:255]
        attachment.title = ((title or "").strip() or attachment.original_name)[:255]
        attachment.content_type = content_type
        attachment.size = upload.size
        attachment.sha256 = digest_of(upload)
        attachment.file.save(f"piece.{extension}", upload, save=False)
    attachment.save()
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.CREATE,
        obj=attachment,
        object_repr=f"{meeting} — pièce jointe : {attachment.title}",
        changes={"point": [None, item.title], "pièce": [None, attachment.title]},
    )
    return attachment


@transaction.atomic
def attachment_remove(
    *, conference: Conference, actor: User | None, attachment: AgendaAttachment
) -> None:
    require(actor, "sessions.manage")
    same_conference(conference, attachment)
    meeting = lock_meeting(conference, attachment.item.meeting)
    _editable(meeting)
    title = attachment.title
    delete_file_on_commit(attachment.file)
    attachment.delete()
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.DELETE,
        obj=meeting,
        object_repr=f"{meeting} — pièce jointe retirée : {title}",
        changes={"pièce": [title, None]},
    )
