"""Forms of the sessions. They parse and present; the rules are the services'."""

from datetime import datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from dsfr.forms import DsfrBaseForm

from cil import uploads
from cil.concurrency import VersionedForm
from cil.governance.models import (
    BodyKind,
    ItemKind,
    MajorityRule,
    QuorumComparison,
    Rhythm,
)
from cil.governance.services.agenda import ACCEPTED, MAX_ATTACHMENT_BYTES
from cil.governance.services.minutes import BODY_MAX
from cil.governance.services.votes import TEXT_MAX
from cil.models import College

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")

QUORUM_CHOICES = [
    ("1/3", "le tiers"),
    ("1/2", "la moitié"),
    ("3/5", "les trois cinquièmes"),
    ("2/3", "les deux tiers"),
    ("3/4", "les trois quarts"),
]


class SettingsForm(DsfrBaseForm):
    quorum_comparison = forms.ChoiceField(
        label="Le quorum est atteint quand les membres à voix délibérative présents ou représentés sont",
        choices=QuorumComparison.choices,
    )
    quorum = forms.ChoiceField(label="… des membres à voix délibérative", choices=QUORUM_CHOICES)
    remote_counts = forms.BooleanField(
        label="Les membres qui participent à distance comptent comme présents (quorum et votes)",
        required=False,
    )
    max_proxies = forms.TypedChoiceField(
        label="Pouvoirs détenus par un même membre, au plus",
        choices=[(0, "Aucun : le règlement n'admet pas les pouvoirs")]
        + [(n, str(n)) for n in range(1, 6)],
        coerce=int,
        help_text="Un pouvoir se donne à un membre présent du même collège ; il ne se transmet pas.",
    )
    majority_rule = forms.ChoiceField(label="Règle de majorité", choices=MajorityRule.choices)
    votes_by_college = forms.BooleanField(label="Décompter les votes par collège", required=False)
    convocation_notice_days = forms.IntegerField(
        label="Délai de convocation (jours avant la séance)", min_value=0, max_value=90
    )
    reminder_days = forms.IntegerField(
        label="Relance par courriel (jours avant la séance)",
        min_value=0,
        max_value=30,
        help_text="0 : pas de relance. Chaque titulaire convoqué reçoit une relance au plus.",
    )
    plenary_rhythm = forms.ChoiceField(label="Rythme des séances plénières", choices=Rhythm.choices)

    @classmethod
    def initial_from(cls, rules) -> dict:
        return {
            "quorum": f"{rules.quorum_numerator}/{rules.quorum_denominator}",
            **{name: getattr(rules, name) for name in (
                "quorum_comparison", "remote_counts", "max_proxies", "majority_rule",
                "votes_by_college", "convocation_notice_days", "reminder_days", "plenary_rhythm",
            )},
        }  # fmt: skip

    def values(self) -> dict:
        data = dict(self.cleaned_data)
        numerator, denominator = data.pop("quorum").split("/")
        return data | {"quorum_numerator": int(numerator), "quorum_denominator": int(denominator)}


class BodyForm(DsfrBaseForm):
    name = forms.CharField(label="Nom", max_length=255)
    kind = forms.ChoiceField(label="Nature", choices=BodyKind.choices)
    description = forms.CharField(
        label="Mission",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Par exemple : relogement des personnes victimes de violences familiales, modalités de saisine.",
    )
    rhythm = forms.ChoiceField(label="Rythme des réunions", choices=Rhythm.choices)
    members = forms.MultipleChoiceField(
        label="Membres",
        widget=forms.CheckboxSelectMultiple,
        help_text="Les organisations membres de la conférence qui y siègent.",
    )
    is_active = forms.BooleanField(label="Instance active", required=False, initial=True)

    def __init__(self, *args, memberships, **kwargs):
        super().__init__(*args, **kwargs)
        self.memberships = {str(m.public_id): m for m in memberships}
        labels = dict(College.choices)
        self.fields["members"].choices = [
            (key, f"{m.organisation.name} — {labels[m.college].split(' — ')[0]}")
            for key, m in self.memberships.items()
        ]

    def clean_members(self):
        return [self.memberships[key] for key in self.cleaned_data["members"]]


def aware(day, moment: time | None) -> datetime | None:
    if day is None or moment is None:
        return None
    return datetime.combine(day, moment, tzinfo=ZoneInfo(settings.TIME_ZONE))


class MeetingForm(VersionedForm, DsfrBaseForm):
    body = forms.ChoiceField(label="Instance", required=False)
    title = forms.CharField(label="Intitulé", max_length=255)
    day = forms.DateField(label="Date", widget=DATE_INPUT)
    start = forms.TimeField(label="Heure de début", widget=TIME_INPUT)
    end = forms.TimeField(label="Heure de fin", required=False, widget=TIME_INPUT)
    place = forms.CharField(
        label="Lieu", max_length=255, required=False, help_text="Adresse et salle."
    )
    video_url = forms.URLField(
        label="Lien de visioconférence", required=False, max_length=500, assume_scheme="https"
    )
    chairs = forms.CharField(
        label="Présidence de la séance",
        max_length=255,
        required=False,
        help_text="Pour une séance plénière, laissé vide : les coprésidents de la conférence (le préfet et le président de l'EPCI).",
    )

    def __init__(self, *args, bodies=(), editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.bodies = {str(b.public_id): b for b in bodies}
        if editing:
            del self.fields["body"]
        else:
            self.fields["body"].choices = [("", "Séance plénière")] + [
                (key, f"{b.name} ({b.get_kind_display().lower()})")
                for key, b in self.bodies.items()
            ]

    def clean_body(self):
        key = self.cleaned_data.get("body") or ""
        if key and key not in self.bodies:
            raise forms.ValidationError("Instance inconnue.")
        return self.bodies.get(key)

    def values(self) -> dict:
        data = self.cleaned_data
        values = {
            "title": data["title"],
            "starts_at": aware(data["day"], data["start"]),
            "ends_at": aware(data["day"], data.get("end")),
            "place": data.get("place") or "",
            "video_url": data.get("video_url") or "",
            "chairs": data.get("chairs") or "",
        }
        if "body" in self.fields:
            values["body"] = data.get("body")
        return values

    @staticmethod
    def initial_from(meeting) -> dict:
        from django.utils import timezone

        start = timezone.localtime(meeting.starts_at)
        end = timezone.localtime(meeting.ends_at) if meeting.ends_at else None
        return {
            "title": meeting.title,
            "day": start.date(),
            "start": start.time().replace(second=0, microsecond=0),
            "end": end.time().replace(second=0, microsecond=0) if end else None,
            "place": meeting.place,
            "video_url": meeting.video_url,
            "chairs": meeting.chairs,
        }


class ItemForm(DsfrBaseForm):
    kind = forms.ChoiceField(
        label="Nature du point", choices=ItemKind.choices, widget=forms.RadioSelect
    )
    title = forms.CharField(
        label="Intitulé",
        max_length=255,
        required=False,
        help_text="Facultatif pour une adoption ou une approbation : l'intitulé est alors proposé par la plateforme.",
    )
    description = forms.CharField(
        label="Présentation", required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    cia_version = forms.ChoiceField(
        label="Version de la convention (approbation de la CIA)", required=False
    )
    minutes = forms.ChoiceField(
        label="Procès-verbal (approbation d'un procès-verbal)", required=False
    )

    def __init__(self, *args, cia_versions=(), minutes=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.cia_versions = {str(v.public_id): v for v in cia_versions}
        self.minutes_choices = {str(m.public_id): m for m in minutes}
        self.fields["cia_version"].choices = [("", "—")] + [
            (key, f"{v.title} ({v.get_status_display().lower()})")
            for key, v in self.cia_versions.items()
        ]
        self.fields["minutes"].choices = [("", "—")] + [
            (key, str(m.meeting)) for key, m in self.minutes_choices.items()
        ]

    def clean_cia_version(self):
        return self.cia_versions.get(self.cleaned_data.get("cia_version") or "")

    def clean_minutes(self):
        return self.minutes_choices.get(self.cleaned_data.get("minutes") or "")


class AttachmentForm(DsfrBaseForm):
    title = forms.CharField(
        label="Titre", max_length=255, required=False, help_text="Par défaut : le nom du fichier."
    )
    file = forms.FileField(
        label="Fichier",
        required=False,
        help_text=f"20 Mo au plus. Formats : {ACCEPTED}.",
        widget=forms.ClearableFileInput(attrs={"accept": ACCEPTED.replace(" ", "")}),
    )
    document = forms.ChoiceField(
        label="Ou un document produit par la plateforme",
        required=False,
        help_text="Les PDF scellés que tous les membres peuvent lire : document d'orientation, convention, procès-verbal. Le bilan annuel détaillé, réservé au secrétariat et à la préfecture, se joint comme fichier (par exemple sa version agrégée).",
    )

    def __init__(self, *args, documents=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.documents = {str(d.public_id): d for d in documents}
        self.fields["document"].choices = [("", "—")] + [
            (key, f"{d.title} ({d.created_at:%d/%m/%Y})") for key, d in self.documents.items()
        ]

    def clean_document(self):
        return self.documents.get(self.cleaned_data.get("document") or "")

    def clean_file(self):
        """What the service's first-bytes check cannot see: a ZIP bomb or a DTD inside an
        office document, a text of megabyte lines (cil/uploads.py)."""
        upload = self.cleaned_data.get("file")
        if upload:
            try:
                uploads.check_attachment(upload, limit=MAX_ATTACHMENT_BYTES)
            except uploads.UploadRefused as refused:
                raise forms.ValidationError(refused.problems) from None
        return upload

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("file") and not cleaned.get("document"):
            raise forms.ValidationError(
                "Choisissez un fichier ou un document produit par la plateforme."
            )
        if cleaned.get("file") and cleaned.get("document"):
            raise forms.ValidationError(
                "Joignez soit un fichier, soit un document produit, pas les deux."
            )
        return cleaned


class VoteForm(DsfrBaseForm):
    """One line of pour / contre / abstention per college holding voices (or one line for
    all voters when the conference does not report by college)."""

    text = forms.CharField(
        label="Texte de la décision",
        max_length=TEXT_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Laissé vide : la plateforme rédige la décision selon le résultat.",
    )

    def __init__(self, *args, voters: dict[int, int], **kwargs):
        super().__init__(*args, **kwargs)
        self.voters = voters
        for college in voters:
            for name, label in (
                ("pour", "Pour"),
                ("contre", "Contre"),
                ("abstention", "Abstentions"),
            ):
                self.fields[f"{name}_{college}"] = forms.IntegerField(
                    label=label,
                    min_value=0,
                    required=False,
                    widget=forms.NumberInput(attrs={"class": "fr-input"}),
                )

    def lines(self):
        labels = dict(College.choices)
        for college, count in self.voters.items():
            yield {
                "college": college,
                "label": labels.get(college, "Ensemble des votants"),
                "voters": count,
                "fields": [self[f"{name}_{college}"] for name in ("pour", "contre", "abstention")],
            }

    def ballots(self) -> dict:
        return {
            college: {
                name: self.cleaned_data.get(f"{name}_{college}") or 0
                for name in ("pour", "contre", "abstention")
            }
            for college in self.voters
        }


class MinutesForm(DsfrBaseForm):
    body = forms.CharField(
        label="Texte du procès-verbal",
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 28}),
        help_text="Mise en forme Markdown : # titre, ## sous-titre, **gras**, *italique*, listes (- ou 1.).",
    )


class CancelForm(DsfrBaseForm):
    reason = forms.CharField(
        label="Motif de l'annulation", max_length=500, widget=forms.Textarea(attrs={"rows": 3})
    )
