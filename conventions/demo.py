"""Demo conventions of Val-de-Seine Agglomération (cil.demo.DEMO_STEPS): a document
d'orientation in force, a CIA 2024–2029 signed by all with one avenant in force, a bailleur's
explanation of its gap, and the bilan annuel 2025 in PDF.

Everything goes through the services, with the demo accounts, as people would do it in the
pages. Idempotent: a part is skipped when its data exists. Generated documents are queued
after the commit of the demo's transaction (the demo runs them at once: cil.demo
`mail_kept_in_memory`).

The rates have one source: the conference's rates per year in its `territoire` document
(cil/demo.py, `conference_rate` here). The orientations state them, the CIA declines them
per bailleur; only the objectives that differ on purpose (R1 of Val-de-Seine Habitat, its
avenant) are set here.
"""

from datetime import date
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile

from attributions.indicators.bilan import LEGAL_TARGETS
from cil.demo import ORGANISATIONS, VAL_DE_SEINE, demo_user, grant_role
from cil.models import Organisation, OrganisationType, User
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions import services_cia
from conventions import services_orientations as orientations
from conventions.models import (
    Convention,
    DocumentKind,
    GapCategory,
    GeneratedDocument,
    Signatory,
    SignatoryCapacity,
)
from conventions.models.orientations import OrientationDocument
from conventions.selectors_orientations import sections_of

SLUG = VAL_DE_SEINE.slug
D = Decimal


def conference_rate(rule: str, year: int) -> Decimal:
    """Val-de-Seine's rate of `rule` ("r1", "r2", "r3") for `year`, as its `territoire`
    document sets it (cil/demo.py), else the legal default (CCH L.441-1)."""
    row = next((row for row in VAL_DE_SEINE.years if row["annee"] == year), {})
    value = row.get(f"cible_{rule}")
    return LEGAL_TARGETS[rule] if value is None else Decimal(str(value))


def percent(rate: Decimal) -> str:
    """0.55 → « 55 % »."""
    return f"{(rate * 100).normalize():f}".replace(".", ",") + " %"


# R2 in QPV: the legal rate, then the orientations' own from 2026 (the conference's rates).
R2_BEFORE, R2_FROM = conference_rate("r2", 2025), conference_rate("r2", 2026)

ORIENTATION_TITLE = "Orientations en matière d'attribution 2024-2029"
SECTIONS = (
    {
        "title": "Mixité sociale et rééquilibrage territorial",
        "body": (
            "Les partenaires de la conférence s'engagent à rééquilibrer l'occupation du parc "
            "social entre les quartiers prioritaires de la politique de la ville et le reste "
            "du territoire de l'agglomération.\n\n"
            "Hors des quartiers prioritaires, au moins 25 % des attributions suivies de baux "
            "signés sont consacrées aux demandeurs du premier quartile de revenus et aux "
            "ménages relogés dans le cadre d'une opération de renouvellement urbain.\n\n"
            f"Dans les quartiers prioritaires, au moins {percent(R2_BEFORE)} des attributions "
            "sont consacrées aux demandeurs des autres quartiles ; ce taux est porté à "
            f"{percent(R2_FROM)} à partir de 2026, en priorité sur les résidences les plus "
            "fragiles identifiées par l'observatoire de l'occupation sociale."
        ),
        "objective_r1": D("0.25"),
        "objective_r2": R2_FROM,
    },
    {
        "title": "Relogement des ménages prioritaires et des ménages reconnus DALO",
        "body": (
            "Chaque réservataire et chaque bailleur, sur les logements non réservés ou remis "
            "à la disposition du bailleur, consacre au moins 25 % de ses attributions aux "
            "ménages reconnus prioritaires au titre du droit au logement opposable ou relevant "
            "de l'article L.441-1 du code de la construction et de l'habitation.\n\n"
            "Une commission de coordination examine chaque trimestre les situations bloquées "
            "et les ménages en attente depuis plus de trente mois."
        ),
        "objective_r3": D("0.25"),
    },
    {
        "title": "Relogement des ménages concernés par le renouvellement urbain (NPNRU)",
        "body": (
            "Les ménages des immeubles démolis ou restructurés des Hauts de Seineville et de "
            "la Renardière sont relogés dans un parc neuf ou conventionné depuis moins de "
            "cinq ans, de préférence hors des quartiers prioritaires, avec un reste à charge "
            "maîtrisé.\n\n"
            "Les bailleurs présentent chaque semestre l'état d'avancement des relogements au "
            "comité de pilotage de la convention pluriannuelle de renouvellement urbain."
        ),
    },
    {
        "title": "Mutations et parcours résidentiels",
        "body": (
            "Les demandes de mutation, notamment celles des ménages en sous-occupation ou en "
            "sur-occupation et des personnes dont le handicap ou l'âge rend le logement "
            "inadapté, représentent au moins un quart des attributions de chaque bailleur.\n\n"
            "Les bailleurs mutualisent l'examen des demandes de mutation inter-organismes "
            "au sein d'une bourse d'échange commune à l'agglomération."
        ),
    },
)

CIA_TITLE = "Convention intercommunale d'attribution de Val-de-Seine Agglomération"
CIA_BODY = (
    "Vu le code de la construction et de l'habitation, notamment ses articles L.441-1-5 et "
    "L.441-1-6 ;\n"
    "Vu le document d'orientation adopté par la conférence intercommunale du logement et "
    "agréé par le préfet ;\n\n"
    "Article 1 — Objet. La présente convention décline, pour chaque bailleur et chaque "
    "titulaire de droits de réservation, les orientations en matière d'attribution pour les "
    "années 2024 à 2029.\n\n"
    "Article 2 — Engagements. Les objectifs annuels de chaque bailleur figurent en annexe ; "
    "les écarts constatés font l'objet d'une explication écrite présentée au bilan annuel.\n\n"
    "Article 3 — Suivi. Le secrétariat de la conférence présente chaque année le bilan des "
    "attributions à la conférence intercommunale du logement."
)
YEARS = (2024, 2025, 2026)
VDS_HABITAT = "277690012"
CAUX_LOGEMENT = "572990026"
# The others: the conference's R1 (Caux Logement well below, see attributions).
R1 = {VDS_HABITAT: D("0.30")}
# CCH L.441-1-6 3°: Action Logement Services commits to more than the legal 25 % of its
# attributions to DALO, failing that priority, households (R3 per réservataire).
ACTION_LOGEMENT = ORGANISATIONS["als"].siren
RESERVATAIRE_R3 = {ACTION_LOGEMENT: D("0.30")}
AVENANT_DATE = date(2026, 1, 1)
AVENANT_R1 = D("0.32")

GAP_TEXT = (
    "Livraisons concentrées en QPV, rotation faible hors QPV : en 2025, les deux tiers de nos "
    "mises en service se situent dans le quartier des Hauts de Seineville, dans le cadre de la "
    "reconstitution de l'offre démolie, et le taux de rotation de notre parc hors QPV est "
    "tombé à 6,8 %. Les logements libérés hors QPV sont surtout des T3 et T4 dont le loyer "
    "reste élevé pour les ménages du premier quartile. Nous avons engagé avec Action Logement "
    "et la DDETS une démarche de baisse de loyer sur 40 logements à la relocation pour "
    "atteindre l'objectif dès 2026."
)

# A small but valid PDF: the délibération n° 2024-057 of the EPCI's council.
DELIBERATION_PDF = (
    b"%PDF-1.4\n"
    b"1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
    b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
    b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
    b"/Resources << /Font << /F1 5 0 R >> >> >> endobj\n"
    b"4 0 obj << /Length 110 >> stream\n"
    b"BT /F1 14 Tf 60 780 Td (Val-de-Seine Agglomeration - Deliberation n 2024-057) Tj "
    b"0 -24 Td (Conseil communautaire du 27 mai 2024) Tj ET\n"
    b"endstream endobj\n"
    b"5 0 obj << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> endobj\n"
    b"trailer << /Root 1 0 R >>\n%%EOF\n"
)


def add_conventions(ctx) -> None:
    """Demo step: Val-de-Seine only; each part skipped when its data exists."""
    conference = ctx.conferences[SLUG]
    with conference_scope(conference):
        users = {role: User.objects.get(email=f"{role}@{SLUG}.demo") for role in RoleName}
        if OrientationDocument.objects.exists():
            ctx.log(f"{SLUG} — document d'orientation : déjà présent")
        else:
            _orientations(conference, users)
            ctx.log(f"{SLUG} — document d'orientation « {ORIENTATION_TITLE} » en vigueur")
        if Convention.objects.exists():
            ctx.log(f"{SLUG} — CIA : déjà présente")
        else:
            convention = _cia(ctx, conference, users)
            _explanation(ctx, conference, convention)
            ctx.log(f"{SLUG} — CIA 2024-2029 signée, avenant n° 1 en vigueur au 01/01/2026")
        if GeneratedDocument.objects.filter(kind=DocumentKind.BILAN_ANNUEL, year=2025).exists():
            ctx.log(f"{SLUG} — bilan annuel 2025 (PDF) : déjà demandé")
        else:
            _bilan_pdf(conference, users[RoleName.SECRETARIAT])
            ctx.log(f"{SLUG} — bilan annuel 2025 (PDF) demandé")


# --- The document d'orientation ---------------------------------------------------------


def _orientations(conference, users) -> None:
    secretariat = users[RoleName.SECRETARIAT]
    document = orientations.orientation_document_create(
        conference=conference,
        actor=secretariat,
        title=ORIENTATION_TITLE,
        start_from=orientations.START_EMPTY,
    )
    for section in SECTIONS:
        orientations.orientation_section_save(
            conference=conference,
            actor=secretariat,
            document=document,
            base_version=None,
            key=None,
            **section,
        )

    def step(name, actor, data=None, comment="", attachment=None):
        orientations.orientation_transition_apply(
            conference=conference,
            actor=actor,
            document=document,
            name=name,
            base_version=None,
            data=data or {},
            comment=comment,
            attachment=attachment,
        )

    step("soumettre", secretariat, {"date_limite": date(2024, 4, 30)})
    document.refresh_from_db()
    sections = sections_of(document.current_version)
    bailleur_comment = orientations.orientation_comment_add(
        conference=conference,
        actor=users[RoleName.BAILLEUR],
        document=document,
        key=sections[0].key,
        body=(
            "Val-de-Seine Habitat partage l'objectif de 25 % hors QPV, mais demande qu'il soit "
            "apprécié sur trois ans glissants : nos livraisons de 2024 sont concentrées en QPV."
        ),
    )
    orientations.orientation_comment_add(
        conference=conference,
        actor=users[RoleName.PREFECTURE],
        document=document,
        key=sections[1].key,
        body=(
            "Les services de l'État rappellent que l'objectif de 25 % vaut pour chaque "
            "réservataire, y compris sur le contingent préfectoral délégué."
        ),
    )
    orientations.orientation_comment_resolve(
        conference=conference, actor=secretariat, comment=bailleur_comment
    )
    step(
        "adopter",
        secretariat,
        {"date_seance": date(2024, 5, 14), "voix_pour": 31, "voix_contre": 2, "abstentions": 3},
        comment="Adopté en séance plénière de la conférence du 14 mai 2024.",
    )
    step(
        "deliberer",
        secretariat,
        {"numero": "2024-057", "date_deliberation": date(2024, 5, 27)},
        attachment=SimpleUploadedFile(
            "deliberation-2024-057.pdf", DELIBERATION_PDF, content_type="application/pdf"
        ),
    )
    step("agreer", users[RoleName.PREFECTURE], {"date_agrement": date(2024, 6, 18)})
    step("mettre_en_vigueur", secretariat, {"date_effet": date(2024, 7, 1)})


# --- The CIA ------------------------------------------------------------------------------


def _cia(ctx, conference, users) -> Convention:
    secretariat = users[RoleName.SECRETARIAT]
    convention = services_cia.convention_create(
        conference=conference,
        actor=secretariat,
        title=CIA_TITLE,
        start_year=2024,
        end_year=2029,
    )
    version = convention.versions.get()
    services_cia.version_update(
        conference=conference,
        actor=secretariat,
        version=version,
        title=CIA_TITLE,
        effective_from=version.effective_from,
        body=CIA_BODY,
    )
    bailleurs = [
        s.organisation
        for s in Signatory.objects.filter(
            version=version, capacity=SignatoryCapacity.BAILLEUR
        ).select_related("organisation")
    ]
    services_cia.bailleur_objectives_save(
        conference=conference,
        actor=secretariat,
        version=version,
        values={
            (bailleur.pk, year): {
                "r1": R1.get(bailleur.siren, conference_rate("r1", year)),
                "r2": conference_rate("r2", year),
                "r3": conference_rate("r3", year),
                "npnru_relogements": None,
            }
            for bailleur in bailleurs
            for year in YEARS
        },
    )
    services_cia.reservataire_objectives_save(
        conference=conference,
        actor=secretariat,
        version=version,
        values={
            (Organisation.objects.get(siren=siren).pk, year): rate
            for siren, rate in RESERVATAIRE_R3.items()
            for year in YEARS
        },
    )
    _adopt(ctx, conference, users, version)

    vds_habitat = Organisation.objects.get(siren=VDS_HABITAT)
    avenant = services_cia.avenant_create(
        conference=conference,
        actor=secretariat,
        convention=convention,
        effective_from=AVENANT_DATE,
        purpose=(
            "Relever l'objectif R1 de Val-de-Seine Habitat à 32 % pour 2026, après la mise en "
            "service de 120 logements hors quartiers prioritaires."
        ),
    )
    base = {
        "r2": conference_rate("r2", AVENANT_DATE.year),
        "r3": conference_rate("r3", AVENANT_DATE.year),
        "npnru_relogements": None,
    }
    services_cia.bailleur_objectives_save(
        conference=conference,
        actor=secretariat,
        version=avenant,
        values={(vds_habitat.pk, 2026): {"r1": AVENANT_R1, **base}},
    )
    _adopt(ctx, conference, users, avenant)
    return convention


def _adopt(ctx, conference, users, version) -> None:
    """Submit, designate every signer (the secretariat), sign by all, declare in force."""
    secretariat = users[RoleName.SECRETARIAT]
    version = services_cia.version_submit(conference=conference, actor=secretariat, version=version)
    signatories = list(Signatory.objects.filter(version=version).select_related("organisation"))
    for signatory in signatories:
        signer = _signer_of(ctx, conference, users, signatory.organisation)
        services_cia.signer_designate(
            conference=conference, actor=secretariat, signatory=signatory, signer=signer
        )
    for signatory in Signatory.objects.filter(version=version).select_related("signer"):
        version.refresh_from_db()
        services_cia.version_sign(
            conference=conference,
            actor=signatory.signer,
            version=version,
            password=ctx.password,
            confirmed_sha256=version.canonical_sha256,
        )
    services_cia.version_enter_into_force(conference=conference, actor=secretariat, version=version)


def _signer_of(ctx, conference, users, organisation) -> User:
    """The demo user of the organisation, or a signer account created for it."""
    for role in (RoleName.SECRETARIAT, RoleName.PREFECTURE, RoleName.BAILLEUR, RoleName.ELU):
        if users[role].organisation_id == organisation.pk:
            return users[role]
    key = next(k for k, org in ORGANISATIONS.items() if org.siren == organisation.siren)
    member = next(m for m in VAL_DE_SEINE.members if m.org == key)
    rep = member.representatives[0]
    user = demo_user(
        f"signataire-{organisation.siren}@{SLUG}.demo",
        key,
        rep.first_name,
        rep.last_name,
        ctx.password,
    )
    # A bailleur's person explains its gaps (« cia.explain_gap »): the bailleur role.
    role = RoleName.BAILLEUR if organisation.type == OrganisationType.BAILLEUR else RoleName.MEMBRE
    grant_role(user, conference, role)
    return user


def _explanation(ctx, conference, convention) -> None:
    author = User.objects.get(email=f"signataire-{CAUX_LOGEMENT}@{SLUG}.demo")
    services_cia.gap_explanation_save(
        conference=conference,
        actor=author,
        convention=convention,
        year=2025,
        rule="r1",
        category=GapCategory.ROTATION,
        text=GAP_TEXT,
    )
    ctx.log(f"{SLUG} — explication de l'écart R1 2025 de Caux Logement")


# --- The bilan annuel in PDF ------------------------------------------------------------------


def _bilan_pdf(conference, secretariat) -> None:
    from conventions.pdf.bilan import bilan_title
    from conventions.pdf.services import document_request

    document_request(
        conference=conference,
        actor=secretariat,
        kind=DocumentKind.BILAN_ANNUEL,
        title=bilan_title(conference, 2025),
        subject_type="attributions.bilan",
        year=2025,
    )
