"""The attendance sheet of a session: one line per member organisation."""

from dataclasses import replace

from django.db import transaction

from cil import audit
from cil.governance import counting
from cil.governance.models import Attendance, AttendanceStatus, Meeting
from cil.governance.selectors import roster, settings_of, sheet
from cil.governance.services.common import fail, lock_meeting, require, same_conference
from cil.models import AuditAction, Conference, Membership, Representative, User

STATUS_LABELS = dict(AttendanceStatus.choices) | {counting.UNKNOWN: "Non renseigné"}


def check_recording(meeting: Meeting) -> None:
    """Attendance and votes are recorded from the session's day until it is closed."""
    if not meeting.is_open:
        fail(
            None,
            f"La séance est {meeting.get_state_display().lower()} : sa feuille de présence et ses votes ne changent plus.",
        )
    if not meeting.has_started:
        fail(
            None,
            "La séance n'a pas encore eu lieu : la feuille de présence et les votes s'ouvrent le jour de la séance.",
        )


@transaction.atomic
def attendance_set(
    *,
    conference: Conference,
    actor: User | None,
    meeting: Meeting,
    membership: Membership,
    status: str,
    attendee: Representative | None = None,
    proxy_holder: Membership | None = None,
) -> Attendance | None:
    """Record one member's attendance (status "" clears the line). Who sat must be one of
    its representatives in office; a proxy follows the conference's rules
    (counting.proxy_errors), checked on the whole sheet as it would become."""
    require(actor, "sessions.manage")
    same_conference(conference, membership, attendee, proxy_holder)
    meeting = lock_meeting(conference, meeting)
    check_recording(meeting)
    rows = roster(meeting)
    row = next((r for r in rows if r.membership.pk == membership.pk), None)
    name = membership.organisation.name
    if row is None:
        fail(None, f"{name} ne siège pas dans cette instance.")
    if status not in STATUS_LABELS:
        fail("status", "Présence inconnue.")

    if status in (counting.PRESENT, counting.DISTANCE):
        if attendee is None:
            attendee = row.titulaires[0] if row.titulaires else None
        elif attendee not in row.titulaires + row.suppleants:
            fail("attendee", f"Cette personne ne représente pas {name} à la date de la séance.")
    elif status == counting.SUPPLEE:
        if not row.suppleants:
            fail("attendee", f"{name} n'a pas de suppléant en fonction à la date de la séance.")
        if attendee is None and len(row.suppleants) == 1:
            attendee = row.suppleants[0]
        if attendee not in row.suppleants:
            fail("attendee", f"Choisissez le suppléant de {name} qui siège.")
    else:
        attendee = None
    if status == counting.REPRESENTE:
        if proxy_holder is None:
            fail("proxy_holder", f"Indiquez le membre à qui {name} a donné pouvoir.")
        if not any(r.membership.pk == proxy_holder.pk for r in rows):
            fail(
                "proxy_holder",
                f"{proxy_holder.organisation.name} ne siège pas dans cette instance.",
            )
    else:
        proxy_holder = None

    rules = settings_of(conference).rules()
    before_sheet = sheet(rows)
    key = row.key
    after_sheet = [
        replace(m, status=status, proxy_to=str(proxy_holder.public_id) if proxy_holder else None)
        if m.key == key
        else m
        for m in before_sheet
    ]
    known = {(e.key, e.message) for e in counting.proxy_errors(before_sheet, rules)}
    new = [e for e in counting.proxy_errors(after_sheet, rules) if (e.key, e.message) not in known]
    if new:
        field = "proxy_holder" if status == counting.REPRESENTE else "status"
        fail(field, " ".join(e.message for e in new))

    previous = row.attendance
    before = {
        "présence": STATUS_LABELS[previous.status] if previous else STATUS_LABELS[counting.UNKNOWN],
        "pouvoir à": previous.proxy_holder.organisation.name
        if previous and previous.proxy_holder_id
        else None,
        "siège": str(previous.attendee) if previous and previous.attendee_id else None,
    }
    if status == counting.UNKNOWN:
        if previous is not None:
            previous.delete()
        attendance = None
    else:
        attendance = previous or Attendance(
            conference=conference, meeting=meeting, membership=membership
        )
        attendance.status = status
        attendance.attendee = attendee
        attendance.proxy_holder = proxy_holder
        attendance.updated_by = actor
        attendance.save()
    after = {
        "présence": STATUS_LABELS[status],
        "pouvoir à": proxy_holder.organisation.name if proxy_holder else None,
        "siège": str(attendee) if attendee else None,
    }
    changes = audit.diff(before, after)
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.UPDATE,
            obj=meeting,
            object_repr=f"{meeting} — présence de {name}",
            changes=changes,
        )
    return attendance
