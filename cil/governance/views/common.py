"""Helpers shared by the governance views."""

from django.contrib import messages
from django.shortcuts import redirect
from django.urls import reverse

from cil.governance.abilities import meeting_abilities
from cil.governance.models import Minutes


def meeting_url(request, meeting, anchor: str = "") -> str:
    url = reverse(
        "meeting_detail",
        kwargs={"conference_slug": request.conference.slug, "meeting_id": meeting.public_id},
    )
    return f"{url}#{anchor}" if anchor else url


def url_for(request, name: str, **kwargs) -> str:
    return reverse(name, kwargs={"conference_slug": request.conference.slug, **kwargs})


def minutes_of(meeting) -> Minutes | None:
    return Minutes.objects.filter(meeting=meeting).select_related("document").first()


def abilities_of(request, meeting, minutes: Minutes | None = None):
    return meeting_abilities(request.roles, meeting, minutes)


def crumbs(request, meeting=None) -> list[tuple[str, str]]:
    links = [(url_for(request, "meeting_list"), "Séances")]
    if meeting is not None:
        links.append((meeting_url(request, meeting), str(meeting)))
    return links


def refuse(request, meeting, message: str, anchor: str = ""):
    messages.warning(request, message)
    return redirect(meeting_url(request, meeting, anchor))


def not_now(request, meeting, what: str):
    state = meeting.get_state_display().lower()
    if meeting.is_open and what in ("attendance", "vote", "close"):
        return refuse(
            request,
            meeting,
            "La séance n'a pas encore eu lieu : la feuille de présence, les votes et la clôture s'ouvrent le jour de la séance.",
        )
    if what == "convene" and meeting.is_open:
        return refuse(
            request, meeting, "La séance a déjà commencé : il est trop tard pour convoquer."
        )
    if what in ("draft_minutes", "edit_minutes", "issue_minutes"):
        return refuse(
            request,
            meeting,
            "Le procès-verbal se rédige une fois la séance close, et ne change plus une fois approuvé.",
        )
    return refuse(request, meeting, f"La séance est {state} : ce n'est plus possible.")


def post_data(request):
    """The posted data, or None for a GET (an empty POST is still a bound form: `request.POST
    or None` would show it blank instead of its errors)."""
    return request.POST if request.method == "POST" else None


def bound(request) -> tuple:
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)
