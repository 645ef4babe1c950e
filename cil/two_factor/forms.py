from django import forms
from dsfr.forms import DsfrBaseForm

from cil.roles import RoleName


def code_field(*, autofocus: bool = True, **kwargs) -> forms.CharField:
    attrs = {
        "autocomplete": "one-time-code",
        "autocapitalize": "none",
        "spellcheck": "false",
    }
    if autofocus:
        attrs["autofocus"] = True
    return forms.CharField(
        label=kwargs.pop("label", "Code à usage unique"),
        max_length=32,
        strip=True,
        widget=forms.TextInput(attrs=attrs),
        error_messages={"required": "Saisissez le code."},
        **kwargs,
    )


class CodeForm(DsfrBaseForm):
    code = code_field(
        help_text="Les 6 chiffres affichés par votre application d'authentification, ou un de vos codes de secours."
    )


class EnrolmentForm(DsfrBaseForm):
    code = code_field(
        label="Code affiché par l'application",
        help_text="Les 6 chiffres affichés par l'application après l'ajout du compte.",
    )


class DisableForm(DsfrBaseForm):
    password = forms.CharField(
        label="Votre mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        error_messages={"required": "Saisissez votre mot de passe."},
    )
    code = code_field(
        autofocus=False,
        help_text="Les 6 chiffres de votre application, ou un de vos codes de secours.",
    )


class ConferenceTwoFactorForm(DsfrBaseForm):
    roles = forms.MultipleChoiceField(
        label="Rôles tenus à la double authentification",
        required=False,
        choices=RoleName.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Une personne qui tient un de ces rôles dans la conférence doit confirmer sa connexion par un code à usage unique avant d'ouvrir une page de la conférence ; sans application configurée, elle est conduite à l'activer.",
    )
