"""Every read the governance pages need, inside the open conference scope. `access_*`
functions raise Http404 for "absent" and "not yours" alike (another conference's rows are
outside the scope)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cil.governance import counting
from cil.governance.models import (
    AgendaAttachment,
    AgendaItem,
    Attendance,
    Body,
    Convocation,
    ConvocationKind,
    Decision,
    GovernanceSettings,
    Meeting,
    MeetingState,
    Minutes,
)
from cil.models import College, Conference, Membership, Representative, RepresentativeKind

# --- Rules ------------------------------------------------------------------------------


def settings_of(conference: Conference) -> GovernanceSettings:
    """The conference's rules; the defaults (unsaved) until the secretariat saves them."""
    return GovernanceSettings.objects.filter(conference=conference).first() or GovernanceSettings(
        conference=conference
    )


# --- Lookups ----------------------------------------------------------------------------


def access_meeting(*, meeting_id) -> Meeting:
    return get_object_or_404(Meeting.objects.select_related("body"), public_id=meeting_id)


def access_item(*, meeting: Meeting, item_id) -> AgendaItem:
    return get_object_or_404(
        AgendaItem.objects.select_related(
            "orientation_version__document", "cia_version__convention", "minutes__meeting"
        ),
        meeting=meeting,
        public_id=item_id,
    )


def access_attachment(*, meeting: Meeting, attachment_id) -> AgendaAttachment:
    return get_object_or_404(
        AgendaAttachment.objects.select_related("item", "document"),
        item__meeting=meeting,
        public_id=attachment_id,
    )


def access_body(*, body_id) -> Body:
    return get_object_or_404(Body, public_id=body_id)


def access_decision(*, decision_id) -> Decision:
    return get_object_or_404(
        Decision.objects.select_related("meeting__body", "item"), public_id=decision_id
    )


def access_minutes(*, meeting: Meeting) -> Minutes:
    return get_object_or_404(
        Minutes.objects.select_related("approval_decision__meeting", "document"), meeting=meeting
    )


def access_member(*, meeting: Meeting, membership_id) -> Membership:
    """A member organisation seated in the meeting's body."""
    return get_object_or_404(members_of(meeting), public_id=membership_id)


# --- Lists ------------------------------------------------------------------------------


def meetings_upcoming() -> QuerySet[Meeting]:
    start_of_today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        Meeting.objects.filter(starts_at__gte=start_of_today)
        .exclude(state=MeetingState.CLOTUREE)
        .select_related("body")
        .annotate(item_count=Count("items"))
        .order_by("starts_at", "id")
    )


def meetings_past() -> QuerySet[Meeting]:
    start_of_today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    return (
        Meeting.objects.filter(Q(starts_at__lt=start_of_today) | Q(state=MeetingState.CLOTUREE))
        .select_related("body", "minutes")
        .annotate(item_count=Count("items"), decision_count=Count("decisions", distinct=True))
        .order_by("-starts_at", "-id")
    )


def bodies() -> QuerySet[Body]:
    return Body.objects.annotate(member_count=Count("members", distinct=True)).order_by(
        "-is_active", "kind", "name"
    )


def decisions(*, year: int | None = None) -> QuerySet[Decision]:
    rows = Decision.objects.select_related(
        "meeting__body",
        "item__orientation_version__document",
        "item__cia_version__convention",
        "item__minutes__meeting",
    )
    if year is not None:
        rows = rows.filter(year=year)
    return rows.order_by("-year", "-number")


def decision_years() -> list[int]:
    return list(Decision.objects.order_by("-year").values_list("year", flat=True).distinct())


def items_of(meeting: Meeting) -> list[AgendaItem]:
    return list(
        meeting.items.select_related(
            "orientation_version__document",
            "cia_version__convention",
            "minutes__meeting",
            "minutes__document",
            "decision",
        )
        .prefetch_related(
            Prefetch(
                "attachments",
                queryset=AgendaAttachment.objects.select_related("document").order_by(
                    "created_at", "id"
                ),
            )
        )
        .order_by("order", "id")
    )


def decisions_on_cia_version(version) -> list[Decision]:
    return list(
        Decision.objects.filter(item__cia_version=version)
        .select_related("meeting__body")
        .order_by("decided_on", "id")
    )


# --- The members of a session's body -----------------------------------------------------


def members_of(meeting: Meeting) -> QuerySet[Membership]:
    """The member organisations of the body: every member of the conference for the
    plenary, the body's members otherwise."""
    members = Membership.objects.select_related("organisation")
    if meeting.body_id is not None:
        members = members.filter(bodies=meeting.body_id)
    return members.order_by("college", "organisation__name")


def current_on(day: date) -> Q:
    return Q(mandate_start__lte=day) & (Q(mandate_end__isnull=True) | Q(mandate_end__gte=day))


@dataclass
class RosterRow:
    membership: Membership
    titulaires: list[Representative]
    suppleants: list[Representative]
    attendance: Attendance | None

    @property
    def status(self) -> str:
        return self.attendance.status if self.attendance else counting.UNKNOWN

    @property
    def key(self) -> str:
        return str(self.membership.public_id)


def roster(meeting: Meeting) -> list[RosterRow]:
    """Every member of the body with its representatives in office on the session's day
    and its attendance, by college then name."""
    day = meeting.local_date
    members = list(
        members_of(meeting).prefetch_related(
            Prefetch(
                "representatives",
                queryset=Representative.objects.filter(current_on(day)).order_by(
                    "last_name", "first_name"
                ),
                to_attr="in_office",
            )
        )
    )
    attendances = {
        a.membership_id: a
        for a in Attendance.objects.filter(meeting=meeting).select_related(
            "attendee", "proxy_holder__organisation"
        )
    }
    return [
        RosterRow(
            membership=m,
            titulaires=[r for r in m.in_office if r.kind == RepresentativeKind.TITULAIRE],
            suppleants=[r for r in m.in_office if r.kind == RepresentativeKind.SUPPLEANT],
            attendance=attendances.get(m.pk),
        )
        for m in members
    ]


def sheet(rows: list[RosterRow]) -> list[counting.Member]:
    """The roster as the pure counting functions read it."""
    return [
        counting.Member(
            key=row.key,
            name=row.membership.organisation.name,
            college=row.membership.college,
            voting=row.membership.voting_right,
            status=row.status,
            proxy_to=(
                str(row.attendance.proxy_holder.public_id)
                if row.attendance and row.attendance.proxy_holder_id
                else None
            ),
        )
        for row in rows
    ]


def meeting_quorum(meeting: Meeting, rows: list[RosterRow] | None = None) -> counting.Quorum:
    rules = settings_of(meeting.conference).rules()
    return counting.quorum(sheet(rows if rows is not None else roster(meeting)), rules)


def quorum_panel(meeting: Meeting, rows: list[RosterRow] | None = None) -> dict:
    """What the live quorum panel shows."""
    rules = settings_of(meeting.conference)
    rows = rows if rows is not None else roster(meeting)
    counted = counting.quorum(sheet(rows), rules.rules())
    labels = dict(College.choices)
    return {
        "quorum": counted,
        "rules": rules,
        "recorded": sum(1 for row in rows if row.attendance is not None),
        "member_count": len(rows),
        "colleges": [
            {"count": c, "label": labels.get(c.college, f"Collège {c.college}")}
            for c in counted.colleges
        ],
    }


# --- Convocations -----------------------------------------------------------------------


@dataclass
class Recipient:
    membership: Membership
    representative: Representative
    kind: str

    @property
    def email(self) -> str:
        return self.representative.email


def recipients(meeting: Meeting, rows: list[RosterRow] | None = None) -> list[Recipient]:
    """Titulaires in office on the session's day are convened, suppléants informed."""
    result = []
    for row in rows if rows is not None else roster(meeting):
        result += [
            Recipient(row.membership, r, ConvocationKind.CONVOCATION) for r in row.titulaires
        ]
        result += [
            Recipient(row.membership, r, ConvocationKind.INFORMATION) for r in row.suppleants
        ]
    return result


def convocations_of(meeting: Meeting) -> list[Convocation]:
    convocations = list(
        Convocation.objects.filter(meeting=meeting)
        .select_related("representative", "membership__organisation")
        .order_by("membership__college", "membership__organisation__name", "kind")
    )
    for convocation in convocations:
        convocation.meeting = meeting  # the caller's instance: no query per convocation
    return convocations


def convocation_summary(meeting: Meeting) -> dict:
    rows = Convocation.objects.filter(meeting=meeting)
    return rows.aggregate(
        total=Count("id"),
        sent=Count("id", filter=Q(sent_at__isnull=False)),
        opened=Count("id", filter=Q(opened_at__isnull=False)),
        reminded=Count("id", filter=Q(reminded_at__isnull=False)),
        outdated=Count("id", filter=Q(sent_at__isnull=False, sent_sequence__lt=meeting.sequence)),
    )


def items_adopting(document) -> list[AgendaItem]:
    """The agenda items that submit (a version of) this document d'orientation to a vote,
    most recent session first."""
    return list(
        AgendaItem.objects.filter(orientation_version__document=document)
        .select_related("meeting__body", "orientation_version", "decision")
        .order_by("-meeting__starts_at", "-id")
    )
