"""What a user may do on a session now, as data (STYLE.md: abilities as data). Views,
templates, services and tests all read `meeting_abilities()`.

The role decides (sessions.view, sessions.manage); the state of the session decides when:
the agenda and the convocations before the session, the attendance and the votes from the
session's day until it is closed, the minutes once it is closed.
"""

from collections.abc import Iterable

from django.utils import timezone

from cil.governance.models import Meeting, MeetingState, Minutes
from cil.permissions import permissions_of


def meeting_abilities(
    roles: Iterable[str], meeting: Meeting, minutes: Minutes | None = None
) -> frozenset[str]:
    granted = permissions_of(roles)
    if "sessions.view" not in granted:
        return frozenset()
    result = {"view"}
    manage = "sessions.manage" in granted
    open_ = meeting.is_open
    if minutes is not None and (manage or minutes.is_approved or minutes.document_id):
        result.add("view_minutes")
    if not manage:
        return frozenset(result)
    if open_:
        result |= {"edit", "edit_agenda", "cancel"}
        if meeting.starts_at > timezone.now():
            result.add("convene")
        if meeting.has_started:
            result |= {"attendance", "vote", "close"}
    if meeting.state == MeetingState.CLOTUREE:
        if minutes is None or not minutes.is_approved:
            result.add("draft_minutes")
        if minutes is not None:
            result.add("issue_minutes")
            if not minutes.is_approved:
                result.add("edit_minutes")
    return frozenset(result)
