"""The approval circuit of the document d'orientation, as data, and what a user may do.

CCH L.441-1-5: the orientations are drafted by the conference's secretariat, adopted by the
conference (plenary vote), then approved by the EPCI (a deliberation of its council) and by
the préfet (agrément). domain-reference §1.5 and §1.10.

```
brouillon ──soumettre──▶ consultation ──adopter──▶ adopte_cil ──deliberer──▶ delibere_epci
    ▲                                                                       │        │
    └─────────────────────────────── refuser (préfet, motif) ◀───────────────┘     agreer
                                                                                     ▼
                    en_vigueur ◀──mettre_en_vigueur── agree_prefet ◀──────────────────┘
```
Two steps are never offered as buttons; services take them on their own: `reprendre`
(any edit of the content after submission brings the document back to the draft, with a new
version) and `remplacer` (a revision entering into force replaces the document in force).

Pure: no database, no request. Views, templates, services and tests all read `abilities()`.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.db import models

from cil.permissions import permissions_of, roles_granting


class State(models.TextChoices):
    BROUILLON = "brouillon", "Brouillon"
    CONSULTATION = "consultation", "Consultation des membres"
    ADOPTE_CIL = "adopte_cil", "Adopté par la conférence"
    DELIBERE_EPCI = "delibere_epci", "Approuvé par délibération de l'EPCI"
    AGREE_PREFET = "agree_prefet", "Agréé par le préfet"
    EN_VIGUEUR = "en_vigueur", "En vigueur"
    REMPLACE = "remplace", "Remplacé"


# The steps of the stepper, in order, with who acts at each (for the stepper and the
# e-mails). REMPLACE is an afterlife, not a step.
STEP_ACTORS: dict[State, str] = {
    State.BROUILLON: "rédaction par le secrétariat",
    State.CONSULTATION: "avis des membres de la conférence",
    State.ADOPTE_CIL: "vote de la conférence en séance plénière",
    State.DELIBERE_EPCI: "délibération du conseil de l'EPCI",
    State.AGREE_PREFET: "agrément du préfet",
    State.EN_VIGUEUR: "entrée en vigueur",
}
STEPS: tuple[State, ...] = tuple(STEP_ACTORS)

# DSFR badge of each state: a draft is new, a document in force a success, every step in
# between an information; a replaced document has none.
BADGES: dict[State, str] = dict.fromkeys(State, "fr-badge--info") | {
    State.BROUILLON: "fr-badge--new",
    State.EN_VIGUEUR: "fr-badge--success",
    State.REMPLACE: "",
}

# Editing the content is possible in every step before the entry into force; outside the
# draft it makes a new version and restarts the circuit (`reprendre`). A document in force
# is revised by a new document: its approved text stays in force until the revision
# replaces it.
EDITABLE_STATES = frozenset(STEPS) - {State.EN_VIGUEUR}
COMMENTABLE_STATES = EDITABLE_STATES

# Who is told by e-mail (conventions/emails_orientations.py resolves these to people).
AUDIENCE_CONFERENCE = "conference"  # every active user of the conference
AUDIENCE_PREFECTURE = "prefecture"  # the prefecture agents (they approve)
AUDIENCE_SECRETARIAT = "secretariat"

# The kinds of field a step records (forms_orientations.py turns them into form fields).
DATE = "date"
COUNT = "count"
TEXT = "text"
PDF = "pdf"


@dataclass(frozen=True)
class StepField:
    name: str
    label: str
    kind: str
    required: bool = True
    help_text: str = ""
    # A date that may not be in the future (an act already taken).
    past_only: bool = False
    # A date that may not precede the date recorded by an earlier step: (transition, field).
    not_before: tuple[str, str] | None = None


def _act_date(name: str, label: str, *, not_before: tuple[str, str] | None = None) -> StepField:
    """The date of an act already taken (a séance, a délibération, an agrément): never in
    the future, and not before the act of the earlier step it follows."""
    return StepField(name, label, DATE, past_only=True, not_before=not_before)


@dataclass(frozen=True)
class Transition:
    name: str
    label: str  # the button
    source: frozenset[State]
    target: State
    permission: str
    description: str = ""
    fields: tuple[StepField, ...] = ()
    # DSFR marks an optional field « (Optionnel) » by itself.
    comment_label: str = "Commentaire"
    comment_required: bool = False
    notify: str = ""
    # Taken by services on their own, never offered to a user.
    automatic: bool = False
    # URL of the step's form, under /<conference>/orientations/<document>/etapes/.
    slug: str = ""
    url_name: str = ""
    email_subject: str = ""


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        name="soumettre",
        label="Ouvrir la consultation des membres",
        source=frozenset({State.BROUILLON}),
        target=State.CONSULTATION,
        permission="orientations.advance",
        description="Le projet est soumis aux membres de la conférence, qui peuvent commenter chaque section.",
        fields=(
            StepField(
                "date_limite",
                "Date limite des contributions",
                DATE,
                required=False,
                help_text="Facultative ; indiquée dans le courriel aux membres.",
            ),
        ),
        notify=AUDIENCE_CONFERENCE,
        slug="consultation",
        url_name="orientation_submit",
        email_subject="Consultation des membres sur le document d'orientation",
    ),
    Transition(
        name="adopter",
        label="Adoption par la conférence",
        source=frozenset({State.CONSULTATION}),
        target=State.ADOPTE_CIL,
        permission="orientations.advance",
        # Taken by the vote of a session (cil.governance: orientation_adopt_by_decision), which
        # fills these fields from the session's date and its vote counts.
        description="CCH L.441-1-5 : les orientations sont adoptées par la conférence par un vote en séance ; la décision de la séance enregistre cette étape.",
        fields=(
            _act_date("date_seance", "Date de la séance plénière"),
            StepField("voix_pour", "Voix pour", COUNT),
            StepField("voix_contre", "Voix contre", COUNT),
            StepField("abstentions", "Abstentions", COUNT),
        ),
        notify=AUDIENCE_PREFECTURE,
        slug="adoption",
        url_name="orientation_adopt",
        email_subject="Document d'orientation adopté par la conférence",
    ),
    Transition(
        name="deliberer",
        label="Enregistrer la délibération de l'EPCI",
        source=frozenset({State.ADOPTE_CIL}),
        target=State.DELIBERE_EPCI,
        permission="orientations.advance",
        description="Les orientations adoptées sont approuvées par le conseil de l'EPCI. Joignez la délibération (PDF).",
        fields=(
            StepField("numero", "Numéro de la délibération", TEXT),
            _act_date(
                "date_deliberation",
                "Date de la délibération",
                not_before=("adopter", "date_seance"),
            ),
            StepField(
                "deliberation",
                "Délibération (PDF)",
                PDF,
                help_text="Fichier PDF de 10 Mo au plus.",
            ),
        ),
        notify=AUDIENCE_PREFECTURE,
        slug="deliberation",
        url_name="orientation_deliberate",
        email_subject="Document d'orientation à agréer",
    ),
    Transition(
        name="agreer",
        label="Agréer le document d'orientation",
        source=frozenset({State.DELIBERE_EPCI}),
        target=State.AGREE_PREFET,
        permission="orientations.approve",
        description="Agrément du préfet, coprésident de la conférence (CCH L.441-1-5).",
        fields=(
            _act_date(
                "date_agrement",
                "Date de l'agrément",
                not_before=("deliberer", "date_deliberation"),
            ),
        ),
        notify=AUDIENCE_SECRETARIAT,
        slug="agrement",
        url_name="orientation_approve",
        email_subject="Document d'orientation agréé par le préfet",
    ),
    Transition(
        name="refuser",
        label="Refuser l'agrément",
        source=frozenset({State.DELIBERE_EPCI}),
        target=State.BROUILLON,
        permission="orientations.approve",
        description="Le document revient au brouillon ; le motif du refus est affiché au secrétariat et dans l'historique.",
        comment_label="Motif du refus",
        comment_required=True,
        notify=AUDIENCE_SECRETARIAT,
        slug="refus",
        url_name="orientation_refuse",
        email_subject="Agrément du document d'orientation refusé",
    ),
    Transition(
        name="mettre_en_vigueur",
        label="Déclarer l'entrée en vigueur",
        source=frozenset({State.AGREE_PREFET}),
        target=State.EN_VIGUEUR,
        permission="orientations.advance",
        description="Le document agréé s'applique à compter de la date d'effet ; le document précédent est remplacé.",
        fields=(
            StepField(
                "date_effet",
                "Date d'effet",
                DATE,
                not_before=("agreer", "date_agrement"),
            ),
        ),
        notify=AUDIENCE_CONFERENCE,
        slug="entree-en-vigueur",
        url_name="orientation_enforce",
        email_subject="Document d'orientation en vigueur",
    ),
    Transition(
        name="reprendre",
        label="Reprise après modification",
        source=frozenset(EDITABLE_STATES - {State.BROUILLON}),
        target=State.BROUILLON,
        permission="orientations.edit",
        automatic=True,
    ),
    Transition(
        name="remplacer",
        label="Remplacement par une révision",
        source=frozenset({State.EN_VIGUEUR}),
        target=State.REMPLACE,
        permission="orientations.advance",
        automatic=True,
    ),
)

BY_NAME: dict[str, Transition] = {t.name: t for t in TRANSITIONS}
MANUAL: tuple[Transition, ...] = tuple(t for t in TRANSITIONS if not t.automatic)

for _transition in TRANSITIONS:
    roles_granting(_transition.permission)  # an unknown permission fails at import


def transition(name: str) -> Transition:
    try:
        return BY_NAME[name]
    except KeyError:
        raise LookupError(f"Étape inconnue du circuit : {name!r}") from None


def available(state: str) -> list[Transition]:
    """The manual steps that may leave `state`, in circuit order."""
    return [t for t in MANUAL if state in t.source]


def step_index(state: str) -> int:
    """1-based position of `state` in the stepper (a replaced document shows as in force)."""
    if state == State.REMPLACE:
        return len(STEPS)
    return STEPS.index(State(state)) + 1


def abilities(user_roles: Iterable[str], document) -> frozenset[str]:
    """What a user holding `user_roles` in the document's conference may do on it now.

    `document` needs `state` and `is_current`. The names: "view", "edit", "comment",
    "resolve_comments", "generate_pdf", the name of each manual transition, and "revise"
    (start a new document from the one in force).
    """
    granted = permissions_of(user_roles)
    if "orientations.view" not in granted:
        return frozenset()
    result = {"view"}
    state = document.state
    if "documents.generate" in granted:
        result.add("generate_pdf")
    if not document.is_current:
        return frozenset(result)  # a past document is read-only
    if "orientations.edit" in granted and state in EDITABLE_STATES:
        result.add("edit")
    if "orientations.edit" in granted and state == State.EN_VIGUEUR:
        result.add("revise")
    if "orientations.comment" in granted and state in COMMENTABLE_STATES:
        result.add("comment")
    if "orientations.resolve_comments" in granted:
        result.add("resolve_comments")
    for step in available(state):
        if step.permission in granted:
            result.add(step.name)
    return frozenset(result)


def stepper(state: str) -> dict:
    """The DSFR stepper of a state: current step, total, titles."""
    index = step_index(state)
    current = STEPS[index - 1]
    return {
        "current": index,
        "total": len(STEPS),
        "title": State(state).label,
        "next_title": STEPS[index].label if index < len(STEPS) else "",
        "steps": [
            {
                "label": step.label,
                "actor": STEP_ACTORS[step],
                "done": position < index,
                "current": step == current,
            }
            for position, step in enumerate(STEPS, start=1)
        ],
    }


def facts(name: str, data: dict) -> list[tuple[str, str]]:
    """What a step recorded, as (label, French text) pairs, for the history and e-mails."""
    if name == "reprendre":
        return [
            ("Nouvelle version", str(data.get("version", ""))),
            ("Modification", str(data.get("motif", ""))),
        ]
    if name == "remplacer":
        return [("Remplacé par", str(data.get("titre", "")))]
    step = BY_NAME.get(name)
    if step is None:
        return []
    result = []
    for spec in step.fields:
        value = data.get(spec.name)
        if value in (None, ""):
            continue
        text = date.fromisoformat(value).strftime("%d/%m/%Y") if spec.kind == DATE else str(value)
        result.append((spec.label, text))
    return result
