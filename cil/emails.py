"""E-mails sent by the platform, in French, with a link back to it."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse

from cil.models import Invitation


def absolute_url(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def send_invitation(*, invitation: Invitation, token: str) -> None:
    context = {
        "invitation": invitation,
        "conference": invitation.conference,
        "link": absolute_url(
            reverse(
                "invitation_accept",
                kwargs={"conference": invitation.conference.slug, "token": token},
            )
        ),
        "site_title": settings.CIL_SITE_TITLE,
    }
    subject = f"Invitation à rejoindre la plateforme — {invitation.conference.name}"
    body = render_to_string("emails/invitation.txt", context)
    html = render_to_string("emails/invitation.html", context)
    message = EmailMultiAlternatives(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email])
    message.attach_alternative(html, "text/html")
    message.send()
