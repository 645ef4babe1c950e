"""Query counting over the GET pages of the isolation matrix (tests/test_query_counts.py).

`pages()` lists every GET page with the roles that may see it; `grow()` adds rows of
everything these pages list to conference A, in bulk; `measure()` requests each page as
each role (a warm-up request first, for the session and the caches) and keeps the queries of
the second request; `table()` and `extra_queries()` explain a failure.
"""

import copy as copy_module
import datetime
import re
import uuid
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models.base import ModelState
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from attributions import bilan_cache
from cil.models import (
    Access,
    AccessChannel,
    AccessLogEntry,
    AuditAction,
    AuditEntry,
    Commune,
    Invitation,
    Membership,
    Organisation,
    OrganisationType,
    Qpv,
    QpvYear,
    Representative,
    RepresentativeKind,
    Role,
    User,
)
from cil.permissions import PERMISSIONS
from cil.roles import RoleName
from cil.tenancy import conference_scope
from tests.factories import next_siren
from tests.test_tenant_isolation import CONFERENCE_ROWS, GLOBAL_ROWS, _orientation_doc
from tests.world import World

ANONYMOUS = "anonyme"


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # a RoleName, or ANONYMOUS
    url: str


def pages(world: World) -> list[Page]:
    """Every GET page of conference A × every role whose permissions open it; the global GET
    pages (public open data included) anonymous and as A's secretariat, but `health` (a probe
    of the database, cache and broker, not a page). URLs are built once (the builders make
    the objects they name on first use).

    A conference has one current document d'orientation: the steps of other states
    (submit, adopt, deliberate, enforce) are measured on the default one, where they answer
    « pas maintenant »; their count then depends on that state, not on rows."""
    found = []
    default_orientation = _orientation_doc()
    default_orientation(world.a)
    for name, row in sorted(CONFERENCE_ROWS.items()):
        if row.method != "get":
            continue
        try:
            kwargs = row.kwargs(world.a)
        except ValidationError:
            kwargs = default_orientation(world.a)
        url = reverse(name, kwargs={"conference_slug": world.a.conference.slug, **kwargs})
        found += [Page(name, role, url) for role in sorted(PERMISSIONS[row.permission])]
    for name, (kwargs, method, _anonymous, _signed_in) in sorted(GLOBAL_ROWS.items()):
        if method != "get" or name == "health":
            continue
        url = reverse(name, kwargs=kwargs(world.a) or None)
        found += [Page(name, ANONYMOUS, url), Page(name, RoleName.SECRETARIAT, url)]
    return found


def _read(response) -> None:
    """Consume the body: a streamed response runs its queries while it is read."""
    if response.streaming:
        b"".join(response.streaming_content)
    else:
        response.content  # noqa: B018


@dataclass(frozen=True)
class Measure:
    status: int
    queries: tuple[str, ...]  # SQL of each query


def _request(client, page: Page) -> Measure:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(page.url)
        _read(response)
    return Measure(response.status_code, tuple(query["sql"] for query in queries.captured_queries))


def measure(
    clients: dict[str, object], found: list[Page], *, like: dict[Page, Measure] | None = None
) -> dict[Page, Measure]:
    """Status and queries of each page on its second request: the first one fills the
    session and the caches (the stored bilan, open data tables). Given `like` (the counts
    of an earlier pass, whose requests already filled them), a page is requested once, and
    a second time only when its count differs (a cache emptied since: the bilan)."""
    counts = {}
    for page in found:
        client = clients[page.role]
        measured = _request(client, page)
        if like is None or len(measured.queries) != len(like[page].queries):
            measured = _request(client, page)
        counts[page] = measured
    return counts


def table(rows: list[tuple[Page, Measure, Measure]]) -> str:
    lines = [f"{'URL':38} {'rôle':12} {'statut':>6} {'à 5':>5} {'à 500':>6}"]
    lines += [
        f"{page.name:38} {page.role:12} {big.status:>6} {len(small.queries):>5} "
        f"{len(big.queries):>6}"
        for page, small, big in rows
    ]
    return "\n".join(lines)


def _shape(sql: str) -> str:
    return re.sub(r"\d+", "N", sql)[:300]


def extra_queries(small: Measure, big: Measure) -> str:
    """The queries (numbers blanked, cut) one request made and the other did not."""
    before = Counter(_shape(sql) for sql in small.queries)
    after = Counter(_shape(sql) for sql in big.queries)
    lines = [f"+{n} {sql}" for sql, n in (after - before).items()]
    lines += [f"-{n} {sql}" for sql, n in (before - after).items()]
    return "\n".join(lines)


def grow(world: World, count: int) -> None:
    """Add `count` rows of everything the pages of conference A list, in bulk.

    Runs after `pages()` (which made the objects the URLs name: the CIA draft, the
    sessions, the document d'orientation…): the rows hang on those objects so that the
    pages that show them list them. Call it again to add more (names stay unique)."""
    tenant = world.a
    serial = _SERIALS.get(id(tenant), 0)
    _SERIALS[id(tenant)] = serial + count
    numbers = range(serial, serial + count)
    with conference_scope(tenant.conference):
        for grower in _GROWERS:
            grower(tenant, numbers)
    # The stored bilan is computed again from the grown lines (bulk inserts bypass the
    # services that invalidate it).
    bilan_cache.invalidate_all(conference_id=tenant.conference.pk)


_SERIALS: dict[int, int] = {}
_PASSWORD = make_password("mot-de-passe-solide-42")
_NOW = datetime.datetime(2026, 1, 15, 10, tzinfo=datetime.UTC)
_TODAY = datetime.date(2025, 6, 1)


def _grow_territory(t, numbers):
    communes = Commune.objects.bulk_create(
        Commune(conference=t.conference, insee=f"{80000 + i:05d}", name=f"Commune {i}")
        for i in numbers
    )
    qpvs = Qpv.objects.bulk_create(
        Qpv(conference=t.conference, code=f"QN{i:06d}", name=f"Quartier {i}") for i in numbers
    )
    Qpv.communes.through.objects.bulk_create(
        Qpv.communes.through(qpv=qpv, commune=commune)
        for qpv, commune in zip(qpvs, communes, strict=True)
    )
    QpvYear.objects.bulk_create(
        QpvYear(conference=t.conference, qpv=qpv, year=2025) for qpv in qpvs
    )


def _grow_members(t, numbers):
    organisations = Organisation.objects.bulk_create(
        Organisation(siren=next_siren(), name=f"Organisation {i}", type=OrganisationType.BAILLEUR)
        for i in numbers
    )
    memberships = Membership.objects.bulk_create(
        Membership(
            conference=t.conference,
            organisation=organisation,
            college=1 + i % 3,
            voting_right=True,
        )
        for i, organisation in zip(numbers, organisations, strict=True)
    )
    Representative.objects.bulk_create(
        Representative(
            conference=t.conference,
            membership=membership,
            first_name="Camille",
            last_name=f"Représentant {i}",
            email=f"representant{i}@exemple.fr",
            kind=RepresentativeKind.TITULAIRE,
            mandate_start=datetime.date(2024, 1, 1),
        )
        for i, membership in zip(numbers, memberships, strict=True)
    )
    t.__dict__.setdefault("grown_organisations", []).extend(organisations)


def _grow_users(t, numbers):
    roles = sorted(RoleName)
    users = User.objects.bulk_create(
        User(
            email=f"personne{i}@croissance.test",
            first_name="Dominique",
            last_name=f"Durand {i}",
            password=_PASSWORD,
            organisation=organisation,
        )
        for i, organisation in zip(numbers, t.grown_organisations[-len(numbers) :], strict=True)
    )
    accesses = Access.objects.bulk_create(
        Access(conference=t.conference, user=user) for user in users
    )
    Role.objects.bulk_create(
        Role(conference=t.conference, access=access, name=roles[i % len(roles)])
        for i, access in zip(numbers, accesses, strict=True)
    )
    Invitation.objects.bulk_create(
        Invitation(
            conference=t.conference,
            email=f"invite{i}@croissance.test",
            organisation=organisation,
            role=RoleName.BAILLEUR,
            invited_by=t.users[RoleName.SECRETARIAT],
            token_hash=f"croissance-{i:08d}",
            expires_at=datetime.datetime(2100, 1, 1, tzinfo=datetime.UTC),
        )
        for i, organisation in zip(numbers, t.grown_organisations[-len(numbers) :], strict=True)
    )
    people = list(t.users.values())
    AuditEntry.objects.bulk_create(
        AuditEntry(
            conference=t.conference,
            actor=people[i % len(people)],
            actor_label=f"Personne {i}",
            actor_organisation=people[i % len(people)].organisation,
            action=AuditAction.UPDATE,
            object_type="membership",
            object_id=str(i),
            object_repr=f"Objet {i}",
            changes={"name": [f"avant {i}", f"après {i}"]},
        )
        for i in numbers
    )
    AccessLogEntry.objects.bulk_create(
        AccessLogEntry(
            conference=t.conference,
            user=person,
            actor_label=f"Personne {i}",
            organisation=person.organisation,
            channel=AccessChannel.PAGE,
            object_type="attribution",
            object_ids=[str(i)],
            description=f"Consultation {i}",
            row_count=1,
        )
        for i in numbers
        for person in people
    )


def _grow_attributions(t, numbers):
    from attributions.models import ApiToken, Attribution, ImportJob, ImportStatus
    from attributions.services import check_row

    commune = Commune.objects.filter(name__contains=t.marker).get()
    bailleurs = [t.users[RoleName.BAILLEUR].organisation, t.membership.organisation]
    rows = []
    for i in numbers:
        organisation = bailleurs[i % 2]
        raw = {
            "reference": f"CROISSANCE-{i:06d}",
            "bailleur_siren": organisation.siren,
            "date_signature_bail": f"2025-{1 + i % 12:02d}-{1 + i % 28:02d}",
            "commune_insee": commune.insee,
            "reservataire": "non_reserve",
            "nb_personnes": str(1 + i % 5),
            "revenu_annuel": str(8000 + 37 * i),
        }
        rows.append(Attribution(conference=t.conference, **check_row(raw, conference=t.conference)))
    Attribution.objects.bulk_create(rows)
    bailleur = t.users[RoleName.BAILLEUR]
    ApiToken.objects.bulk_create(
        ApiToken(
            conference=t.conference,
            organisation=bailleur.organisation,
            name=f"Jeton {i}",
            prefix=f"p{i:07d}",
            token_hash=f"{i:064d}",
            created_by=t.users[RoleName.SECRETARIAT],
        )
        for i in numbers
    )
    ImportJob.objects.bulk_create(
        ImportJob(
            conference=t.conference,
            created_by=bailleur if i % 2 else t.users[RoleName.SECRETARIAT],
            acting_bailleur=bailleur.organisation,
            filename=f"attributions-{i}.csv",
            file="imports/croissance.csv",
            sha256="0" * 64,
            status=ImportStatus.DONE,
            finished_at=_NOW,
        )
        for i in numbers
    )


def _clones(instance, numbers, **fields):
    """Copies of `instance` (same field values: JSON documents that pages read included),
    each with a fresh id and public id; `fields` maps a field to a function of the number."""
    original = type(instance).objects.get(pk=instance.pk)
    copies = []
    for i in numbers:
        copy = copy_module.copy(original)
        copy.pk = None
        copy._state = ModelState()
        if hasattr(copy, "public_id"):
            copy.public_id = uuid.uuid4()
        for name, value in fields.items():
            setattr(copy, name, value(i))
        copies.append(copy)
    return type(instance).objects.bulk_create(copies)


def _grow_cia(t, numbers):
    from conventions.models import (
        BailleurObjective,
        GapCategory,
        GapExplanation,
        ReservataireObjective,
        Signatory,
        SignatoryCapacity,
        VersionStatusChange,
    )

    conventions = _clones(t.cia, numbers, title=lambda i: f"CIA {i}")
    by_number = dict(zip(numbers, conventions, strict=True))
    _clones(t.cia_draft, numbers, convention=by_number.get, number=lambda i: 1)
    version = t.cia_draft
    organisations = t.grown_organisations[-len(numbers) :]
    communes = list(Commune.objects.order_by("-id")[: len(numbers)])
    Signatory.objects.bulk_create(
        Signatory(
            conference=t.conference,
            version=version,
            organisation=organisation,
            capacity=SignatoryCapacity.BAILLEUR,
            rank=100 + i,
        )
        for i, organisation in zip(numbers, organisations, strict=True)
    )
    BailleurObjective.objects.bulk_create(
        BailleurObjective(
            conference=t.conference,
            version=version,
            bailleur=organisation,
            year=2025,
            commune=commune,
            r1=Decimal("0.25"),
            r2=Decimal("0.5"),
            r3=Decimal("0.25"),
        )
        for organisation, commune in zip(organisations, communes, strict=True)
    )
    ReservataireObjective.objects.bulk_create(
        ReservataireObjective(
            conference=t.conference,
            version=version,
            reservataire=organisation,
            year=2025,
            r3=Decimal("0.25"),
        )
        for organisation in organisations
    )
    GapExplanation.objects.bulk_create(
        GapExplanation(
            conference=t.conference,
            convention=t.cia,
            bailleur=organisation,
            year=2025,
            rule="r3",
            category=GapCategory.OFFRE,
            text=f"Explication {i}",
            updated_by=t.users[RoleName.BAILLEUR],
        )
        for i, organisation in zip(numbers, organisations, strict=True)
    )
    VersionStatusChange.objects.bulk_create(
        VersionStatusChange(
            conference=t.conference,
            version=version,
            from_status="brouillon",
            to_status="brouillon",
            actor=t.users[RoleName.SECRETARIAT],
            actor_label=f"Personne {i}",
        )
        for i in numbers
    )


def _grow_orientations(t, numbers):
    from conventions.models.orientations import (
        OrientationComment,
        OrientationPlacement,
        OrientationSection,
    )

    document = t.orientations["delibere_epci"]
    version = document.current_version
    sections = OrientationSection.objects.bulk_create(
        OrientationSection(
            conference=t.conference,
            document=document,
            key=uuid.uuid4(),
            title=f"Orientation {i}",
            body=f"Texte de l'orientation {i}.",
            objective_r1=Decimal("0.25"),
            objective_r2=Decimal("0.5"),
            objective_r3=Decimal("0.25"),
        )
        for i in numbers
    )
    OrientationPlacement.objects.bulk_create(
        OrientationPlacement(
            conference=t.conference, version=version, section=section, order=100 + i
        )
        for i, section in zip(numbers, sections, strict=True)
    )
    bailleur = t.users[RoleName.BAILLEUR]
    OrientationComment.objects.bulk_create(
        OrientationComment(
            conference=t.conference,
            document=document,
            version=version,
            section=section,
            section_key=section.key,
            author=bailleur,
            author_label=f"Personne {i}",
            organisation=bailleur.organisation,
            body=f"Commentaire {i}",
        )
        for i, section in zip(numbers, sections, strict=True)
    )
    # Past versions (numbered after the current one's, which stays current).
    _clones(version, numbers, number=lambda i: 1000 + i)


def _grow_documents(t, numbers):

    _clones(t.generated_document, numbers, title=lambda i: f"Document {i}")


def _grow_observatoire(t, numbers):
    from observatoire.models import Demand, Dwelling

    commune = Commune.objects.filter(name__contains=t.marker).get()
    Demand.objects.bulk_create(
        Demand(
            conference=t.conference,
            numero_unique=f"NU{i:010d}",
            date_depot=_TODAY - datetime.timedelta(days=i % 700),
            communes_souhaitees=[commune.insee],
            commune_insee=commune.insee,
            nb_personnes=1 + i % 5,
            nb_enfants_moins_14=i % 2,
            revenu_annuel=9000 + 31 * i,
            uc=1,
            revenu_par_uc=9000 + 31 * i,
        )
        for i in numbers
    )
    Dwelling.objects.bulk_create(
        Dwelling(
            conference=t.conference,
            millesime=2025,
            rpls_id=f"R{i:010d}",
            commune_insee=commune.insee,
            in_qpv=bool(i % 2),
            nb_pieces=1 + i % 5,
        )
        for i in numbers
    )
    _clones(t.observatoire_import, numbers, filename=lambda i: f"demandes-{i}.csv")


def _grow_governance(t, numbers):
    from cil.governance.models import (
        AgendaItem,
        Attendance,
        Convocation,
    )

    _clones(t.gov_upcoming, numbers, title=lambda i: f"Séance {i}")
    _clones(t.gov_body, numbers, name=lambda i: f"Comité {i}")
    memberships = list(
        Membership.objects.filter(organisation__in=t.grown_organisations[-len(numbers) :])
    )
    t.gov_body.members.add(*memberships)
    _clones(t.gov_item, numbers, order=lambda i: 100 + i, title=lambda i: f"Point {i}")
    _clones(t.gov_attachment, numbers, title=lambda i: f"Pièce {i}")
    for meeting in (t.gov_upcoming, t.gov_today):
        Attendance.objects.bulk_create(
            Attendance(conference=t.conference, meeting=meeting, membership=m, status="present")
            for m in memberships
        )
    Convocation.objects.bulk_create(
        Convocation(
            conference=t.conference,
            meeting=t.gov_upcoming,
            representative=representative,
            membership_id=representative.membership_id,
            kind="convocation",
            email=representative.email,
            sent_at=_NOW,
        )
        for representative in Representative.objects.filter(membership__in=memberships)
    )
    decided = AgendaItem.objects.get(decision=t.gov_decision)
    items = _clones(decided, numbers, order=lambda i: 100 + i, title=lambda i: f"Décision {i}")
    by_number = dict(zip(numbers, items, strict=True))
    _clones(t.gov_decision, numbers, item=by_number.get, number=lambda i: 100 + i)


_GROWERS = [
    _grow_territory,
    _grow_members,
    _grow_users,
    _grow_attributions,
    _grow_cia,
    _grow_orientations,
    _grow_documents,
    _grow_observatoire,
    _grow_governance,
]
