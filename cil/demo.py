"""Demo data: two FICTIONAL conferences of a fictional Normandy département, Seine-et-Caux.

Every name, SIREN and person below is invented (the INSEE codes are in the 76 range only to
look plausible). The territories are written as `territoire` v1 documents and loaded through
`cil.territory.load_territory`, so the demo exercises the same contract as a real set-up.

`build_demo()` runs `DEMO_STEPS` in order inside one transaction; each step takes the
`DemoContext` and must be idempotent (running the demo twice creates nothing new). An app
that adds demo data (attributions, conventions…) adds its step function to `DEMO_STEPS`.
"""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date

from django.db import transaction

from cil import services
from cil.models import (
    Access,
    College,
    Conference,
    Membership,
    Organisation,
    OrganisationType,
    Representative,
    RepresentativeKind,
    Role,
    User,
)
from cil.roles import RoleName
from cil.tenancy import conference_scope
from cil.territory import FORMAT, load_territory
from cil.validators import luhn_valid

DEFAULT_PASSWORD = "demo"  # noqa: S105 - demo accounts only, see demo_password()


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_PASSWORD


def siren_with_key(base: str) -> str:
    """The SIREN whose first 8 digits are `base`: the 9th digit is the Luhn key.

    Used once to compute the SIRENs hard-coded below (kept stable across runs)."""
    if len(base) != 8 or not base.isdigit():
        raise ValueError(f"8 chiffres attendus : {base!r}")
    return next(base + str(key) for key in range(10) if luhn_valid(base + str(key)))


# --- Organisations (global: some sit in both conferences) ------------------------------


@dataclass(frozen=True)
class Org:
    siren: str
    name: str
    type: str


T = OrganisationType
ORGANISATIONS = {
    # Shared by both conferences: one préfecture, one département for the whole territory.
    "etat": Org("130009996", "État — Préfecture de Seine-et-Caux (DDETS)", T.ETAT),
    "departement": Org("227690005", "Département de Seine-et-Caux", T.DEPARTEMENT),
    "als": Org("824549992", "Action Logement Services", T.ACTION_LOGEMENT),
    "iln": Org("572990034", "Immobilière du Littoral normand (ESH)", T.BAILLEUR),
    # Val-de-Seine Agglomération.
    "vds": Org("200099018", "Val-de-Seine Agglomération", T.EPCI),
    "seineville": Org("217635093", "Ville de Seineville", T.COMMUNE),
    "mont-roberval": Org("217640291", "Commune de Mont-Roberval", T.COMMUNE),
    "saint-aubin": Org("217621598", "Commune de Saint-Aubin-des-Vignes", T.COMMUNE),
    "darnetal": Org("217621291", "Commune de Darnétal-la-Rivière", T.COMMUNE),
    "vds-habitat": Org("277690012", "Val-de-Seine Habitat (OPH)", T.BAILLEUR),
    "boucles": Org("572990018", "Habitat des Boucles de Seine (ESH)", T.BAILLEUR),
    "caux-logement": Org("572990026", "Caux Logement (ESH)", T.BAILLEUR),
    "semse": Org("302990015", "Société d'économie mixte de Seineville (SEM)", T.BAILLEUR),
    "andelle": Org("572990042", "Les Toits de l'Andelle (ESH)", T.BAILLEUR),
    "moi": Org("778990010", "Solidarités Habitat Normandie (MOI)", T.MOI),
    "locataires-vds": Org(
        "778990028", "Confédération des locataires de Val-de-Seine", T.ASSOCIATION
    ),
    "seine-accueil": Org(
        "778990036", "Seine Accueil Logement — association d'insertion", T.ASSOCIATION
    ),
    # Communauté urbaine Littoral Nord.
    "culn": Org("200099026", "Communauté urbaine Littoral Nord", T.EPCI),
    "port-en-caux": Org("217663194", "Ville de Port-en-Caux", T.COMMUNE),
    "tourville": Org("217670595", "Commune de Tourville-la-Plage", T.COMMUNE),
    "saint-valery": Org("217665595", "Commune de Saint-Valéry-des-Falaises", T.COMMUNE),
    "littoral-habitat": Org("277690020", "Littoral Habitat (OPH)", T.BAILLEUR),
    "falaises": Org("572990059", "Falaises et Vallées Logement (ESH)", T.BAILLEUR),
    "locataires-culn": Org(
        "778990044", "Association des locataires du Littoral Nord", T.ASSOCIATION
    ),
}


# --- Conferences ------------------------------------------------------------------------

SUPPLEANT = RepresentativeKind.SUPPLEANT
# Municipal elections of March 2026: some maires and EPCI presidents changed.
BEFORE_2026 = {"start": date(2023, 2, 1), "end": date(2026, 3, 27)}


@dataclass(frozen=True)
class Rep:
    first_name: str
    last_name: str
    position: str
    start: date = date(2023, 2, 1)
    end: date | None = None
    kind: str = RepresentativeKind.TITULAIRE


@dataclass(frozen=True)
class Member:
    org: str  # key of ORGANISATIONS
    college: int
    representatives: tuple[Rep, ...]


QpvRow = tuple[str, str, tuple[str, ...], tuple[int, ...]]  # code, name, communes, years


@dataclass(frozen=True)
class DemoConference:
    slug: str
    name: str
    epci: str
    communes: dict[str, str]  # INSEE code -> name
    qpv: tuple[QpvRow, ...]
    members: tuple[Member, ...]
    years: tuple[dict, ...]
    users: dict[str, tuple[str, str, str]]  # role -> organisation key, first name, last name


C1, C2, C3 = College.COLLECTIVITES, College.PROFESSIONNELS, College.USAGERS
# CCH L.441-1-5: the préfet co-chairs the conference with the EPCI's president. The State is
# seated with the public authorities in college 1, not with the professionals of college 2,
# although it is also a réservataire.
PREFET = Rep("Philippe", "Garnier", "Préfet de Seine-et-Caux")
DDETS = Rep(
    "Nathalie", "Roussel", "Directrice départementale de l'emploi, du travail et des solidarités"
)
CURRENT_YEARS = (2024, 2025, 2026)  # the QPV list of décret 2023-1314, in force from 2024
LIST_2015_YEARS = (2021, 2022, 2023)  # the 2015 list, until 31 December 2023

VAL_DE_SEINE = DemoConference(
    slug="agglo-val-de-seine",
    name="Conférence intercommunale du logement de Val-de-Seine Agglomération",
    epci="vds",
    communes={
        "76350": "Seineville",
        "76108": "Bois-Guillaume-sur-Seine",
        "76215": "Saint-Aubin-des-Vignes",
        "76402": "Mont-Roberval",
        "76118": "Bonneville-la-Forêt",
        "76361": "Le Houlme-en-Caux",
        "76681": "Sotteville-sur-Andelle",
        "76212": "Darnétal-la-Rivière",
        "76410": "Maromme-Saint-Martin",
        "76497": "Petit-Quevillon",
        "76575": "Saint-Étienne-des-Prés",
        "76056": "Belbeuf-les-Côtes",
    },
    qpv=(
        ("QN07621M", "Les Hauts de Seineville", ("76350",), CURRENT_YEARS),
        ("QN07622M", "Grammont – Les Lauriers", ("76350",), CURRENT_YEARS),
        ("QN07623M", "La Renardière", ("76402",), CURRENT_YEARS),
        ("QN07624M", "Plateau des Tilleuls", ("76215", "76681"), CURRENT_YEARS),
        ("QN07625M", "Cité des Canadiens", ("76212",), CURRENT_YEARS),
        # The 2015 list: the same Hauts de Seineville under its old code, and a quarter
        # that left the list in 2024.
        ("QP076031", "Les Hauts de Seineville", ("76350",), LIST_2015_YEARS),
        ("QP076034", "Cité Verte", ("76410",), LIST_2015_YEARS),
    ),
    members=(
        Member(
            "vds",
            C1,
            (
                Rep("Bernard", "Quesnel", "Président de Val-de-Seine Agglomération", **BEFORE_2026),
                Rep(
                    "Valérie",
                    "Hautot",
                    "Présidente de Val-de-Seine Agglomération",
                    date(2026, 4, 10),
                ),
                Rep("Laurent", "Féret", "Vice-président délégué à l'habitat", kind=SUPPLEANT),
            ),
        ),
        Member(
            "seineville",
            C1,
            (
                Rep("Hélène", "Duval", "Maire de Seineville"),
                Rep("Mathieu", "Grenier", "Adjoint au maire chargé du logement", kind=SUPPLEANT),
            ),
        ),
        Member(
            "mont-roberval",
            C1,
            (
                Rep("Jacques", "Lemaire", "Maire de Mont-Roberval", **BEFORE_2026),
                Rep("Sabrina", "Cauchois", "Maire de Mont-Roberval", date(2026, 3, 28)),
                Rep(
                    "Didier", "Anquetil", "Conseiller municipal délégué au logement", kind=SUPPLEANT
                ),
            ),
        ),
        Member(
            "saint-aubin",
            C1,
            (
                Rep("Françoise", "Letellier", "Maire de Saint-Aubin-des-Vignes"),
                Rep("Olivier", "Boutigny", "Premier adjoint", kind=SUPPLEANT),
            ),
        ),
        Member("darnetal", C1, (Rep("Michel", "Dumesnil", "Maire de Darnétal-la-Rivière"),)),
        Member(
            "departement",
            C1,
            (
                Rep(
                    "Isabelle", "Marette", "Vice-présidente chargée de l'habitat", date(2023, 3, 1)
                ),
                Rep(
                    "Arnaud",
                    "Picard",
                    "Directeur de l'habitat et du logement",
                    date(2023, 3, 1),
                    date(2024, 8, 31),
                    SUPPLEANT,
                ),
                Rep(
                    "Corinne",
                    "Vauquelin",
                    "Directrice de l'habitat et du logement",
                    date(2024, 9, 1),
                    kind=SUPPLEANT,
                ),
            ),
        ),
        Member("etat", C1, (PREFET, replace(DDETS, kind=SUPPLEANT))),
        Member(
            "vds-habitat",
            C2,
            (
                Rep("Sylvie", "Morin", "Directrice générale"),
                Rep("Karim", "Benali", "Directeur de la gestion locative", kind=SUPPLEANT),
            ),
        ),
        Member(
            "boucles",
            C2,
            (
                Rep("Éric", "Toutain", "Directeur général", date(2024, 1, 15)),
                Rep(
                    "Laetitia",
                    "Brunet",
                    "Responsable des attributions",
                    date(2024, 1, 15),
                    kind=SUPPLEANT,
                ),
            ),
        ),
        Member(
            "caux-logement",
            C2,
            (
                Rep("Pascale", "Guérin", "Directrice de la clientèle"),
                Rep("Yann", "Le Goff", "Chargé de mission mixité sociale", kind=SUPPLEANT),
            ),
        ),
        Member(
            "iln",
            C2,
            (
                Rep("Stéphane", "Cottard", "Directeur territorial Seine"),
                Rep("Émilie", "Lamotte", "Directrice de la gestion locative", kind=SUPPLEANT),
            ),
        ),
        Member("semse", C2, (Rep("Alain", "Mercier", "Directeur général"),)),
        Member(
            "andelle",
            C2,
            (
                Rep("Caroline", "Delamare", "Directrice générale"),
                Rep("Fabrice", "Hue", "Responsable du service des attributions", kind=SUPPLEANT),
            ),
        ),
        Member(
            "als",
            C2,
            (
                Rep("Sophie", "Beaufils", "Directrice régionale Normandie"),
                Rep("Maxime", "Lefrançois", "Responsable des relations bailleurs", kind=SUPPLEANT),
            ),
        ),
        Member(
            "moi",
            C2,
            (
                Rep("Bertrand", "Leclerc", "Président", date(2024, 2, 1)),
                Rep(
                    "Amina",
                    "Diallo",
                    "Chargée de gestion locative adaptée",
                    date(2024, 2, 1),
                    kind=SUPPLEANT,
                ),
            ),
        ),
        Member(
            "locataires-vds",
            C3,
            (
                Rep("Monique", "Papin", "Présidente"),
                Rep("René", "Lepetit", "Trésorier", kind=SUPPLEANT),
            ),
        ),
        Member(
            "seine-accueil",
            C3,
            (
                Rep("Fatima", "Ouali", "Directrice"),
                Rep("Christophe", "Bréant", "Travailleur social", kind=SUPPLEANT),
            ),
        ),
    ),
    years=(
        {"annee": 2024, "seuil_q1": 9100.0, "source_seuil": "arrêté du 13 juin 2024"},
        {"annee": 2025, "seuil_q1": 9400.0, "source_seuil": "arrêté du 3 juin 2025"},
        # The orientations raise the share of non-Q1 households in QPV (R2) from 2026. These
        # rates are the demo's one source: its orientations and CIA read them
        # (conventions/demo.py, conference_rate).
        {
            "annee": 2026,
            "seuil_q1": 9650.0,
            "source_seuil": "arrêté du 2 juin 2026",
            "cible_r2": 0.55,
        },
    ),
    users={
        RoleName.SECRETARIAT: ("vds", "Claire", "Lemonnier"),
        RoleName.BAILLEUR: ("vds-habitat", "Karim", "Benali"),
        RoleName.ELU: ("seineville", "Hélène", "Duval"),
        RoleName.PREFECTURE: ("etat", "Thomas", "Leroux"),
        RoleName.MEMBRE: ("locataires-vds", "Monique", "Papin"),
    },
)

LITTORAL_NORD = DemoConference(
    slug="cu-littoral-nord",
    name="Conférence intercommunale du logement de la Communauté urbaine Littoral Nord",
    epci="culn",
    communes={
        "76631": "Port-en-Caux",
        "76705": "Tourville-la-Plage",
        "76655": "Saint-Valéry-des-Falaises",
        "76072": "Berneval-les-Dunes",
        "76353": "Hautot-sur-Falaise",
    },
    qpv=(
        ("QN07631M", "Quartier des Bruyères", ("76631",), CURRENT_YEARS),
        ("QN07632M", "Le Front de Mer", ("76705",), CURRENT_YEARS),
    ),
    members=(
        Member(
            "culn",
            C1,
            (
                Rep(
                    "Gilles", "Bouteiller", "Président de la communauté urbaine", date(2023, 1, 15)
                ),
                Rep(
                    "Marina",
                    "Coquelin",
                    "Vice-présidente chargée de l'habitat",
                    date(2023, 1, 15),
                    kind=SUPPLEANT,
                ),
            ),
        ),
        Member(
            "port-en-caux",
            C1,
            (
                Rep("Patrick", "Lecoq", "Maire de Port-en-Caux"),
                Rep("Élodie", "Vimard", "Adjointe au maire chargée du logement", kind=SUPPLEANT),
            ),
        ),
        Member(
            "tourville",
            C1,
            (
                Rep("Jean-Pierre", "Dufour", "Maire de Tourville-la-Plage", **BEFORE_2026),
                Rep("Laure", "Sannier", "Maire de Tourville-la-Plage", date(2026, 3, 28)),
            ),
        ),
        Member("saint-valery", C1, (Rep("Denis", "Osmont", "Maire de Saint-Valéry-des-Falaises"),)),
        Member(
            "departement", C1, (Rep("Isabelle", "Marette", "Vice-présidente chargée de l'habitat"),)
        ),
        Member(
            "etat",
            C1,
            (
                Rep("Cédric", "Lambert", "Sous-préfet de l'arrondissement de Port-en-Caux"),
                replace(DDETS, kind=SUPPLEANT),
            ),
        ),
        Member(
            "iln",
            C2,
            (
                Rep("Vincent", "Héricher", "Directeur de l'agence Littoral"),
                Rep("Émilie", "Lamotte", "Directrice de la gestion locative", kind=SUPPLEANT),
            ),
        ),
        Member(
            "littoral-habitat",
            C2,
            (
                Rep("Hervé", "Lefort", "Directeur général"),
                Rep("Sandrine", "Fauvel", "Responsable des attributions", kind=SUPPLEANT),
            ),
        ),
        Member(
            "falaises",
            C2,
            (
                Rep("Agnès", "Poulain", "Directrice générale", date(2024, 3, 1)),
                Rep("Thierry", "Dumont", "Chargé de clientèle", date(2024, 3, 1), kind=SUPPLEANT),
            ),
        ),
        Member("als", C2, (Rep("Maxime", "Lefrançois", "Responsable des relations bailleurs"),)),
        Member(
            "locataires-culn",
            C3,
            (
                Rep("Gérard", "Vasseur", "Président"),
                Rep("Josiane", "Lemoine", "Secrétaire", kind=SUPPLEANT),
            ),
        ),
    ),
    years=(
        {"annee": 2024, "seuil_q1": 8420.0, "source_seuil": "arrêté du 13 juin 2024"},
        {"annee": 2025, "seuil_q1": 8690.0, "source_seuil": "arrêté du 3 juin 2025"},
        {"annee": 2026, "seuil_q1": 8910.0, "source_seuil": "arrêté du 2 juin 2026"},
    ),
    users={
        RoleName.SECRETARIAT: ("culn", "Julien", "Marchand"),
        RoleName.BAILLEUR: ("littoral-habitat", "Sandrine", "Fauvel"),
        RoleName.ELU: ("port-en-caux", "Patrick", "Lecoq"),
        RoleName.PREFECTURE: ("etat", "Aurélie", "Gosselin"),
        RoleName.MEMBRE: ("locataires-culn", "Gérard", "Vasseur"),
    },
)

DEMO_CONFERENCES = (VAL_DE_SEINE, LITTORAL_NORD)
# A DDETS agent who follows both conferences: shows the conference switcher.
MULTI_USER = ("multi@demo.demo", "etat", "Nadia", "Haddad", RoleName.PREFECTURE)


def territory_document(demo: DemoConference) -> dict:
    """The conference as a `territoire` v1 document (shared/formats.md)."""
    return {
        "format": FORMAT,
        "conference": {
            "slug": demo.slug,
            "nom": demo.name,
            "epci_siren": ORGANISATIONS[demo.epci].siren,
        },
        "communes": [{"insee": insee, "nom": name} for insee, name in demo.communes.items()],
        "qpv": [
            {"code": code, "nom": name, "communes": list(communes), "annees": list(years)}
            for code, name, communes, years in demo.qpv
        ],
        "organisations": [
            {
                "siren": ORGANISATIONS[member.org].siren,
                "nom": ORGANISATIONS[member.org].name,
                "type": str(ORGANISATIONS[member.org].type),
                "college": int(member.college),
            }
            for member in demo.members
        ],
        "annees": [dict(year) for year in demo.years],
    }


# --- Steps ------------------------------------------------------------------------------


@dataclass
class DemoContext:
    password: str
    log: Callable[[str], None] = lambda message: None
    conferences: dict[str, Conference] = field(default_factory=dict)
    # (login, role label, conference slug, organisation name), for the final table.
    logins: list[tuple[str, str, str, str]] = field(default_factory=list)


def load_territories(ctx: DemoContext) -> None:
    for demo in DEMO_CONFERENCES:
        report = load_territory(territory_document(demo))
        ctx.conferences[demo.slug] = report.conference
        ctx.log(f"{demo.slug} — {report.summary()}")


def add_representatives(ctx: DemoContext) -> None:
    for demo in DEMO_CONFERENCES:
        conference = ctx.conferences[demo.slug]
        with conference_scope(conference):
            for member in demo.members:
                membership = Membership.objects.get(
                    organisation__siren=ORGANISATIONS[member.org].siren
                )
                for rep in member.representatives:
                    existing = Representative.objects.filter(
                        membership=membership,
                        first_name=rep.first_name,
                        last_name=rep.last_name,
                        kind=rep.kind,
                    ).first()
                    services.representative_save(
                        conference=conference,
                        actor=None,
                        membership=membership,
                        representative=existing,
                        first_name=rep.first_name,
                        last_name=rep.last_name,
                        position=rep.position,
                        email=rep_email(rep, member.org),
                        kind=rep.kind,
                        mandate_start=rep.start,
                        mandate_end=rep.end,
                    )


def rep_email(rep: Rep, org: str) -> str:
    """A fictional address (prenom.nom@<organisation>.demo): the sessions' convocations
    are addressed to the representatives (cil/governance/demo.py)."""
    from django.utils.text import slugify

    return f"{slugify(f'{rep.first_name} {rep.last_name}').replace('-', '.')}@{org}.demo"


def add_users(ctx: DemoContext) -> None:
    for demo in DEMO_CONFERENCES:
        for role, (org, first_name, last_name) in demo.users.items():
            user = demo_user(f"{role}@{demo.slug}.demo", org, first_name, last_name, ctx.password)
            grant_role(user, ctx.conferences[demo.slug], role)
            ctx.logins.append((user.email, RoleName(role).label, demo.slug, user.organisation.name))
    email, org, first_name, last_name, role = MULTI_USER
    user = demo_user(email, org, first_name, last_name, ctx.password)
    for demo in DEMO_CONFERENCES:
        grant_role(user, ctx.conferences[demo.slug], role)
        ctx.logins.append((email, RoleName(role).label, demo.slug, user.organisation.name))


# CCH L.441-1-5: the préfet and the president of the EPCI co-chair the conference.
CO_PRESIDENTS = {
    "agglo-val-de-seine": (
        "M. Philippe Garnier, préfet de la Seine-et-Caux",
        "Mme Valérie Hautot, présidente de Val-de-Seine Agglomération",
    ),
    "cu-littoral-nord": (
        "M. Philippe Garnier, préfet de la Seine-et-Caux",
        "M. Gilles Bouteiller, président de la Communauté urbaine Littoral Nord",
    ),
}


def set_co_presidents(ctx: DemoContext) -> None:
    for slug, (prefet, president) in CO_PRESIDENTS.items():
        conference = ctx.conferences[slug]
        with conference_scope(conference):
            services.conference_update(
                conference=conference,
                actor=None,
                name=conference.name,
                prefet_name=prefet,
                president_name=president,
            )


def add_attributions(ctx: DemoContext) -> None:
    from attributions.demo import add_attributions as add

    add(ctx)


def add_conventions(ctx: DemoContext) -> None:
    from conventions.demo import add_conventions as add

    add(ctx)


def add_observatoire(ctx: DemoContext) -> None:
    from observatoire.demo import add_observatoire as add

    add(ctx)


def add_sessions(ctx: DemoContext) -> None:
    from cil.governance.demo import add_sessions as add

    add(ctx)


def ensure_seal(ctx: DemoContext) -> None:
    """The demo seals its PDFs with a self-signed certificate generated on first run."""
    from pathlib import Path

    from django.conf import settings
    from django.core.management import call_command

    if not Path(settings.CIL_SEAL_PKCS12_PATH).exists():
        call_command(
            "generate_seal_certificate", path=str(settings.CIL_SEAL_PKCS12_PATH), verbosity=0
        )
        ctx.log(f"certificat de scellement de démonstration : {settings.CIL_SEAL_PKCS12_PATH}")


DEMO_STEPS: list[Callable[[DemoContext], None]] = [
    ensure_seal,
    load_territories,
    set_co_presidents,
    add_representatives,
    add_users,
    add_attributions,
    add_conventions,
    add_observatoire,
    add_sessions,
]


def build_demo(*, password: str | None = None, log=None) -> DemoContext:
    ctx = DemoContext(password=password or demo_password())
    if log is not None:
        ctx.log = log
    # The tasks queued by the steps (circuit e-mails, PDFs) run when the transaction commits:
    # inside `mail_kept_in_memory` too.
    with mail_kept_in_memory(ctx), transaction.atomic():
        for step in DEMO_STEPS:
            step(ctx)
    return ctx


@contextmanager
def mail_kept_in_memory(ctx: DemoContext) -> Iterator[None]:
    """No e-mail leaves while the demo is built: the circuits it walks through notify people
    (fictional addresses), whatever EMAIL_URL says. Django's in-memory (locmem) backend
    takes them, and the tasks the demo queues run here, at once — never on a Celery worker,
    which would send them with its own, real, e-mail settings. Said in the output."""
    from django.core import mail
    from django.test.utils import override_settings

    from cil.celery import app

    ctx.log("e-mails : aucun envoi pendant le chargement (boîte d'envoi en mémoire)")
    eager = app.conf.task_always_eager, app.conf.task_eager_propagates
    previous_outbox = getattr(mail, "outbox", None)
    mail.outbox = []
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
            CELERY_TASK_ALWAYS_EAGER=True,
        ):
            yield
        ctx.log(f"e-mails : {len(mail.outbox)} notification(s) écartée(s), aucune envoyée")
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = eager
        if previous_outbox is None:
            del mail.outbox
        else:
            mail.outbox = previous_outbox


# --- Accounts ---------------------------------------------------------------------------


def demo_user(email: str, org: str, first_name: str, last_name: str, password: str) -> User:
    """Create or refresh a demo account. The short demo password would fail the password
    validators: it is set directly, which is acceptable for demo accounts only."""
    organisation = Organisation.objects.get(siren=ORGANISATIONS[org].siren)
    user = User.objects.filter(email=email).first() or User(email=email)
    user.first_name, user.last_name, user.organisation = first_name, last_name, organisation
    user.is_active = True
    user.set_password(password)
    user.save()
    return user


def grant_role(user: User, conference: Conference, role: str) -> Access:
    """Give `user` the role in `conference`, as accepting an invitation does."""
    allowed = services.ROLE_ORGANISATION_TYPES.get(role)
    if allowed and user.organisation.type not in allowed:
        raise ValueError(f"{user.email} : le rôle {role} ne convient pas à {user.organisation}.")
    with conference_scope(conference):
        if not Membership.objects.filter(organisation=user.organisation).exists():
            raise ValueError(f"{user.organisation} n'est pas membre de {conference.slug}.")
        access, _ = Access.objects.get_or_create(conference=conference, user=user)
        if not access.is_active:
            access.is_active, access.deactivated_at = True, None
            access.save(update_fields=["is_active", "deactivated_at"])
        Role.objects.get_or_create(conference=conference, access=access, name=role)
    return access
