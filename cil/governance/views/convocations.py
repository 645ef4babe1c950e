"""Convocations: who is convened or informed, a preview of the e-mail, the sending, and the
tracked link of each e-mail (public: no login to record the opening)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from cil.governance import emails, selectors, tracking
from cil.governance.models import Convocation, ConvocationKind
from cil.governance.services import convocations as services
from cil.governance.views.common import abilities_of, crumbs, meeting_url, url_for
from cil.tenancy import public_conference_view
from cil.views.decorators import requires


def _lines(meeting) -> list[dict]:
    """Every representative to convene or inform, with what was sent to them."""
    existing = {c.representative_id: c for c in selectors.convocations_of(meeting)}
    lines = []
    for recipient in selectors.recipients(meeting):
        convocation = existing.pop(recipient.representative.pk, None)
        lines.append({"recipient": recipient, "convocation": convocation})
    # Convocations of people no longer in office on the session's day: kept, shown.
    for convocation in existing.values():
        lines.append({"recipient": None, "convocation": convocation})
    return lines


def _preview(meeting, lines) -> dict | None:
    """The e-mail a titulaire would receive (an unsaved convocation: its link leads
    nowhere)."""
    first = next(
        (
            line["recipient"]
            for line in lines
            if line["recipient"] and line["recipient"].kind == ConvocationKind.CONVOCATION
        ),
        None,
    )
    if first is None:
        return None
    sample = Convocation(
        conference=meeting.conference,
        meeting=meeting,
        representative=first.representative,
        membership=first.membership,
        kind=first.kind,
        email=first.email or "adresse@inconnue",
    )
    items = list(meeting.items.order_by("order", "id"))
    message = emails.compose(sample, emails.CONVOCATION, items, b"")
    return {"to": first.email, "subject": message.subject, "body": message.body}


@require_http_methods(["GET", "POST"])
@requires("sessions.manage")
def convocation_list(request, meeting_id):
    meeting = selectors.access_meeting(meeting_id=meeting_id)
    abilities = abilities_of(request, meeting)
    if request.method == "POST":
        if "convene" not in abilities:
            messages.warning(
                request,
                "Cette séance ne peut plus être convoquée : elle a commencé, est close ou annulée.",
            )
            return redirect(url_for(request, "convocation_list", meeting_id=meeting.public_id))
        try:
            counts = services.convocations_send(
                conference=request.conference, actor=request.user, meeting=meeting
            )
        except ValidationError as error:
            messages.warning(request, " ".join(error.messages))
        else:
            new, corrected = counts["new"], counts["corrected"]
            text = f"{new} courriel{'s' if new > 1 else ''} de convocation envoyé{'s' if new > 1 else ''} (titulaires convoqués, suppléants informés)"
            if corrected:
                text += f", {corrected} convocation{'s' if corrected > 1 else ''} rectificative{'s' if corrected > 1 else ''}"
            text += "."
            if counts["no_address"]:
                text += f" {counts['no_address']} représentant{'s' if counts['no_address'] > 1 else ''} sans adresse électronique : prévenez-les autrement."
            messages.success(request, text)
        return redirect(url_for(request, "convocation_list", meeting_id=meeting.public_id))
    lines = _lines(meeting)
    recipients = [line["recipient"] for line in lines if line["recipient"]]
    return TemplateResponse(
        request,
        "governance/convocation_list.html",
        {
            "meeting": meeting,
            "abilities": abilities,
            "lines": lines,
            "summary": selectors.convocation_summary(meeting),
            "to_convene": sum(1 for r in recipients if r.kind == ConvocationKind.CONVOCATION),
            "to_inform": sum(1 for r in recipients if r.kind == ConvocationKind.INFORMATION),
            "without_address": sum(1 for r in recipients if not r.email),
            "preview": _preview(meeting, lines) if "convene" in abilities else None,
            "rules": selectors.settings_of(request.conference),
            "breadcrumb_links": crumbs(request, meeting),
            "title": "Convocations",
        },
    )


@require_GET
@public_conference_view
def convocation_open(request, conference_slug, convocation_id, token):
    """The tracked link of a convocation e-mail: records the opening, then leads to the
    session's page (sign-in as usual). A wrong token is a 404, like an unknown id."""
    convocation = (
        Convocation.objects.select_related("meeting").filter(public_id=convocation_id).first()
    )
    if convocation is None or not tracking.token_matches(convocation.public_id, token):
        raise Http404("Lien de convocation inconnu.")
    services.convocation_opened(convocation)
    return redirect(meeting_url(request, convocation.meeting))
