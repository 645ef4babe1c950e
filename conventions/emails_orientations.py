"""E-mails of the circuit of the document d'orientation, in French, with a link to it.

Who is told is data (`Transition.notify` in conventions/circuit.py): the whole conference
when the consultation opens and when the document enters into force, the prefecture agents
when it awaits their agrément, the secretariat when the préfet has decided. One message per
person: recipients never see each other's addresses.
"""

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.template.loader import render_to_string
from django.urls import reverse

from cil.emails import absolute_url
from cil.models import Access
from cil.roles import RoleName
from cil.tenancy import ConferenceTask
from conventions import circuit
from conventions.models.orientations import OrientationTransition

__all__ = ["recipients", "send_orientation_step_email", "send_step_email"]

AUDIENCE_ROLES = {
    circuit.AUDIENCE_CONFERENCE: None,
    circuit.AUDIENCE_PREFECTURE: RoleName.PREFECTURE,
    circuit.AUDIENCE_SECRETARIAT: RoleName.SECRETARIAT,
}


def recipients(audience: str) -> list[str]:
    """E-mail addresses of the active people of the open conference in `audience`."""
    role = AUDIENCE_ROLES[audience]
    accesses = Access.objects.filter(is_active=True, user__is_active=True, roles__isnull=False)
    if role is not None:
        accesses = accesses.filter(roles__name=role)
    return sorted(set(accesses.values_list("user__email", flat=True)))


def send_step_email(transition: OrientationTransition) -> int:
    """Send the e-mails of one step of the circuit. Returns the number sent."""
    step = circuit.transition(transition.name)
    if not step.notify:
        return 0
    document = transition.document
    conference = document.conference
    context = {
        "conference": conference,
        "document": document,
        "transition": transition,
        "step": step,
        "version": transition.version,
        "facts": circuit.facts(transition.name, transition.data),
        "state_label": circuit.State(transition.to_state).label,
        "link": absolute_url(
            reverse(
                "orientation_detail",
                kwargs={"conference_slug": conference.slug, "document_id": document.public_id},
            )
        ),
        "site_title": settings.CIL_SITE_TITLE,
    }
    subject = f"{step.email_subject} — {conference.name}"
    body = render_to_string("emails/orientations_step.txt", context)
    html = render_to_string("emails/orientations_step.html", context)
    messages = []
    for address in recipients(step.notify):
        message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [address])
        message.attach_alternative(html, "text/html")
        messages.append(message)
    if not messages:
        return 0
    with get_connection() as connection:
        return connection.send_messages(messages) or 0


@shared_task(base=ConferenceTask, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_orientation_step_email(*, conference_id: int, transition_id: int) -> int:
    transition = (
        OrientationTransition.objects.select_related(
            "document__conference", "version", "actor", "organisation"
        )
        .filter(pk=transition_id)
        .first()
    )
    if transition is None:
        return 0
    return send_step_email(transition)
