"""The minutes (procès-verbal) PDF, registered with the documents pipeline
(conventions/pdf/registry.py): the text written by the secretariat (Markdown, sanitised by
conventions/markdown.py), whether it is approved and by which decision, then two annexes
drawn from the record — the attendance sheet by college and the votes."""

from cil.governance import counting
from cil.governance.models import Decision, Minutes
from cil.governance.selectors import meeting_quorum, roster, settings_of
from cil.models import College
from conventions import markdown
from conventions.models import DocumentKind, GeneratedDocument
from conventions.pdf.registry import register

STATUS_LABELS = {
    counting.PRESENT: "Présent",
    counting.DISTANCE: "Présent à distance",
    counting.SUPPLEE: "Remplacé par son suppléant",
    counting.REPRESENTE: "Représenté",
    counting.EXCUSE: "Excusé",
    counting.ABSENT: "Absent",
    counting.UNKNOWN: "Absent",
}


def attendance_annex(meeting) -> list[dict]:
    rows = roster(meeting)
    labels = dict(College.choices)
    colleges = []
    for college, label in labels.items():
        lines = []
        for row in rows:
            if row.membership.college != college:
                continue
            attendance = row.attendance
            who = ""
            if attendance and attendance.attendee_id:
                who = f"{attendance.attendee.first_name} {attendance.attendee.last_name}"
            if attendance and attendance.proxy_holder_id:
                who = f"pouvoir à {attendance.proxy_holder.organisation.name}"
            lines.append(
                {
                    "name": row.membership.organisation.name,
                    "voting": row.membership.voting_right,
                    "status": STATUS_LABELS[row.status],
                    "who": who,
                }
            )
        if lines:
            colleges.append({"label": label, "lines": lines})
    return colleges


@register(
    DocumentKind.PROCES_VERBAL,
    view_permission="sessions.view",
    seal_reason="Cachet électronique de la plateforme : procès-verbal de séance",
)
def build_minutes_pdf(document: GeneratedDocument) -> tuple[str, dict]:
    minutes = Minutes.objects.select_related("meeting__body", "approval_decision__meeting").get(
        public_id=document.subject_id
    )
    meeting = minutes.meeting
    decisions = list(
        Decision.objects.filter(meeting=meeting).select_related("item").order_by("item__order")
    )
    college_labels = dict(College.choices)
    for decision in decisions:
        decision.colleges = [
            {"label": college_labels.get(int(key), "Ensemble des votants"), **counts}
            for key, counts in sorted(decision.by_college.items(), key=lambda kv: int(kv[0]))
        ]
    return "governance/pdf/minutes.html", {
        "minutes": minutes,
        "meeting": meeting,
        "body_html": markdown.render(minutes.body),
        "quorum": meeting_quorum(meeting),
        "rules": settings_of(meeting.conference),
        "colleges": attendance_annex(meeting),
        "decisions": decisions,
    }
