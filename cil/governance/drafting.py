"""The first draft of the minutes (procès-verbal), written from the session's record: who
sat, the quorum, each agenda item with its vote and decision. The secretariat then edits
it (Markdown, rendered through conventions/markdown.py). The attendance sheet itself is
not copied into the text: the PDF carries it as an annex, from the record."""

from datetime import date, datetime

from django.utils import timezone

from cil.governance import counting

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_date(day: date, *, weekday: bool = True) -> str:
    """« mardi 1er avril 2025 » (the first of the month is written 1er)."""
    number = "1er" if day.day == 1 else str(day.day)
    text = f"{number} {MONTHS[day.month - 1]} {day.year}"
    return f"{WEEKDAYS[day.weekday()]} {text}" if weekday else text


def french_time(moment: datetime) -> str:
    local = timezone.localtime(moment)
    return f"{local.hour}h{local.minute:02d}" if local.minute else f"{local.hour}h"


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{n} {word if n <= 1 else (plural or word + 's')}"


def quorum_sentence(quorum: counting.Quorum, rules_label: str, rows) -> str:
    remote = sum(1 for r in rows if r.membership.voting_right and r.status == counting.DISTANCE)
    replaced = sum(1 for r in rows if r.membership.voting_right and r.status == counting.SUPPLEE)
    details = []
    if remote:
        details.append(f"{remote} à distance")
    if replaced:
        details.append(f"{_plural(replaced, 'remplacé')} par son suppléant")
    detail = f" (dont {', '.join(details)})" if details else ""
    reached = "était atteint" if quorum.reached else "n'était pas atteint"
    return (
        f"Sur {_plural(quorum.voting_members, 'membre')} à voix délibérative, "
        f"{_plural(quorum.present, 'était présent', 'étaient présents')}{detail} et "
        f"{_plural(quorum.represented, 'représenté')} par un pouvoir. "
        f"Le quorum ({rules_label}, soit {quorum.required}) {reached}."
    )


def draft(*, meeting, rows, quorum: counting.Quorum, rules_label: str, items) -> str:
    """Markdown of the minutes' first draft."""
    day = french_date(meeting.local_date)
    where = []
    if meeting.place:
        where.append(meeting.place)
    if meeting.video_url:
        where.append("en visioconférence")
    place = f", {' et '.join(where)}" if where else ""
    chairs = f", sous la présidence de {meeting.chairs}" if meeting.chairs else ""
    when = f"le {day} à {french_time(meeting.starts_at)}{place}{chairs}"
    opening = (
        f"La {meeting.conference.name} s'est réunie en séance plénière {when}."
        if meeting.is_plenary
        else f"Réunion de l'instance « {meeting.body.name} » de la {meeting.conference.name}, {when}."
    )
    lines = [
        opening,
        "",
        "# Présences et quorum",
        "",
        quorum_sentence(quorum, rules_label, rows),
        "La feuille de présence figure en annexe.",
        "",
        "# Ordre du jour",
        "",
    ]
    for item in items:
        lines.append(f"## {item.order}. {item.title}")
        lines.append("")
        if item.description:
            lines.append(item.description)
            lines.append("")
        lines.append("*Résumé des échanges : à compléter par le secrétariat.*")
        lines.append("")
        decision = getattr(item, "decision", None)
        if decision is not None:
            lines.append(f"**Vote** : {decision.explanation}")
            lines.append("")
            lines.append(f"**Décision n° {decision.reference}** : {decision.text}")
            lines.append("")
        elif item.is_voted:
            lines.append("*Ce point n'a pas été soumis au vote.*")
            lines.append("")
    end = f" à {french_time(meeting.ends_at)}" if meeting.ends_at else ""
    lines += ["# Clôture", "", f"L'ordre du jour étant épuisé, la séance est levée{end}."]
    return "\n".join(lines)
