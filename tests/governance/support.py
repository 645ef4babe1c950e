"""Helpers of the governance tests: members with their representatives, bodies and
sessions made through the services, as the secretariat would."""

import datetime
from datetime import time

from django.utils import timezone
from django.utils.text import slugify

from cil.governance.forms import aware
from cil.governance.models import Body, BodyKind, Meeting, Rhythm
from cil.governance.services import meetings as meeting_services
from cil.models import Membership, Representative, RepresentativeKind
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.factories import OrganisationFactory, RepresentativeFactory


def add_member(
    conference,
    name: str,
    *,
    college: int = 1,
    voting: bool = True,
    titulaire: bool = True,
    suppleant: bool = False,
    email: bool = True,
) -> Membership:
    """A member organisation with a titulaire (and a suppléant) in office since 2024."""
    slug = slugify(name)
    with conference_scope(conference):
        membership = Membership.objects.create(
            conference=conference,
            organisation=OrganisationFactory(name=name),
            college=college,
            voting_right=voting,
        )
        if titulaire:
            RepresentativeFactory(
                membership=membership,
                first_name="Titulaire",
                last_name=name,
                email=f"titulaire.{slug}@exemple.fr" if email else "",
            )
        if suppleant:
            RepresentativeFactory(
                membership=membership,
                first_name="Suppléant",
                last_name=name,
                kind=RepresentativeKind.SUPPLEANT,
                email=f"suppleant.{slug}@exemple.fr" if email else "",
            )
    return membership


def representative(membership, kind=RepresentativeKind.TITULAIRE) -> Representative:
    with conference_scope(membership.conference):
        return Representative.objects.get(membership=membership, kind=kind)


def committee(tenant, members, name: str = "Comité de relogement") -> Body:
    with conference_scope(tenant.conference):
        return meeting_services.body_save(
            conference=tenant.conference,
            actor=tenant.users[RoleName.SECRETARIAT],
            name=name,
            kind=BodyKind.COMITE,
            description="Relogement des personnes victimes de violences familiales.",
            rhythm=Rhythm.MENSUELLE,
            members=list(members),
        )


def meeting_on(
    tenant, day: datetime.date, *, body=None, title="Séance plénière", hour=9
) -> Meeting:
    with conference_scope(tenant.conference):
        return meeting_services.meeting_create(
            conference=tenant.conference,
            actor=tenant.users[RoleName.SECRETARIAT],
            body=body,
            title=title,
            starts_at=aware(day, time(hour, 30)),
            ends_at=aware(day, time(hour + 3, 0)),
            place="Hôtel d'agglomération, salle du conseil",
        )


def today_meeting(tenant, **kwargs) -> Meeting:
    """A session today (attendance and votes open), at 00:30 so it has begun."""
    return meeting_on(tenant, timezone.localdate(), hour=0, **kwargs)


def upcoming_meeting(tenant, days: int = 20, **kwargs) -> Meeting:
    return meeting_on(
        tenant, timezone.localdate() + datetime.timedelta(days=days), hour=14, **kwargs
    )


def adopt_in_session(tenant, document, *, day=None, pour=5, contre=1, abstention=1):
    """Put the document d'orientation on the agenda of a plenary on `day` (20 days ago by
    default), mark every member present and record the vote (the world's 7 members, all in
    college 2). Returns the decision."""
    from cil.governance.models import ItemKind
    from cil.governance.selectors import members_of
    from cil.governance.services import agenda, attendance, votes

    day = day or timezone.localdate() - datetime.timedelta(days=20)
    meeting = meeting_on(tenant, day, hour=14, title="Séance plénière")
    actor = tenant.users[RoleName.SECRETARIAT]
    conference = tenant.conference
    with conference_scope(conference):
        item = agenda.item_save(
            conference=conference, actor=actor, meeting=meeting, kind=ItemKind.ORIENTATIONS
        )
        for membership in members_of(meeting):
            attendance.attendance_set(
                conference=conference,
                actor=actor,
                meeting=meeting,
                membership=membership,
                status="present",
            )
        return votes.vote_record(
            conference=conference,
            actor=actor,
            meeting=meeting,
            item=item,
            ballots={2: {"pour": pour, "contre": contre, "abstention": abstention}},
        )
