"""Votes and the decisions register. A decision may adopt the document d'orientation (it
takes the « adopté par la CIL » step of the circuit), approve a version of the CIA, or
approve the minutes of an earlier session."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from cil import audit
from cil.governance import counting
from cil.governance.models import (
    AgendaItem,
    Decision,
    ItemKind,
    Meeting,
    MinutesState,
    Outcome,
)
from cil.governance.selectors import roster, settings_of, sheet
from cil.governance.services.attendance import check_recording
from cil.governance.services.common import fail, lock_meeting, require, same_conference
from cil.models import AuditAction, Conference, User

TEXT_MAX = 5_000


def decision_text(item: AgendaItem, adopted: bool) -> str:
    """The operative sentence of the decision, by what the item decides on."""
    if item.kind == ItemKind.ORIENTATIONS:
        version = item.orientation_version
        verb = "adopte" if adopted else "n'adopte pas"
        return f"La conférence intercommunale du logement {verb} la version {version.number} du document d'orientation « {version.document.title} » (article L.441-1-5 du code de la construction et de l'habitation)."
    if item.kind == ItemKind.CIA:
        verb = "approuve" if adopted else "n'approuve pas"
        return f"La conférence intercommunale du logement {verb} la convention intercommunale d'attribution : « {item.cia_version.title} » (article L.441-1-6 du code de la construction et de l'habitation)."
    if item.kind == ItemKind.PROCES_VERBAL:
        verb = "approuve" if adopted else "n'approuve pas"
        day = timezone.localtime(item.minutes.meeting.starts_at)
        return f"La conférence {verb} le procès-verbal de la séance du {day:%d/%m/%Y}."
    return f"{'Adopté' if adopted else 'Non adopté'} : {item.title}."


def _ballots(raw: dict) -> dict[int, counting.Ballots]:
    result = {}
    for college, counts in raw.items():
        try:
            result[int(college)] = counting.Ballots(
                int(counts.get("pour") or 0),
                int(counts.get("contre") or 0),
                int(counts.get("abstention") or 0),
            )
        except (TypeError, ValueError):
            fail(None, "Les nombres de voix doivent être des nombres entiers.")
    return result


def _check_target(item: AgendaItem) -> None:
    """The item still points at what it decides on, in a state where it can be decided."""
    if item.kind == ItemKind.ORIENTATIONS:
        document = item.orientation_version.document
        document.refresh_from_db()
        if not document.is_current or document.current_version_id != item.orientation_version_id:
            fail(
                None,
                f"Le point soumet la version {item.orientation_version.number} du document d'orientation, qui a changé depuis : modifiez le point pour soumettre la version courante.",
            )
    if item.kind == ItemKind.PROCES_VERBAL and item.minutes.state == MinutesState.APPROUVE:
        fail(None, "Ce procès-verbal est déjà approuvé.")


@transaction.atomic
def vote_record(
    *,
    conference: Conference,
    actor: User | None,
    meeting: Meeting,
    item: AgendaItem,
    ballots: dict,
    text: str = "",
) -> Decision:
    """Record the vote on an item and enter the decision in the register.

    `ballots`: {college: {"pour": n, "contre": n, "abstention": n}} (college 0 = all voters
    when the conference does not report by college). The quorum must be reached; each
    college's ballots may not exceed its voters; the result follows the conference's
    majority rule (cil/governance/counting.py). Nothing is written if any check fails,
    including the step of the document d'orientation the decision takes."""
    require(actor, "sessions.manage")
    same_conference(conference, item)
    meeting = lock_meeting(conference, meeting)
    check_recording(meeting)
    item = (
        AgendaItem.objects.select_for_update(of=("self",))
        .select_related("orientation_version__document", "cia_version", "minutes__meeting")
        .get(pk=item.pk)
    )
    if item.meeting_id != meeting.pk:
        fail(None, "Ce point n'appartient pas à cette séance.")
    if not item.is_voted:
        fail(None, "Ce point est une information : il n'est pas soumis au vote.")
    if Decision.objects.filter(item=item).exists():
        fail(None, "Ce point a déjà été voté.")
    _check_target(item)

    settings = settings_of(conference)
    rules = settings.rules()
    members = sheet(roster(meeting))
    quorum = counting.quorum(members, rules)
    if not quorum.reached:
        fail(
            None,
            f"Le quorum n'est pas atteint ({quorum.voters} membres présents ou représentés sur {quorum.voting_members}, {quorum.required} requis) : la conférence ne peut pas délibérer.",
        )
    voters = counting.voters_by_college(members, rules, by_college=settings.votes_by_college)
    counted = _ballots(ballots)
    if set(counted) - set(voters):
        fail(None, "Un collège sans votant ne peut pas avoir de voix.")
    counted = {college: counted.get(college, counting.Ballots()) for college in voters}
    errors = counting.ballot_errors(counted, voters)
    if errors:
        fail(None, " ".join(errors))
    result = counting.vote_result(counted, voters, rules)
    if result.totals.total == 0:
        fail(None, "Aucune voix n'est saisie : indiquez le résultat du vote.")

    day = meeting.local_date
    # The register is numbered per year without gaps: the conference row serialises the
    # numbering of concurrent votes.
    Conference.objects.select_for_update().filter(pk=conference.pk).first()
    number = (Decision.objects.filter(year=day.year).aggregate(last=Max("number"))["last"] or 0) + 1
    decision = Decision.objects.create(
        conference=conference,
        meeting=meeting,
        item=item,
        year=day.year,
        number=number,
        decided_on=day,
        title=item.title,
        text=((text or "").strip() or decision_text(item, result.adopted))[:TEXT_MAX],
        outcome=Outcome.ADOPTEE if result.adopted else Outcome.REJETEE,
        pour=result.totals.pour,
        contre=result.totals.contre,
        abstention=result.totals.abstention,
        voters=result.voters,
        by_college={
            str(college): {
                "pour": counts.pour,
                "contre": counts.contre,
                "abstention": counts.abstention,
                "votants": voters[college],
            }
            for college, counts in result.by_college.items()
        },
        quorum=quorum.as_dict(),
        majority_rule=rules.majority,
        explanation=result.explanation[:500],
        created_by=actor,
    )
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.CREATE,
        obj=decision,
        changes={
            "résultat": [None, decision.get_outcome_display()],
            "pour": [None, decision.pour],
            "contre": [None, decision.contre],
            "abstentions": [None, decision.abstention],
        },
    )
    if result.adopted:
        _apply_effect(conference=conference, actor=actor, decision=decision)
    return decision


def _apply_effect(*, conference: Conference, actor: User | None, decision: Decision) -> None:
    item = decision.item
    reference = {
        "decision": str(decision.public_id),
        "numero": decision.reference,
        "seance": str(decision.meeting.public_id),
    }
    if item.kind == ItemKind.ORIENTATIONS:
        from conventions.services_orientations import orientation_adopt_by_decision

        orientation_adopt_by_decision(
            conference=conference,
            actor=actor,
            document=item.orientation_version.document,
            version_number=item.orientation_version.number,
            date_seance=decision.decided_on,
            voix_pour=decision.pour,
            voix_contre=decision.contre,
            abstentions=decision.abstention,
            decision=reference,
            comment=f"Décision n° {decision.reference} — {decision.meeting}.",
        )
    elif item.kind == ItemKind.PROCES_VERBAL:
        from cil.governance.services.minutes import minutes_approve

        minutes_approve(conference=conference, actor=actor, minutes=item.minutes, decision=decision)
