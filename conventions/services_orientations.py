"""Every change of the document d'orientation. One transaction each, one audit entry each.

The rules of the circuit are in conventions/circuit.py; every write here asks
`circuit.abilities()` whether the actor may do it, with the actor's roles in the open
conference scope: the view's role check is not the only one.
"""

import hashlib
import json
import uuid
from datetime import date

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from cil import audit
from cil.models import AuditAction, Conference, Role, User
from cil.outbox import enqueue_on_commit
from cil.permissions import has_permission
from conventions import circuit
from conventions.circuit import State
from conventions.emails_orientations import send_orientation_step_email
from conventions.models.orientations import (
    OrientationComment,
    OrientationDocument,
    OrientationPlacement,
    OrientationSection,
    OrientationTransition,
    OrientationVersion,
)
from conventions.selectors_orientations import sections_of

MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
TITLE_MAX = 255
BODY_MAX = 50_000
COMMENT_MAX = 5_000

# CCH L.441-1-5 (and its practice, domain-reference §1.5): what a document d'orientation
# covers. A new document starts from these sections, to be written.
LEGAL_OUTLINE: tuple[tuple[str, str], ...] = (
    (
        "Objectifs de mixité sociale et d'équilibre entre les territoires",
        "Objectifs d'attribution hors des quartiers prioritaires aux demandeurs du premier quartile, et dans les quartiers prioritaires aux demandeurs des autres quartiles (article L.441-1 du CCH).",
    ),
    (
        "Relogement des publics prioritaires et des ménages concernés par le renouvellement urbain",
        "Objectifs de relogement des ménages reconnus DALO, des publics prioritaires de l'article L.441-1 et des ménages relogés au titre du renouvellement urbain.",
    ),
    (
        "Attributions et mutations dans le parc social",
        "Objectifs en matière d'attributions et de mutations.",
    ),
    (
        "Modalités de relogement et de coopération entre bailleurs et réservataires",
        "Modalités de relogement de ces publics et de coopération entre bailleurs sociaux et titulaires de droits de réservation.",
    ),
)

DOCUMENT_FIELDS = ["title", "state"]


def _fail(field: str | None, message: str):
    raise ValidationError({field: message} if field else message)


# --- Who may do what ------------------------------------------------------------------


def actor_roles(actor: User | None) -> frozenset[str]:
    """The actor's roles in the conference whose scope is open."""
    if actor is None:
        return frozenset()
    return frozenset(
        Role.objects.filter(
            access__user=actor, access__is_active=True, access__user__is_active=True
        ).values_list("name", flat=True)
    )


def _check(*, actor: User | None, document: OrientationDocument, ability: str, permission: str):
    """PermissionDenied for a role without `permission`; a French error when the role may,
    but not in the document's current state."""
    roles = actor_roles(actor)
    if not has_permission(roles, permission):
        raise PermissionDenied
    if ability not in circuit.abilities(roles, document):
        label = State(document.state).label.lower()
        if not document.is_current:
            _fail(None, "Ce document n'est plus le document courant : il ne peut plus changer.")
        _fail(None, f"Ce n'est pas possible quand le document est à l'état « {label} ».")


def _same_conference(conference: Conference, obj) -> None:
    if obj.conference_id != conference.pk:
        raise PermissionDenied("Objet d'une autre conférence.")


def _lock(conference: Conference, document: OrientationDocument) -> OrientationDocument:
    """The document re-read under a row lock: concurrent writes on one document queue up."""
    _same_conference(conference, document)
    return OrientationDocument.objects.select_for_update().get(pk=document.pk)


def _check_base(document: OrientationDocument, base_version: int | None) -> None:
    """Refuse a change prepared on a version that is no longer the current one."""
    current = document.current_version.number if document.current_version_id else 0
    if base_version is not None and base_version != current:
        _fail(
            None,
            f"Le document a changé entre-temps (version {current}) : rechargez la page et reprenez votre modification.",
        )


def _label(actor: User | None) -> str:
    if actor is None:
        return "plateforme"
    return actor.get_full_name() or actor.email


# --- Versions -------------------------------------------------------------------------


def canonical_content(title: str, sections: list[OrientationSection]) -> dict:
    return {
        "title": title,
        "sections": [
            {
                "key": str(section.key),
                "title": section.title,
                "body": section.body,
                "objectives": {
                    rule: None if value is None else str(value)
                    for rule, value in (
                        ("r1", section.objective_r1),
                        ("r2", section.objective_r2),
                        ("r3", section.objective_r3),
                    )
                },
            }
            for section in sections
        ],
    }


def fingerprint(title: str, sections: list[OrientationSection]) -> str:
    payload = json.dumps(
        canonical_content(title, sections),
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def _new_version(
    *,
    conference: Conference,
    actor: User | None,
    document: OrientationDocument,
    sections: list[OrientationSection],
    change_note: str,
) -> OrientationVersion:
    """Write version n+1 holding `sections` (placements only: texts are shared). After
    submission, a change of content restarts the circuit from the draft."""
    previous = document.current_version
    version = OrientationVersion.objects.create(
        conference=conference,
        document=document,
        number=(previous.number + 1) if previous else 1,
        title=document.title,
        change_note=change_note[:500],
        content_sha256=fingerprint(document.title, sections),
        created_by=actor,
    )
    OrientationPlacement.objects.bulk_create(
        OrientationPlacement(conference=conference, version=version, section=section, order=order)
        for order, section in enumerate(sections, start=1)
    )
    document.current_version = version
    if document.state != State.BROUILLON:
        _record_transition(
            conference=conference,
            actor=actor,
            document=document,
            step=circuit.transition("reprendre"),
            data={"version": version.number, "motif": change_note},
            comment="Le contenu a été modifié après la soumission : une nouvelle version est créée et le circuit reprend au brouillon.",
        )
    document.save(update_fields=["current_version", "state", "updated_at"])
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=document,
        changes={"version": [previous.number if previous else None, version.number]}
        | ({"modification": [None, change_note]} if change_note else {}),
    )
    return version


def _new_section(
    *,
    conference: Conference,
    document: OrientationDocument,
    key: uuid.UUID | None,
    title: str,
    body: str,
    objective_r1=None,
    objective_r2=None,
    objective_r3=None,
) -> OrientationSection:
    section = OrientationSection(
        conference=conference,
        document=document,
        key=key or uuid.uuid4(),
        title=(title or "").strip(),
        body=_normalise(body),
        objective_r1=objective_r1,
        objective_r2=objective_r2,
        objective_r3=objective_r3,
    )
    if not section.title:
        _fail("title", "Le titre de la section est obligatoire.")
    if len(section.body) > BODY_MAX:
        _fail("body", f"Le texte d'une section ne peut pas dépasser {BODY_MAX} caractères.")
    section.full_clean(exclude=["document", "conference"])
    return section


def _normalise(body: str) -> str:
    lines = (body or "").replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _same_text(a: OrientationSection, b: OrientationSection) -> bool:
    return (a.title, a.body, a.objective_r1, a.objective_r2, a.objective_r3) == (
        b.title,
        b.body,
        b.objective_r1,
        b.objective_r2,
        b.objective_r3,
    )


# --- The document ---------------------------------------------------------------------


START_OUTLINE = "plan"
START_EMPTY = "vide"
START_IN_FORCE = "en_vigueur"


@transaction.atomic
def orientation_document_create(
    *, conference: Conference, actor: User | None, title: str, start_from: str = START_OUTLINE
) -> OrientationDocument:
    """Start the conference's document d'orientation, or the revision of the one in force
    (which stays in force until the revision enters into force)."""
    if not has_permission(actor_roles(actor), "orientations.edit"):
        raise PermissionDenied
    current = OrientationDocument.objects.select_for_update().filter(is_current=True).first()
    if current is not None and current.state != State.EN_VIGUEUR:
        _fail(
            None,
            "Un document d'orientation est déjà en préparation : modifiez-le plutôt que d'en créer un autre.",
        )
    title = (title or "").strip()
    if not title:
        _fail("title", "L'intitulé est obligatoire.")
    if start_from == START_IN_FORCE and current is None:
        _fail("start_from", "Il n'y a pas de document en vigueur à reprendre.")
    if current is not None:
        current.is_current = False
        current.save(update_fields=["is_current", "updated_at"])
    document = OrientationDocument.objects.create(
        conference=conference,
        title=title[:TITLE_MAX],
        revises=current,
        created_by=actor,
    )
    if start_from == START_IN_FORCE:
        sources = [
            (s.key, s.title, s.body, s.objective_r1, s.objective_r2, s.objective_r3)
            for s in sections_of(current.current_version)
        ]
        note = f"Révision du document en vigueur (version {current.current_version.number})"
    elif start_from == START_EMPTY:
        sources, note = [], "Création"
    else:
        sources = [(None, t, b, None, None, None) for t, b in LEGAL_OUTLINE]
        note = "Création à partir du plan de l'article L.441-1-5 du CCH"
    sections = [
        _new_section(
            conference=conference,
            document=document,
            key=key,
            title=t,
            body=b,
            objective_r1=r1,
            objective_r2=r2,
            objective_r3=r3,
        )
        for key, t, b, r1, r2, r3 in sources
    ]
    OrientationSection.objects.bulk_create(sections)
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.CREATE,
        obj=document,
        changes=audit.diff({}, audit.snapshot(document, DOCUMENT_FIELDS)),
    )
    _new_version(
        conference=conference, actor=actor, document=document, sections=sections, change_note=note
    )
    return document


@transaction.atomic
def orientation_section_save(
    *,
    conference: Conference,
    actor: User | None,
    document: OrientationDocument,
    base_version: int | None,
    key: uuid.UUID | None,
    title: str,
    body: str,
    objective_r1=None,
    objective_r2=None,
    objective_r3=None,
) -> OrientationVersion | None:
    """Change a section (`key`) or add one at the end (key None). Writes a new version, or
    returns None when nothing changed."""
    document = _lock(conference, document)
    _check(actor=actor, document=document, ability="edit", permission="orientations.edit")
    _check_base(document, base_version)
    sections = sections_of(document.current_version)
    section = _new_section(
        conference=conference,
        document=document,
        key=key,
        title=title,
        body=body,
        objective_r1=objective_r1,
        objective_r2=objective_r2,
        objective_r3=objective_r3,
    )
    if key is None:
        sections.append(section)
        note = f"Section « {section.title} » ajoutée"
    else:
        index = next((i for i, s in enumerate(sections) if s.key == key), None)
        if index is None:
            _fail(None, "Cette section n'est pas dans la version courante du document.")
        if _same_text(sections[index], section):
            return None
        sections[index] = section
        note = f"Section « {section.title} » modifiée"
    section.save()
    return _new_version(
        conference=conference, actor=actor, document=document, sections=sections, change_note=note
    )


@transaction.atomic
def orientation_section_remove(
    *,
    conference: Conference,
    actor: User | None,
    document: OrientationDocument,
    base_version: int | None,
    key: uuid.UUID,
) -> OrientationVersion:
    document = _lock(conference, document)
    _check(actor=actor, document=document, ability="edit", permission="orientations.edit")
    _check_base(document, base_version)
    sections = sections_of(document.current_version)
    removed = next((s for s in sections if s.key == key), None)
    if removed is None:
        _fail(None, "Cette section n'est pas dans la version courante du document.")
    return _new_version(
        conference=conference,
        actor=actor,
        document=document,
        sections=[s for s in sections if s.key != key],
        change_note=f"Section « {removed.title} » retirée",
    )


@transaction.atomic
def orientation_sections_reorder(
    *,
    conference: Conference,
    actor: User | None,
    document: OrientationDocument,
    base_version: int | None,
    keys: list[uuid.UUID],
) -> OrientationVersion | None:
    """Put the sections in the order of `keys` (all of them, once each). None if unchanged."""
    document = _lock(conference, document)
    _check(actor=actor, document=document, ability="edit", permission="orientations.edit")
    _check_base(document, base_version)
    sections = sections_of(document.current_version)
    by_key = {s.key: s for s in sections}
    if len(keys) != len(by_key) or set(keys) != set(by_key):
        _fail(None, "Chaque section doit recevoir une position, une seule fois.")
    if [s.key for s in sections] == list(keys):
        return None
    return _new_version(
        conference=conference,
        actor=actor,
        document=document,
        sections=[by_key[k] for k in keys],
        change_note="Sections réordonnées",
    )


# --- Comments -------------------------------------------------------------------------


@transaction.atomic
def orientation_comment_add(
    *,
    conference: Conference,
    actor: User,
    document: OrientationDocument,
    key: uuid.UUID,
    body: str,
) -> OrientationComment:
    """A member comments a section of the current version."""
    _same_conference(conference, document)
    document = OrientationDocument.objects.get(pk=document.pk)
    _check(actor=actor, document=document, ability="comment", permission="orientations.comment")
    body = _normalise(body)
    if not body:
        _fail("body", "Le commentaire est vide.")
    if len(body) > COMMENT_MAX:
        _fail("body", f"Un commentaire ne peut pas dépasser {COMMENT_MAX} caractères.")
    section = next((s for s in sections_of(document.current_version) if s.key == key), None)
    if section is None:
        _fail(None, "Cette section n'est pas dans la version courante du document.")
    comment = OrientationComment.objects.create(
        conference=conference,
        document=document,
        version=document.current_version,
        section=section,
        section_key=section.key,
        author=actor,
        author_label=_label(actor),
        organisation=actor.organisation,
        body=body,
    )
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.CREATE,
        obj=comment,
        object_repr=f"Commentaire sur « {section.title} »",
        changes={
            "section": [None, section.title],
            "version": [None, document.current_version.number],
        },
    )
    return comment


@transaction.atomic
def orientation_comment_resolve(
    *, conference: Conference, actor: User, comment: OrientationComment
) -> OrientationComment:
    _same_conference(conference, comment)
    comment = OrientationComment.objects.select_for_update().get(pk=comment.pk)
    document = OrientationDocument.objects.get(pk=comment.document_id)
    _check(
        actor=actor,
        document=document,
        ability="resolve_comments",
        permission="orientations.resolve_comments",
    )
    if comment.is_resolved:
        _fail(None, "Ce commentaire est déjà résolu.")
    comment.resolved_at = timezone.now()
    comment.resolved_by = actor
    comment.resolved_by_label = _label(actor)
    comment.save(update_fields=["resolved_at", "resolved_by", "resolved_by_label"])
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=comment,
        object_repr=f"Commentaire de {comment.author_label}",
        changes={"résolu": [False, True]},
    )
    return comment


# --- The circuit ----------------------------------------------------------------------


def check_pdf(upload) -> str:
    """Size and type of an uploaded PDF (the content, not the name the browser sends).
    Returns its SHA-256."""
    if upload is None:
        _fail(None, "Le fichier PDF est obligatoire.")
    if upload.size > MAX_ATTACHMENT_BYTES:
        _fail(None, f"Le fichier dépasse {MAX_ATTACHMENT_BYTES // (1024 * 1024)} Mo.")
    if not (upload.name or "").lower().endswith(".pdf"):
        _fail(None, "Le fichier doit être un PDF (extension .pdf).")
    upload.seek(0)
    head = upload.read(5)
    if head != b"%PDF-":
        _fail(None, "Le fichier n'est pas un PDF valide.")
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def _last_data(document: OrientationDocument, step_name: str) -> dict:
    last = (
        OrientationTransition.objects.filter(document=document, name=step_name)
        .order_by("-at", "-id")
        .first()
    )
    return last.data if last else {}


def _clean_step_data(
    document: OrientationDocument, step: circuit.Transition, data: dict, attachment
) -> dict:
    """The data the step records, checked against the circuit's field specs; JSON-ready."""
    clean: dict = {}
    today = timezone.localdate()
    for spec in step.fields:
        if spec.kind == circuit.PDF:
            if attachment is None:
                if spec.required:
                    _fail(spec.name, "Le fichier PDF est obligatoire.")
                continue
            try:
                check_pdf(attachment)
            except ValidationError as error:
                _fail(spec.name, error.messages[0])
            clean[spec.name] = (attachment.name or "")[:255]
            continue
        value = data.get(spec.name)
        if value in (None, ""):
            if spec.required:
                _fail(spec.name, "Ce champ est obligatoire.")
            continue
        if spec.kind == circuit.DATE:
            if not isinstance(value, date):
                _fail(spec.name, "Date attendue.")
            if spec.past_only and value > today:
                _fail(spec.name, "Cette date ne peut pas être dans le futur.")
            if spec.not_before:
                earlier = _last_data(document, spec.not_before[0]).get(spec.not_before[1])
                if earlier and value.isoformat() < earlier:
                    _fail(
                        spec.name,
                        f"Cette date ne peut pas précéder celle de l'étape précédente ({date.fromisoformat(earlier):%d/%m/%Y}).",
                    )
            clean[spec.name] = value.isoformat()
        elif spec.kind == circuit.COUNT:
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                _fail(spec.name, "Nombre entier positif ou nul attendu.")
            clean[spec.name] = value
        else:
            clean[spec.name] = str(value).strip()[:255]
    if step.name == "adopter" and clean["voix_pour"] <= clean["voix_contre"]:
        # Simple majority of the votes cast; the conference's règlement intérieur may set
        # another rule (to configure when sessions record the vote themselves).
        _fail(
            "voix_pour",
            "Le document n'est pas adopté : il faut plus de voix pour que de voix contre.",
        )
    return clean


def _record_transition(
    *,
    conference: Conference,
    actor: User | None,
    document: OrientationDocument,
    step: circuit.Transition,
    data: dict,
    comment: str = "",
) -> OrientationTransition:
    """Write the history row and move the document (the caller saves the document)."""
    row = OrientationTransition.objects.create(
        conference=conference,
        document=document,
        version=document.current_version,
        name=step.name,
        from_state=document.state,
        to_state=step.target,
        actor=actor,
        actor_label=_label(actor),
        organisation=getattr(actor, "organisation", None),
        data=data,
        comment=comment,
    )
    document.state = step.target
    return row


@transaction.atomic
def orientation_transition_apply(
    *,
    conference: Conference,
    actor: User,
    document: OrientationDocument,
    name: str,
    base_version: int | None,
    data: dict | None = None,
    comment: str = "",
    attachment=None,
    source: dict | None = None,
) -> OrientationTransition:
    """Take step `name` of the circuit. The e-mails of the step leave after the commit.

    The pages take the step « adopter » only through the decision of a session that voted
    it (cil/governance, `orientation_adopt_by_decision`); called directly, this records an
    adoption voted outside the platform (history, demo). `source` (JSON) is kept with the
    step's data under "source": what recorded it."""
    step = circuit.transition(name)
    if step.automatic:
        raise ValueError(f"L'étape {name!r} n'est jamais demandée par une personne.")
    document = _lock(conference, document)
    _check(actor=actor, document=document, ability=step.name, permission=step.permission)
    _check_base(document, base_version)
    comment = (comment or "").strip()
    if step.comment_required and not comment:
        _fail("comment", f"{step.comment_label} : ce champ est obligatoire.")
    clean = _clean_step_data(document, step, data or {}, attachment)
    if source:
        clean["source"] = source
    before = State(document.state).label
    row = _record_transition(
        conference=conference,
        actor=actor,
        document=document,
        step=step,
        data=clean,
        comment=comment[:COMMENT_MAX],
    )
    if attachment is not None:
        row.attachment_sha256 = check_pdf(attachment)
        row.attachment_name = (attachment.name or "deliberation.pdf")[:255]
        row.attachment.save(f"{row.public_id}.pdf", attachment, save=False)
        row.save(update_fields=["attachment", "attachment_name", "attachment_sha256"])
    fields = ["state", "updated_at"]
    if step.target == State.EN_VIGUEUR:
        document.effective_date = date.fromisoformat(clean["date_effet"])
        fields.append("effective_date")
        _replace_previous(conference=conference, actor=actor, document=document)
    document.save(update_fields=fields)
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=document,
        changes={"état": [before, State(document.state).label]}
        | ({"motif": [None, comment]} if comment else {}),
    )
    enqueue_on_commit(
        send_orientation_step_email, conference_id=conference.pk, transition_id=row.pk
    )
    return row


def orientation_adopt_by_decision(
    *,
    conference: Conference,
    actor: User,
    document: OrientationDocument,
    version_number: int,
    date_seance: date,
    voix_pour: int,
    voix_contre: int,
    abstentions: int,
    decision: dict,
    comment: str = "",
) -> OrientationTransition:
    """CCH L.441-1-5: the conference adopts the orientations by a vote in session. The
    decision of the session (cil/governance) takes the step « adopter » with the vote's
    result, on the version it voted (refused if the document changed since). `decision`
    names it: {"decision": public id, "numero": "2026-03", "seance": public id}."""
    return orientation_transition_apply(
        conference=conference,
        actor=actor,
        document=document,
        name="adopter",
        base_version=version_number,
        data={
            "date_seance": date_seance,
            "voix_pour": voix_pour,
            "voix_contre": voix_contre,
            "abstentions": abstentions,
        },
        comment=comment,
        source=decision,
    )


def _replace_previous(
    *, conference: Conference, actor: User, document: OrientationDocument
) -> None:
    """The revision enters into force: the document(s) it replaces are kept, as replaced."""
    step = circuit.transition("remplacer")
    for old in (
        OrientationDocument.objects.select_for_update()
        .filter(state=State.EN_VIGUEUR)
        .exclude(pk=document.pk)
    ):
        _record_transition(
            conference=conference,
            actor=actor,
            document=old,
            step=step,
            data={"remplace_par": str(document.public_id), "titre": document.title},
        )
        old.save(update_fields=["state", "updated_at"])
