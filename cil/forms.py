from django import forms
from django.contrib.auth import forms as auth_forms
from dsfr.forms import DsfrBaseForm

from cil.concurrency import VersionedForm
from cil.models import College, OrganisationType, RepresentativeKind, normalize_email
from cil.roles import RoleName
from cil.validators import siren_error

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class LoginForm(auth_forms.AuthenticationForm):
    username = forms.EmailField(
        label="Adresse électronique",
        widget=forms.EmailInput(
            attrs={"autofocus": True, "autocomplete": "email", "class": "fr-input"}
        ),
    )
    password = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password", "class": "fr-input"}),
    )

    error_messages = {
        "invalid_login": "Adresse électronique ou mot de passe incorrect.",
        "inactive": "Ce compte est désactivé.",
    }

    def clean_username(self):
        return normalize_email(self.cleaned_data["username"])


class ConferenceForm(VersionedForm, DsfrBaseForm):
    name = forms.CharField(label="Nom de la conférence", max_length=255)
    prefet_name = forms.CharField(
        label="Préfet (coprésident)",
        max_length=255,
        help_text="Par exemple : M. Philippe Garnier, préfet de la Seine-et-Caux.",
    )
    president_name = forms.CharField(
        label="Président de l'EPCI (coprésident)", max_length=255, help_text="Nom et qualité."
    )


class MembershipAddForm(DsfrBaseForm):
    siren = forms.CharField(label="SIREN de l'organisation", max_length=9, help_text="9 chiffres.")
    name = forms.CharField(
        label="Nom de l'organisation",
        max_length=255,
        help_text="Utilisé seulement si l'organisation n'est pas encore connue de la plateforme.",
    )
    type = forms.ChoiceField(label="Type d'organisation", choices=OrganisationType.choices)
    college = forms.TypedChoiceField(label="Collège", choices=College.choices, coerce=int)
    voting_right = forms.BooleanField(label="Droit de vote", required=False, initial=True)

    def clean_siren(self):
        siren = self.cleaned_data["siren"].replace(" ", "")
        message = siren_error(siren)
        if message:
            raise forms.ValidationError(message)
        return siren


class MembershipEditForm(VersionedForm, DsfrBaseForm):
    college = forms.TypedChoiceField(label="Collège", choices=College.choices, coerce=int)
    voting_right = forms.BooleanField(label="Droit de vote", required=False)


class RepresentativeForm(VersionedForm, DsfrBaseForm):
    first_name = forms.CharField(label="Prénom", max_length=150)
    last_name = forms.CharField(label="Nom", max_length=150)
    position = forms.CharField(label="Fonction", max_length=255, required=False)
    email = forms.EmailField(label="Adresse électronique", required=False)
    kind = forms.ChoiceField(label="Qualité", choices=RepresentativeKind.choices)
    mandate_start = forms.DateField(label="Début du mandat", widget=DATE_INPUT)
    mandate_end = forms.DateField(label="Fin du mandat", required=False, widget=DATE_INPUT)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("mandate_start"), cleaned.get("mandate_end")
        if start and end and end < start:
            self.add_error("mandate_end", "La fin du mandat ne peut pas précéder son début.")
        return cleaned


class InvitationForm(DsfrBaseForm):
    email = forms.EmailField(label="Adresse électronique")
    organisation = forms.ChoiceField(label="Organisation membre")
    role = forms.ChoiceField(label="Rôle", choices=RoleName.choices)

    def __init__(self, *args, organisations, **kwargs):
        super().__init__(*args, **kwargs)
        self.organisations = {str(o.public_id): o for o in organisations}
        self.fields["organisation"].choices = [("", "Choisir une organisation")] + [
            (key, f"{o.name} ({o.get_type_display()})") for key, o in self.organisations.items()
        ]

    def clean_organisation(self):
        return self.organisations[self.cleaned_data["organisation"]]


class RolesForm(VersionedForm, DsfrBaseForm):
    roles = forms.MultipleChoiceField(
        label="Rôles dans la conférence",
        choices=RoleName.choices,
        widget=forms.CheckboxSelectMultiple,
    )


class InvitationAcceptForm(DsfrBaseForm):
    first_name = forms.CharField(label="Prénom", max_length=150)
    last_name = forms.CharField(label="Nom", max_length=150)
    password1 = forms.CharField(
        label="Mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="Au moins 12 caractères, pas uniquement des chiffres, pas un mot de passe courant.",
    )
    password2 = forms.CharField(
        label="Confirmation du mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("password1") and cleaned.get("password1") != cleaned.get("password2"):
            self.add_error("password2", "Les deux mots de passe ne correspondent pas.")
        return cleaned


class TerritoryUploadForm(DsfrBaseForm):
    file = forms.FileField(
        label="Fichier territoire (JSON, format territoire/v1)",
        help_text="Le fichier décrit les communes, les QPV, les organisations membres et les seuils annuels.",
    )


class AuditFilterForm(DsfrBaseForm):
    action = forms.ChoiceField(label="Action", required=False)
    object_type = forms.ChoiceField(label="Objet", required=False)
    actor = forms.CharField(label="Auteur (adresse)", required=False)
    start = forms.DateField(label="Du", required=False, widget=DATE_INPUT)
    end = forms.DateField(label="Au", required=False, widget=DATE_INPUT)

    def __init__(self, *args, actions, object_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", "Toutes"), *actions]
        self.fields["object_type"].choices = [("", "Tous")] + [
            (t, OBJECT_TYPE_LABELS.get(t, t)) for t in object_types
        ]


OBJECT_TYPE_LABELS = {
    "cil.membership": "Membre",
    "cil.representative": "Représentant",
    "cil.invitation": "Invitation",
    "cil.access": "Compte utilisateur",
    "cil.user": "Sécurité du compte",
    "cil.retention": "Conservation des données",
    "cil.conference": "Conférence",
    "cil.commune": "Commune",
    "cil.qpv": "QPV",
    "attributions.q1threshold": "Seuil du premier quartile",
    "attributions.rulerates": "Taux des règles",
    "attributions.attribution": "Attribution",
    "attributions.apitoken": "Jeton d'API",
    "attributions.importjob": "Import de fichier",
    "conventions.orientationdocument": "Document d'orientation",
    "conventions.orientationcomment": "Commentaire sur le document d'orientation",
    "conventions.convention": "Convention d'attribution",
    "conventions.conventionversion": "Version de la convention d'attribution",
    "conventions.bailleurobjective": "Objectifs des bailleurs (convention)",
    "conventions.reservataireobjective": "Objectifs des réservataires (convention)",
    "conventions.gapexplanation": "Explication d'écart (convention)",
}
