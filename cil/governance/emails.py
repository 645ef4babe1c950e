"""The e-mails of a session, in French, one per representative (recipients never see each
other's addresses), each with the session's ICS file and a tracked link to its page.

Purposes: `convocation` (titulaires convened, suppléants informed), `rectificatif` (the
date, time or place changed after the convocation), `relance` (reminder N days before),
`annulation` (the session is cancelled; its ICS says CANCELLED).
"""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from cil.emails import absolute_url
from cil.governance import ics, tracking
from cil.governance.models import Convocation, ConvocationKind, Meeting
from cil.governance.selectors import settings_of

CONVOCATION = "convocation"
RECTIFICATIF = "rectificatif"
RELANCE = "relance"
ANNULATION = "annulation"
PURPOSES = (CONVOCATION, RECTIFICATIF, RELANCE, ANNULATION)


def tracked_link(convocation: Convocation) -> str:
    return absolute_url(
        reverse(
            "convocation_open",
            kwargs={
                "conference_slug": convocation.conference.slug,
                "convocation_id": convocation.public_id,
                "token": tracking.token_for(convocation.public_id),
            },
        )
    )


def subject_of(meeting: Meeting, kind: str, purpose: str) -> str:
    day = timezone.localtime(meeting.starts_at).strftime("%d/%m/%Y")
    prefix = {
        CONVOCATION: "Convocation" if kind == ConvocationKind.CONVOCATION else "Pour information",
        RECTIFICATIF: "Convocation modifiée",
        RELANCE: "Rappel",
        ANNULATION: "Séance annulée",
    }[purpose]
    return f"{prefix} : {meeting.title} du {day} — {meeting.conference.name}"


def context_of(convocation: Convocation, purpose: str, items: list) -> dict:
    meeting = convocation.meeting
    return {
        "purpose": purpose,
        "convocation": convocation,
        "is_titulaire": convocation.kind == ConvocationKind.CONVOCATION,
        "representative": convocation.representative,
        "organisation": convocation.membership.organisation,
        "membership": convocation.membership,
        "meeting": meeting,
        "conference": meeting.conference,
        "starts_at": timezone.localtime(meeting.starts_at),
        "ends_at": timezone.localtime(meeting.ends_at) if meeting.ends_at else None,
        "items": items,
        "rules": settings_of(meeting.conference),
        "link": tracked_link(convocation),
        "site_title": settings.CIL_SITE_TITLE,
    }


def compose(
    convocation: Convocation, purpose: str, items: list, calendar: bytes
) -> EmailMultiAlternatives:
    if purpose not in PURPOSES:
        raise ValueError(f"Objet de courriel inconnu : {purpose!r}")
    context = context_of(convocation, purpose, items)
    message = EmailMultiAlternatives(
        subject_of(convocation.meeting, convocation.kind, purpose),
        render_to_string("governance/emails/convocation.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [convocation.email],
    )
    message.attach_alternative(
        render_to_string("governance/emails/convocation.html", context), "text/html"
    )
    method = "CANCEL" if purpose == ANNULATION else "PUBLISH"
    message.attach("seance.ics", calendar, f"text/calendar; method={method}; charset=utf-8")
    return message


def send(meeting: Meeting, convocations: list[Convocation], purpose: str) -> int:
    """Send one e-mail per convocation over one connection. Returns the number sent."""
    if not convocations:
        return 0
    items = list(meeting.items.order_by("order", "id"))
    calendar = ics.meeting_ics(meeting, items)
    messages = [compose(c, purpose, items, calendar) for c in convocations]
    with get_connection() as connection:
        return connection.send_messages(messages) or 0
