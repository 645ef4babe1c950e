"""Forms of the attributions app. The attribution form's fields carry the contract's column
names, and its values go through the same check as an imported line (services.check_row)."""

from decimal import Decimal, InvalidOperation

from django import forms
from dsfr.forms import DsfrBaseForm

from attributions.models import Financement, Reservataire, Typologie
from attributions.services import RowInvalid, check_row
from cil.concurrency import VersionedForm

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class AttributionForm(VersionedForm, DsfrBaseForm):
    reference = forms.CharField(
        label="Référence", max_length=64, help_text="Votre identifiant de l'attribution."
    )
    date_signature_bail = forms.DateField(label="Date de signature du bail", widget=DATE_INPUT)
    commune_insee = forms.ChoiceField(label="Commune du logement")
    qpv_code = forms.ChoiceField(label="Quartier prioritaire (QPV) du logement", required=False)
    reservataire = forms.ChoiceField(
        label="Contingent (réservataire)", choices=Reservataire.choices
    )
    reservataire_siren = forms.CharField(
        label="SIREN du réservataire",
        max_length=9,
        required=False,
        help_text="Quand plusieurs existent (commune, EPCI…).",
    )
    nb_personnes = forms.IntegerField(
        label="Nombre de personnes du ménage", min_value=1, max_value=99
    )
    nb_enfants_moins_14 = forms.IntegerField(
        label="Dont enfants de moins de 14 ans", min_value=0, max_value=99, initial=0
    )
    revenu_annuel = forms.CharField(
        label="Revenu annuel du ménage (€)",
        required=False,
        help_text="Revenus et pensions mensuels × 12, comme le SNE les compte. Laissez vide si inconnu ; 0 est un revenu connu.",
    )
    revenu_par_uc = forms.CharField(
        label="Revenu par unité de consommation (€)",
        required=False,
        help_text="Seulement si vous le connaissez déjà calculé.",
    )
    typologie = forms.ChoiceField(
        label="Typologie", choices=[("", "Non renseignée"), *Typologie.choices], required=False
    )
    financement = forms.ChoiceField(
        label="Financement", choices=[("", "Non renseigné"), *Financement.choices], required=False
    )
    numero_unique = forms.CharField(
        label="Numéro unique de la demande", max_length=32, required=False
    )
    rpls_id = forms.CharField(label="Identifiant RPLS du logement", max_length=32, required=False)
    dalo = forms.BooleanField(label="Ménage reconnu DALO", required=False)
    prioritaire = forms.BooleanField(label="Ménage prioritaire (article L.441-1)", required=False)
    relogement_npnru = forms.BooleanField(label="Relogement NPNRU / ORCOD", required=False)
    mutation = forms.BooleanField(
        label="Mutation (ménage déjà locataire du parc social)", required=False
    )

    def __init__(self, *args, conference, bailleur, communes, qpvs, **kwargs):
        super().__init__(*args, **kwargs)
        self.conference = conference
        self.bailleur = bailleur
        self.fields["commune_insee"].choices = [("", "Choisir une commune")] + [
            (insee, f"{name} ({insee})") for insee, name in communes
        ]
        self.fields["qpv_code"].choices = [("", "Hors QPV")] + [
            (code, f"{name} ({code})") for code, name in qpvs
        ]
        self.raw: dict = {}

    @staticmethod
    def initial_from(attribution) -> dict:
        return {
            "reference": attribution.reference,
            "date_signature_bail": attribution.lease_date,
            "commune_insee": attribution.commune.insee,
            "qpv_code": attribution.qpv.code if attribution.qpv else "",
            "reservataire": attribution.reservataire,
            "reservataire_siren": attribution.reservataire_siren,
            "nb_personnes": attribution.household_size,
            "nb_enfants_moins_14": attribution.children_under_14,
            "revenu_annuel": _money(attribution.annual_income),
            "revenu_par_uc": _money(attribution.given_income_per_uc),
            "typologie": attribution.typologie,
            "financement": attribution.financement,
            "numero_unique": attribution.numero_unique,
            "rpls_id": attribution.rpls_id,
            "dalo": attribution.dalo,
            "prioritaire": attribution.prioritaire,
            "relogement_npnru": attribution.relogement_npnru,
            "mutation": attribution.mutation,
        }

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        raw = dict(cleaned)
        raw["date_signature_bail"] = cleaned["date_signature_bail"].isoformat()
        raw["bailleur_siren"] = self.bailleur.siren
        try:
            check_row(raw, conference=self.conference, acting_bailleur_id=self.bailleur.pk)
        except RowInvalid as invalid:
            for column, _value, message in invalid.problems:
                self.add_error(column if column in self.fields else None, message)
        self.raw = raw
        return cleaned


def _money(value) -> str:
    return "" if value is None else f"{value:.2f}".replace(".", ",")


class AttributionFilterForm(forms.Form):
    annee = forms.TypedChoiceField(label="Année", required=False, coerce=int, empty_value=None)
    bailleur = forms.ChoiceField(label="Bailleur", required=False)
    commune = forms.ChoiceField(label="Commune", required=False)
    q = forms.CharField(label="Référence", required=False)

    def __init__(self, *args, years, bailleurs, communes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["annee"].choices = [("", "Toutes")] + [(y, y) for y in years]
        self.fields["bailleur"].choices = [("", "Tous"), *bailleurs]
        self.fields["commune"].choices = [("", "Toutes")] + [
            (insee, name) for insee, name in communes
        ]
        for field in self.fields.values():
            field.widget.attrs["class"] = (
                "fr-select" if isinstance(field, forms.ChoiceField) else "fr-input"
            )


def _percent(value: str) -> Decimal:
    try:
        number = Decimal(str(value).replace(",", ".").replace("%", "").strip())
    except InvalidOperation:
        raise forms.ValidationError("Pourcentage attendu, par exemple 25.") from None
    if not 0 <= number <= 100:
        raise forms.ValidationError("Pourcentage entre 0 et 100 attendu.")
    return (number / 100).quantize(Decimal("0.0001"))


class ThresholdForm(DsfrBaseForm):
    year = forms.IntegerField(label="Année", min_value=2014, max_value=2100)
    value = forms.DecimalField(
        label="Seuil du premier quartile (€ par UC et par an)",
        min_value=Decimal("0.01"),
        max_digits=10,
        decimal_places=2,
    )
    source = forms.CharField(
        label="Source",
        max_length=255,
        help_text="Référence de l'arrêté (par exemple « arrêté du 3 juin 2025 »).",
    )


class RatesForm(DsfrBaseForm):
    year = forms.IntegerField(label="Année", min_value=2014, max_value=2100)
    target_r1 = forms.CharField(label="R1 — attributions hors QPV aux ménages du 1er quartile (%)")
    target_r2 = forms.CharField(label="R2 — attributions en QPV aux ménages hors 1er quartile (%)")
    target_r3 = forms.CharField(label="R3 — attributions aux ménages DALO ou prioritaires (%)")
    reason = forms.CharField(
        label="Motif",
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Par exemple : orientations adoptées par la conférence le …",
    )

    def clean_target_r1(self):
        return _percent(self.cleaned_data["target_r1"])

    def clean_target_r2(self):
        return _percent(self.cleaned_data["target_r2"])

    def clean_target_r3(self):
        return _percent(self.cleaned_data["target_r3"])
