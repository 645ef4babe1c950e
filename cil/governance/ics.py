"""The iCalendar (RFC 5545) file of a session, attached to the convocations and offered for
download: one VEVENT in Europe/Paris time with its VTIMEZONE, a stable UID (the session's
public id), the SEQUENCE raised by every change of date, time or place, and STATUS
CANCELLED (METHOD CANCEL) once the session is cancelled. Written by `icalendar`."""

from datetime import timedelta
from email.utils import parseaddr
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from cil.emails import absolute_url
from cil.governance.models import Meeting, MeetingState

PARIS = ZoneInfo("Europe/Paris")
# A session without an end time is shown as lasting this long in calendars.
DEFAULT_DURATION = timedelta(hours=2)


def meeting_url(meeting: Meeting) -> str:
    return absolute_url(
        reverse(
            "meeting_detail",
            kwargs={"conference_slug": meeting.conference.slug, "meeting_id": meeting.public_id},
        )
    )


def uid_of(meeting: Meeting) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "cil.invalid"
    return f"seance-{meeting.public_id}@{host}"


def summary_of(meeting: Meeting) -> str:
    return f"{meeting.title} — {meeting.conference.name}"


def description_of(meeting: Meeting, items) -> str:
    lines = [f"{meeting.body_label} de la {meeting.conference.name}."]
    if meeting.video_url:
        lines.append(f"Visioconférence : {meeting.video_url}")
    if items:
        lines.append("")
        lines.append("Ordre du jour :")
        lines += [f"{item.order}. {item.title}" for item in items]
    lines.append("")
    lines.append(f"Dossier de la séance : {meeting_url(meeting)}")
    return "\n".join(lines)


def meeting_ics(meeting: Meeting, items=()) -> bytes:
    cancelled = meeting.state == MeetingState.ANNULEE
    calendar = Calendar()
    calendar.add("prodid", f"-//{settings.CIL_OPERATOR_NAME}//Séances de la CIL//FR")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "PUBLISH")

    event = Event()
    event.add("uid", uid_of(meeting))
    event.add("dtstamp", timezone.now().astimezone(ZoneInfo("UTC")))
    start = meeting.starts_at.astimezone(PARIS)
    end = (meeting.ends_at or meeting.starts_at + DEFAULT_DURATION).astimezone(PARIS)
    event.add("dtstart", start)
    event.add("dtend", end)
    event.add("summary", summary_of(meeting))
    location = meeting.place or ("Visioconférence" if meeting.video_url else "")
    if location:
        event.add("location", location)
    event.add("description", description_of(meeting, list(items)))
    event.add("url", meeting_url(meeting))
    event.add("sequence", meeting.sequence)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    if address:
        organizer = vCalAddress(f"mailto:{address}")
        organizer.params["cn"] = vText(name or meeting.conference.name)
        event.add("organizer", organizer)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    return calendar.to_ical()
