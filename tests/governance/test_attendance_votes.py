"""The attendance sheet (proxies, suppléants, live quorum) and the votes through the pages:
the decisions register, a decision adopting the document d'orientation (it takes the
circuit's « adopté par la CIL » step) or approving the CIA."""

import pytest
from django.urls import reverse
from django.utils import timezone

from cil.governance.models import Attendance, Decision, ItemKind
from cil.governance.services import agenda
from cil.models import RepresentativeKind
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.models import OrientationDocument, OrientationTransition
from tests.conventions.orientations_support import orientation_at
from tests.governance.support import (
    add_member,
    committee,
    representative,
    today_meeting,
    upcoming_meeting,
)
from tests.world import build_world

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def sitting(world):
    """A committee sitting today. College 1: Alpha (with a suppléant), Bravo, Charlie;
    college 2: Delta; college 1 again: Xray, without voting right. 4 voting members: the
    quorum is 2."""
    conference = world.a.conference
    members = {
        "alpha": add_member(conference, "Alpha", suppleant=True),
        "bravo": add_member(conference, "Bravo"),
        "charlie": add_member(conference, "Charlie"),
        "delta": add_member(conference, "Delta", college=2),
        "xray": add_member(conference, "Xray", voting=False),
    }
    body = committee(world.a, members.values())
    meeting = today_meeting(world.a, body=body, title="Réunion du comité")
    return meeting, members


def _url(world, name, meeting, **kwargs):
    return reverse(
        name,
        kwargs={
            "conference_slug": world.a.conference.slug,
            "meeting_id": meeting.public_id,
            **kwargs,
        },
    )


def _mark(client, world, meeting, member, status, holder=None, attendee=None, htmx=False):
    data = {"status": status}
    if holder is not None:
        data["proxy_holder"] = str(holder.public_id)
    if attendee is not None:
        data["attendee"] = str(attendee.public_id)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    response = client.post(
        _url(world, "attendance_row", meeting, membership_id=member.public_id),
        data,
        follow=not htmx,
        **headers,
    )
    return response.content.decode()


def _status(world, meeting, member):
    with conference_scope(world.a.conference):
        row = Attendance.objects.filter(meeting=meeting, membership=member).first()
        return (
            (row.status, row.proxy_holder_id and row.proxy_holder.organisation.name)
            if row
            else None
        )


def test_proxy_rules_are_enforced_on_the_sheet(client, world, sitting):
    meeting, m = sitting
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    sheet = client.get(_url(world, "attendance_sheet", meeting)).content.decode()
    assert "Quorum non atteint" in sheet
    assert "0</strong> membre présent ou représenté sur 4 à voix délibérative — 2 requis" in sheet

    # No proxy to someone absent (not recorded yet).
    page = _mark(client, world, meeting, m["bravo"], "represente", m["alpha"])
    assert "Alpha n&#x27;est pas présent : il ne peut pas détenir le pouvoir de Bravo." in page
    assert _status(world, meeting, m["bravo"]) is None

    page = _mark(client, world, meeting, m["alpha"], "present", htmx=True)
    assert "Enregistré : présent." in page
    assert 'hx-swap-oob="true"' in page  # the quorum panel, refreshed live
    page = _mark(client, world, meeting, m["bravo"], "represente", m["alpha"], htmx=True)
    assert "Quorum atteint" in page
    assert "2</strong> membres présents ou représentés sur 4" in page
    assert "Détient le pouvoir de Bravo" in page
    assert _status(world, meeting, m["bravo"]) == ("represente", "Alpha")

    # At most one proxy per member (the default).
    page = _mark(client, world, meeting, m["charlie"], "represente", m["alpha"])
    assert (
        "Alpha détiendrait 2 pouvoirs : le règlement en admet un pouvoir au plus par membre."
        in page
    )
    assert _status(world, meeting, m["charlie"]) is None
    # Same college only.
    page = _mark(client, world, meeting, m["delta"], "represente", m["alpha"])
    assert (
        "Le pouvoir de Delta doit être donné à un membre du même collège (collège 2) ; Alpha est du collège 1."
        in page
    )
    # No chain: Charlie present, Alpha would give Bravo's proxy on to Charlie.
    _mark(client, world, meeting, m["charlie"], "present")
    page = _mark(client, world, meeting, m["alpha"], "represente", m["charlie"])
    assert "Alpha a lui-même donné pouvoir : un pouvoir ne se transmet pas en cascade." in page
    assert _status(world, meeting, m["alpha"]) == ("present", None)
    # The holder cannot leave while holding a proxy.
    page = _mark(client, world, meeting, m["alpha"], "absent")
    assert "Alpha n&#x27;est pas présent : il ne peut pas détenir le pouvoir de Bravo." in page
    # A member without voting right neither gives nor receives a proxy (it gets no choice).
    page = client.get(_url(world, "attendance_sheet", meeting)).content.decode()
    assert f'id="pouvoir-{m["xray"].public_id}"' not in page
    page = _mark(client, world, meeting, m["xray"], "represente", m["alpha"])
    assert "Xray n&#x27;a pas voix délibérative : il n&#x27;a pas de vote à confier." in page

    # With two proxies allowed, Charlie may give his to Alpha.
    client.post(
        reverse("governance_settings", kwargs={"conference_slug": world.a.conference.slug}),
        {
            "quorum_comparison": "au_moins", "quorum": "1/2", "remote_counts": "on",
            "max_proxies": "2", "majority_rule": "simple", "votes_by_college": "on",
            "convocation_notice_days": "10", "reminder_days": "3", "plenary_rhythm": "semestrielle",
        },
    )  # fmt: skip
    _mark(client, world, meeting, m["charlie"], "represente", m["alpha"])
    assert _status(world, meeting, m["charlie"]) == ("represente", "Alpha")


def test_a_suppleant_replaces_the_titulaire(client, world, sitting):
    meeting, m = sitting
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    page = _mark(client, world, meeting, m["bravo"], "supplee")
    assert "Bravo n&#x27;a pas de suppléant en fonction à la date de la séance." in page
    _mark(client, world, meeting, m["alpha"], "supplee")
    with conference_scope(world.a.conference):
        row = Attendance.objects.get(meeting=meeting, membership=m["alpha"])
        assert row.attendee == representative(m["alpha"], RepresentativeKind.SUPPLEANT)
    # Someone else's representative cannot sit for Alpha.
    page = _mark(client, world, meeting, m["alpha"], "present", attendee=representative(m["bravo"]))
    assert "Cette personne ne représente pas Alpha à la date de la séance." in page
    page = client.get(_url(world, "meeting_detail", meeting)).content.decode()
    assert "1</strong> membre présent ou représenté sur 4" in page


def test_the_sheet_opens_on_the_day_of_the_session(client, world):
    meeting = upcoming_meeting(world.a)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.get(_url(world, "attendance_sheet", meeting), follow=True)
    assert (
        "la feuille de présence, les votes et la clôture s&#x27;ouvrent le jour de la séance"
        in (response.content.decode())
    )


def _deliberation(world, meeting, title="Modalités de saisine du comité", **kwargs):
    with conference_scope(world.a.conference):
        return agenda.item_save(
            conference=world.a.conference,
            actor=world.a.users[RoleName.SECRETARIAT],
            meeting=meeting,
            kind=kwargs.pop("kind", ItemKind.DELIBERATION),
            title=title,
            **kwargs,
        )


def _vote(client, world, meeting, item, ballots: dict, **extra):
    data = {
        f"{name}_{college}": value
        for college, counts in ballots.items()
        for name, value in counts.items()
    }
    return client.post(
        _url(world, "item_vote", meeting, item_id=item.public_id), data | extra, follow=True
    )


def test_votes_need_the_quorum_and_fill_the_register(client, world, sitting):
    meeting, m = sitting
    item = _deliberation(world, meeting)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    _mark(client, world, meeting, m["alpha"], "present")
    page = _vote(client, world, meeting, item, {1: {"pour": 1}}).content.decode()
    assert (
        "Le quorum n&#x27;est pas atteint (1 membres présents ou représentés sur 4, 2 requis)"
        in page
    )

    _mark(client, world, meeting, m["bravo"], "represente", m["alpha"])
    _mark(client, world, meeting, m["delta"], "present")
    _mark(client, world, meeting, m["xray"], "present")  # voix consultative: no vote
    form = client.get(_url(world, "item_vote", meeting, item_id=item.public_id)).content.decode()
    assert "Collège 1 — collectivités territoriales" in form
    # College 1 holds 2 voices (Alpha and Bravo's proxy), college 2 one.
    page = _vote(
        client, world, meeting, item, {1: {"pour": 2, "contre": 1}, 2: {"pour": 1}}
    ).content.decode()
    assert (
        "Pour le collège 1, 3 voix sont saisies alors que 2 membres seulement peuvent voter" in page
    )
    page = _vote(
        client, world, meeting, item, {1: {"pour": 1, "contre": 1}, 2: {"contre": 1}}
    ).content.decode()
    assert f"Point 1 non adopté — décision n° {YEAR}-01 inscrite au registre." in page

    second = _deliberation(world, meeting, "Calendrier des réunions")
    page = _vote(client, world, meeting, second, {}, unanimite="1").content.decode()
    assert f"Point 2 adopté — décision n° {YEAR}-02 inscrite au registre." in page
    with conference_scope(world.a.conference):
        decision = Decision.objects.get(item=second)
        assert (decision.pour, decision.contre, decision.abstention, decision.voters) == (
            3,
            0,
            0,
            3,
        )
        assert decision.by_college == {
            "1": {"pour": 2, "contre": 0, "abstention": 0, "votants": 2},
            "2": {"pour": 1, "contre": 0, "abstention": 0, "votants": 1},
        }
        assert decision.quorum == {
            "membres_votants": 4,
            "presents": 2,
            "representes": 1,
            "requis": 2,
            "atteint": True,
        }
        assert decision.unanimous
    # A point is voted once.
    page = _vote(client, world, meeting, second, {1: {"pour": 1}}).content.decode()
    assert "Ce point a déjà été voté." in page

    # Every member reads the register and the decision; only the secretariat votes.
    client.force_login(world.a.users[RoleName.ELU])
    register = client.get(
        reverse("decision_list", kwargs={"conference_slug": world.a.conference.slug})
    )
    content = register.content.decode()
    assert f"{YEAR}-01" in content
    assert f"{YEAR}-02" in content
    assert "rejetée" in content
    assert "unanimité" in content
    detail = client.get(
        reverse(
            "decision_detail",
            kwargs={"conference_slug": world.a.conference.slug, "decision_id": decision.public_id},
        )
    ).content.decode()
    assert "Adoptée à l'unanimité" in detail
    assert "Calendrier des réunions" in detail
    assert client.get(_url(world, "item_vote", meeting, item_id=item.public_id)).status_code == 403
    # Another conference's member sees none of it.
    client.force_login(world.b.users[RoleName.SECRETARIAT])
    assert client.get(_url(world, "meeting_detail", meeting)).status_code == 404
    b_register = reverse("decision_list", kwargs={"conference_slug": world.b.conference.slug})
    assert "Calendrier des réunions" not in client.get(b_register).content.decode()


def test_votes_without_report_by_college_and_absolute_majority(client, world, sitting):
    meeting, m = sitting
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    client.post(
        reverse("governance_settings", kwargs={"conference_slug": world.a.conference.slug}),
        {
            "quorum_comparison": "plus_de", "quorum": "1/2", "remote_counts": "on",
            "max_proxies": "1", "majority_rule": "absolue",
            "convocation_notice_days": "10", "reminder_days": "3", "plenary_rhythm": "semestrielle",
        },
    )  # fmt: skip
    item = _deliberation(world, meeting)
    _mark(client, world, meeting, m["alpha"], "present")
    _mark(client, world, meeting, m["bravo"], "present")
    # Exactly half (2 of 4) does not make « more than half ».
    page = _vote(client, world, meeting, item, {0: {"pour": 2}}).content.decode()
    assert (
        "Le quorum n&#x27;est pas atteint (2 membres présents ou représentés sur 4, 3 requis)"
        in page
    )
    _mark(client, world, meeting, m["delta"], "distance")
    form = client.get(_url(world, "item_vote", meeting, item_id=item.public_id)).content.decode()
    assert "Ensemble des votants" in form
    # 3 voters: 1 for, 0 against, 2 abstentions is not an absolute majority (2 needed).
    page = _vote(client, world, meeting, item, {0: {"pour": 1, "abstention": 2}}).content.decode()
    assert "non adopté" in page
    assert "2 voix pour étaient nécessaires sur 3 votants" in page


def test_a_decision_adopts_the_document_d_orientation(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    document = orientation_at(world.a.conference, world.a.users, "consultation")
    meeting = today_meeting(world.a)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.post(
        _url(world, "item_add", meeting), {"kind": ItemKind.ORIENTATIONS, "title": ""}, follow=True
    )
    assert (
        f"Point 1 enregistré : « Adoption du document d&#x27;orientation « {document.title} » (version 1) »."
        in (response.content.decode())
    )
    with conference_scope(world.a.conference):
        item = meeting.items.get()
    voters = _members(meeting)
    for membership in voters:
        _mark(client, world, meeting, membership, "present")
    # The orientation page points to the session instead of a manual entry.
    adopt = reverse(
        "orientation_adopt",
        kwargs={"conference_slug": world.a.conference.slug, "document_id": document.public_id},
    )
    page = client.get(adopt).content.decode()
    assert "L'adoption n'est pas saisie à la main" in page
    assert "vote à enregistrer" in page
    assert client.post(adopt, {"date_seance": "2026-01-01"}).status_code == 405

    count = len(voters)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        page = _vote(
            client, world, meeting, item, {2: {"pour": count - 2, "contre": 1, "abstention": 1}}
        ).content.decode()
    assert f"Point 1 adopté — décision n° {YEAR}-01" in page
    with conference_scope(world.a.conference):
        document = OrientationDocument.objects.get(pk=document.pk)
        assert document.state == "adopte_cil"
        step = OrientationTransition.objects.get(document=document, name="adopter")
        decision = Decision.objects.get(item=item)
        assert step.data == {
            "date_seance": timezone.localdate().isoformat(),
            "voix_pour": count - 2,
            "voix_contre": 1,
            "abstentions": 1,
            "source": {
                "decision": str(decision.public_id),
                "numero": f"{YEAR}-01",
                "seance": str(meeting.public_id),
            },
        }
        assert step.actor == world.a.users[RoleName.SECRETARIAT]
        assert step.comment.startswith(f"Décision n° {YEAR}-01")
    # The prefecture is told, as for every adoption.
    assert sorted(m.to[0] for m in mailoutbox) == ["multi@ab.test", "prefecture@a.test"]
    orientation_page = client.get(
        reverse(
            "orientation_detail",
            kwargs={"conference_slug": world.a.conference.slug, "document_id": document.public_id},
        )
    ).content.decode()
    assert f"Décision n° {YEAR}-01 de la conférence" in orientation_page
    assert f"Voix pour : {count - 2}" in orientation_page


def _members(meeting):
    from cil.governance.selectors import members_of

    with conference_scope(meeting.conference):
        return list(members_of(meeting))


def test_a_rejected_or_outdated_orientation_vote_leaves_the_circuit_alone(client, world):
    from conventions.selectors_orientations import sections_of
    from conventions.services_orientations import orientation_section_save

    document = orientation_at(world.a.conference, world.a.users, "consultation")
    meeting = today_meeting(world.a)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    client.post(_url(world, "item_add", meeting), {"kind": ItemKind.ORIENTATIONS})
    with conference_scope(world.a.conference):
        first = meeting.items.get()
    members = _members(meeting)
    for membership in members:
        _mark(client, world, meeting, membership, "present")
    page = _vote(client, world, meeting, first, {2: {"pour": 2, "contre": 2}}).content.decode()
    assert "Point 1 non adopté" in page
    with conference_scope(world.a.conference):
        assert OrientationDocument.objects.get(pk=document.pk).state == "consultation"

    # The document changes after it was put on the agenda: the vote is refused, nothing
    # is written; the item, edited, submits the current version.
    client.post(_url(world, "item_add", meeting), {"kind": ItemKind.ORIENTATIONS})
    with conference_scope(world.a.conference):
        second = meeting.items.get(order=2)
        orientation_section_save(
            conference=world.a.conference,
            actor=world.a.users[RoleName.SECRETARIAT],
            document=document,
            base_version=None,
            key=sections_of(document.current_version)[0].key,
            title="Mixité sociale",
            body="Texte corrigé.",
        )
    page = _vote(client, world, meeting, second, {2: {"pour": len(members)}}).content.decode()
    assert (
        "Le point soumet la version 1 du document d&#x27;orientation, qui a changé depuis" in page
    )
    with conference_scope(world.a.conference):
        assert not Decision.objects.filter(item=second).exists()
        assert OrientationDocument.objects.get(pk=document.pk).state == "brouillon"
    # A document back to the draft cannot be put on the agenda for adoption.
    response = client.post(
        _url(world, "item_edit", meeting, item_id=second.public_id), {"kind": ItemKind.ORIENTATIONS}
    )
    assert (
        "la conférence adopte un document soumis à la consultation des membres"
        in response.content.decode()
    )


def test_a_decision_approves_a_version_of_the_cia(client, world):
    from tests.test_tenant_isolation import _cia

    convention = _cia(world.a)
    version = world.a.cia_draft
    meeting = today_meeting(world.a)
    client.force_login(world.a.users[RoleName.SECRETARIAT])
    response = client.post(
        _url(world, "item_add", meeting), {"kind": ItemKind.CIA, "cia_version": ""}
    )
    assert (
        "Choisissez la version de la convention soumise à l&#x27;approbation."
        in response.content.decode()
    )
    client.post(
        _url(world, "item_add", meeting),
        {"kind": ItemKind.CIA, "cia_version": str(version.public_id)},
    )
    with conference_scope(world.a.conference):
        item = meeting.items.get()
    members = _members(meeting)
    for membership in members:
        _mark(client, world, meeting, membership, "present")
    _vote(client, world, meeting, item, {}, unanimite="1")
    client.force_login(world.a.users[RoleName.BAILLEUR])
    page = client.get(
        reverse(
            "cia_detail",
            kwargs={
                "conference_slug": world.a.conference.slug,
                "convention_id": convention.public_id,
            },
        )
    ).content.decode()
    assert f"Approuvée par la conférence le {timezone.localdate():%-d}" in page
    assert f"décision n° {YEAR}-01" in page
    assert f"({len(members)} pour, 0 contre, 0 abstention)" in page
