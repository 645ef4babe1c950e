"""Forms of the observatory's analysis and settings pages."""

from django import forms
from dsfr.forms import DsfrBaseForm

from observatoire.services_settings import MAX_DELAI_MOIS


class SettingsForm(DsfrBaseForm):
    delai_anormalement_long_mois = forms.IntegerField(
        label="Délai anormalement long (en mois)",
        required=False,
        min_value=1,
        max_value=MAX_DELAI_MOIS,
        help_text="Fixé par arrêté préfectoral pour le département. Laissez vide tant qu'il n'est pas connu : les indicateurs de délai ne sont alors pas calculés.",
    )
    delai_source = forms.CharField(
        label="Référence de l'arrêté",
        required=False,
        max_length=255,
        help_text="Obligatoire quand un délai est saisi : référence et date de l'arrêté, par exemple « arrêté préfectoral du 12 mars 2024 ».",
    )
