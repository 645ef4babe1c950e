"""Demo sessions (cil.demo.DEMO_STEPS), for Val-de-Seine: the conference's rules, three
bodies (the commission de coordination, the relogement committee for vulnerable
households the Grand-Orly seed describes, a thematic workshop), two past plenaries with
their minutes — the first approved by the second, whose draft awaits the next — and one
upcoming plenary whose convocations are sent.

Everything goes through the services, with the secretariat's demo account, as the pages
would do it; the e-mails stay in memory (cil.demo `mail_kept_in_memory`). Idempotent: skipped
when the conference already has sessions.
"""

import datetime
from datetime import date, time

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cil.governance.forms import aware
from cil.governance.models import BodyKind, ItemKind, Meeting, Minutes, Rhythm
from cil.governance.selectors import members_of, roster
from cil.governance.services import agenda, attendance, convocations, meetings, minutes, votes
from cil.models import College, Membership, User
from cil.roles import RoleName
from cil.tenancy import conference_scope
from conventions.models import Convention

SLUG = "agglo-val-de-seine"
PLACE = (
    "Hôtel d'agglomération, salle du conseil communautaire, 12 place de la République, Seineville"
)
VIDEO = "https://visio.val-de-seine.demo/cil-pleniere"
CHAIRS_2025 = (
    "M. Philippe Garnier, préfet de la Seine-et-Caux, et M. Bernard Quesnel, président de "
    "Val-de-Seine Agglomération"
)

# Organisation keys of cil/demo.py ORGANISATIONS, by SIREN there.
BODIES = (
    {
        "name": "Commission de coordination",
        "kind": BodyKind.COMMISSION,
        "rhythm": Rhythm.TRIMESTRIELLE,
        "description": "Prévue par la convention intercommunale d'attribution (article L.441-1-6 du CCH) : examine les dossiers des ménages prioritaires dont le relogement tarde et coordonne les attributions entre bailleurs et réservataires.",
        "members": ("vds", "etat", "vds-habitat", "boucles", "caux-logement", "iln", "als"),
    },
    {
        "name": "Comité de relogement des publics vulnérables",
        "kind": BodyKind.COMITE,
        "rhythm": Rhythm.MENSUELLE,
        "description": "Expérimentation pour le relogement des personnes victimes de violences familiales, avec les communes volontaires : saisine par les services logement et les CCAS, examen des situations, relogement adapté ; évaluation quantitative et, si possible, qualitative des situations traitées.",
        "members": (
            "seineville",
            "saint-aubin",
            "departement",
            "etat",
            "vds-habitat",
            "boucles",
            "seine-accueil",
        ),
    },
    {
        "name": "Atelier thématique « Mutations et parcours résidentiels »",
        "kind": BodyKind.ATELIER,
        "rhythm": Rhythm.SEMESTRIELLE,
        "description": "Propositions sur les mutations dans le parc social et l'offre de logement adapté.",
        "members": (
            "vds-habitat",
            "boucles",
            "caux-logement",
            "als",
            "locataires-vds",
            "seine-accueil",
        ),
    },
)

# Attendance of the past plenaries, by organisation key; the others are present.
ATTENDANCE = {
    date(2025, 12, 9): {
        "departement": ("supplee", None),
        "darnetal": ("represente", "saint-aubin"),
        "semse": ("excuse", None),
        "andelle": ("distance", None),
        "moi": ("absent", None),
        "seine-accueil": ("represente", "locataires-vds"),
    },
    date(2026, 6, 23): {
        "mont-roberval": ("distance", None),
        "iln": ("represente", "boucles"),
        "als": ("supplee", None),
        "locataires-vds": ("excuse", None),
        "darnetal": ("absent", None),
    },
}

SUMMARIES = {
    "Présentation du bilan annuel 2024 des attributions": "Le secrétariat présente le bilan 2024. Hors QPV, 23,8 % des attributions sont allées aux ménages du premier quartile ou relogés, pour un objectif de 25 %. Caux Logement explique son écart par la livraison tardive de deux résidences.",
    "Comité de relogement des publics vulnérables : point d'étape": "Depuis son installation, le comité a examiné 14 situations de personnes victimes de violences familiales ; 9 ménages ont été relogés. Les communes de Seineville et de Saint-Aubin-des-Vignes souhaitent poursuivre l'expérimentation.",
}


def _org(key: str) -> str:
    from cil.demo import ORGANISATIONS

    return ORGANISATIONS[key].siren


def _member(key: str) -> Membership:
    return Membership.objects.select_related("organisation").get(organisation__siren=_org(key))


def _pdf(title: str) -> SimpleUploadedFile:
    """A one-page PDF (written by hand: the demo's documents pipeline seals its own)."""
    text = title.encode("latin-1", "replace")
    stream = b"BT /F1 14 Tf 60 780 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(stream)).encode() + b" >>\nstream\n" + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body, offsets = b"%PDF-1.4\n", []
    for number, content in enumerate(objects, start=1):
        offsets.append(len(body))
        body += f"{number} 0 obj\n".encode() + content + b"\nendobj\n"
    xref = len(body)
    body += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    body += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    body += (
        f"trailer << /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return SimpleUploadedFile(f"{title[:40]}.pdf", body, content_type="application/pdf")


class _Demo:
    def __init__(self, conference, secretariat: User):
        self.conference = conference
        self.actor = secretariat

    def kw(self) -> dict:
        return {"conference": self.conference, "actor": self.actor}

    def bodies(self) -> None:
        for spec in BODIES:
            meetings.body_save(
                **self.kw(),
                name=spec["name"],
                kind=spec["kind"],
                description=spec["description"],
                rhythm=spec["rhythm"],
                members=[_member(key) for key in spec["members"]],
            )

    def meeting(self, day: date, title: str, *, chairs: str = "") -> Meeting:
        return meetings.meeting_create(
            **self.kw(),
            body=None,
            title=title,
            starts_at=aware(day, time(14, 30)),
            ends_at=aware(day, time(17, 0)),
            place=PLACE,
            video_url=VIDEO,
            chairs=chairs,
        )

    def item(self, meeting, kind, title="", description="", **targets):
        return agenda.item_save(
            **self.kw(), meeting=meeting, kind=kind, title=title, description=description, **targets
        )

    def attend(self, meeting: Meeting, day: date) -> None:
        """Everyone present but the members ATTENDANCE names; holders first."""
        plan = ATTENDANCE[day]
        members = list(members_of(meeting))
        by_siren = {m.organisation.siren: m for m in members}
        special = {by_siren[_org(key)].pk: value for key, value in plan.items()}
        ordered = sorted(members, key=lambda m: special.get(m.pk, ("present",))[0] == "represente")
        for membership in ordered:
            status, holder = special.get(membership.pk, ("present", None))
            attendance.attendance_set(
                **self.kw(),
                meeting=meeting,
                membership=membership,
                status=status,
                proxy_holder=by_siren[_org(holder)] if holder else None,
            )

    def vote(
        self,
        meeting,
        item,
        against: dict[int, int] | None = None,
        abstain: dict[int, int] | None = None,
    ):
        """Everyone votes for, but `against` and `abstain` (per college)."""
        from cil.governance import counting
        from cil.governance.selectors import settings_of, sheet

        rules = settings_of(self.conference)
        voters = counting.voters_by_college(
            sheet(roster(meeting)), rules.rules(), by_college=rules.votes_by_college
        )
        against, abstain = against or {}, abstain or {}
        ballots = {
            college: {
                "pour": count - against.get(college, 0) - abstain.get(college, 0),
                "contre": against.get(college, 0),
                "abstention": abstain.get(college, 0),
            }
            for college, count in voters.items()
        }
        return votes.vote_record(**self.kw(), meeting=meeting, item=item, ballots=ballots)

    def close_and_write(self, meeting: Meeting) -> Minutes:
        meetings.meeting_close(**self.kw(), meeting=meeting)
        written = minutes.minutes_draft(**self.kw(), meeting=meeting)
        body = written.body
        for title, summary in SUMMARIES.items():
            body = body.replace(
                f"{title}\n\n*Résumé des échanges : à compléter par le secrétariat.*",
                f"{title}\n\n{summary}",
            )
        body = body.replace(
            "*Résumé des échanges : à compléter par le secrétariat.*",
            "Après présentation par le secrétariat, la conférence en débat.",
        )
        return minutes.minutes_save(**self.kw(), minutes=written, body=body)


def add_sessions(ctx) -> None:
    conference = ctx.conferences[SLUG]
    with conference_scope(conference):
        if Meeting.objects.exists():
            ctx.log(f"{SLUG} — séances : déjà présentes")
            return
        secretariat = User.objects.get(email=f"{RoleName.SECRETARIAT}@{SLUG}.demo")
        demo = _Demo(conference, secretariat)
        meetings.governance_settings_save(
            **demo.kw(),
            quorum_numerator=1,
            quorum_denominator=2,
            max_proxies=1,
            reminder_days=3,
            convocation_notice_days=15,
        )
        demo.bodies()

        # 1. December 2025: the CIA's avenant n° 1 approved, the bilan 2024 presented.
        first_day = date(2025, 12, 9)
        # Before the municipal elections of March 2026: the EPCI's former president.
        first = demo.meeting(first_day, "Séance plénière", chairs=CHAIRS_2025)
        demo.item(first, ItemKind.INFORMATION, "Présentation du bilan annuel 2024 des attributions")
        avenant = (
            Convention.objects.get().versions.filter(kind="avenant").order_by("number").first()
            if Convention.objects.exists()
            else None
        )
        approval = (
            demo.item(first, ItemKind.CIA, cia_version=avenant)
            if avenant
            else demo.item(
                first,
                ItemKind.DELIBERATION,
                "Approbation de l'avenant n° 1 à la convention intercommunale d'attribution",
            )
        )
        demo.item(
            first,
            ItemKind.INFORMATION,
            "Comité de relogement des publics vulnérables : point d'étape",
        )
        demo.attend(first, first_day)
        demo.vote(
            first, approval, against={College.PROFESSIONNELS: 1}, abstain={College.USAGERS: 1}
        )
        first_minutes = demo.close_and_write(first)

        # 2. June 2026: approves the December minutes, adopts the workshops' programme.
        second_day = date(2026, 6, 23)
        second = demo.meeting(second_day, "Séance plénière")
        pv = demo.item(second, ItemKind.PROCES_VERBAL, minutes=first_minutes)
        programme = demo.item(
            second,
            ItemKind.DELIBERATION,
            "Programme de travail 2026-2027 des ateliers thématiques",
            "Trois ateliers : mutations et parcours résidentiels, offre adaptée aux personnes âgées, mobilisation du parc privé conventionné.",
        )
        demo.item(
            second, ItemKind.INFORMATION, "Point d'étape sur la gestion en flux des réservations"
        )
        demo.attend(second, second_day)
        demo.vote(second, pv)  # approves the December minutes; their final PDF is produced
        demo.vote(
            second,
            programme,
            against={College.COLLECTIVITES: 1},
            abstain={College.PROFESSIONNELS: 2},
        )
        second_minutes = demo.close_and_write(second)
        minutes.minutes_issue(**demo.kw(), minutes=second_minutes)

        # 3. In three weeks and a half: convened, some convocations already opened.
        day = timezone.localdate() + datetime.timedelta(days=24)
        upcoming = demo.meeting(day, "Séance plénière")
        demo.item(upcoming, ItemKind.PROCES_VERBAL, minutes=second_minutes)
        bilan = demo.item(
            upcoming,
            ItemKind.INFORMATION,
            "Présentation du bilan annuel 2025 des attributions",
            "Le bilan détaillé par bailleur et par réservataire est joint ; les écarts aux objectifs de la convention y sont expliqués.",
        )
        agenda.attachment_add(
            **demo.kw(),
            item=bilan,
            title="Note de présentation du bilan 2025",
            upload=_pdf("Note de presentation du bilan 2025"),
        )
        demo.item(
            upcoming,
            ItemKind.DELIBERATION,
            "Prolongation de l'expérimentation du comité de relogement des publics vulnérables",
        )
        convocations.convocations_send(**demo.kw(), meeting=upcoming)
        # Sent now rather than after the commit (the queued task then finds nothing left to
        # send), so that a few can show as already opened.
        convocations.deliver(
            meeting=upcoming,
            convocation_ids=list(upcoming.convocations.values_list("pk", flat=True)),
            purpose="convocation",
        )
        for convocation in upcoming.convocations.filter(kind="convocation").order_by("pk")[:7]:
            convocations.convocation_opened(convocation)

        # A committee meeting in preparation.
        from cil.governance.models import Body

        committee = Body.objects.get(kind=BodyKind.COMITE)
        committee_meeting = meetings.meeting_create(
            **demo.kw(),
            body=committee,
            title="Réunion mensuelle du comité de relogement",
            starts_at=aware(day - datetime.timedelta(days=10), time(9, 30)),
            ends_at=aware(day - datetime.timedelta(days=10), time(11, 30)),
            place="Centre communal d'action sociale de Seineville, salle 2",
        )
        demo.item(
            committee_meeting,
            ItemKind.INFORMATION,
            "Situations signalées depuis la dernière réunion",
            "Examen des situations transmises par les services logement et les CCAS des communes volontaires (données nominatives présentées en séance, non conservées sur la plateforme).",
        )
        demo.item(
            committee_meeting,
            ItemKind.DELIBERATION,
            "Modalités de saisine du comité par les centres communaux d'action sociale",
        )
        ctx.log(
            f"{SLUG} — séances : 3 instances, 2 séances plénières passées avec procès-verbal, "
            f"1 séance plénière le {day:%d/%m/%Y} convoquée, 1 réunion du comité de relogement"
        )
