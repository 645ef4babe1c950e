"""Forms of the CIA pages. Rates are typed in percent (« 27,5 »), stored as shares (0.275)."""

from decimal import Decimal, InvalidOperation

from django import forms
from dsfr.forms import DsfrBaseForm

from cil.concurrency import VersionedForm
from conventions.models import GapCategory

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
RULE_LABELS = {"r1": "R1", "r2": "R2", "r3": "R3"}


class PercentField(forms.Field):
    """A percentage 0..100, comma or point, « % » allowed; cleaned to a share 0..1 (Decimal,
    4 decimals) or None when empty."""

    widget = forms.TextInput
    default_error_messages = {
        "invalid": "Saisissez un pourcentage entre 0 et 100 (par exemple 27,5).",
        "precision": "Deux décimales au plus (par exemple 27,25).",
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        # Rendered alone in the grid's cells (not through DSFR's field group): its class here.
        self.widget.attrs.update(
            {"class": "fr-input", "inputmode": "decimal", "size": 5, "maxlength": 8}
        )

    def prepare_value(self, value):
        if isinstance(value, Decimal):
            return f"{(value * 100).normalize():f}".replace(".", ",")
        return value

    def to_python(self, value):
        text = str(value or "").replace("%", "").replace(" ", "").replace("\u202f", "").strip()
        if not text:
            return None
        if len(text) > 8:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None
        if not number.is_finite() or not Decimal(0) <= number <= Decimal(100):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        share = number / 100
        if share != share.quantize(Decimal("0.0001")):
            raise forms.ValidationError(self.error_messages["precision"], code="precision")
        return share.quantize(Decimal("0.0001"))


class ConventionCreateForm(DsfrBaseForm):
    title = forms.CharField(
        label="Intitulé",
        max_length=255,
        initial="Convention intercommunale d'attribution",
    )
    start_year = forms.IntegerField(label="Première année", min_value=2015, max_value=2100)
    end_year = forms.IntegerField(
        label="Dernière année",
        min_value=2015,
        max_value=2100,
        help_text="La convention est souvent alignée sur le programme local de l'habitat (6 ans).",
    )

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_year"), cleaned.get("end_year")
        if start and end and end < start:
            self.add_error("end_year", "La dernière année ne peut pas précéder la première.")
        return cleaned


class VersionForm(VersionedForm, DsfrBaseForm):
    title = forms.CharField(label="Intitulé", max_length=255)
    effective_from = forms.DateField(label="Prend effet le", widget=DATE_INPUT)
    purpose = forms.CharField(
        label="Objet de l'avenant",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Pour un avenant : ce qu'il modifie et pourquoi.",
    )
    body = forms.CharField(
        label="Stipulations",
        required=False,
        widget=forms.Textarea(attrs={"rows": 14}),
        help_text="Texte de la convention ; séparez les paragraphes par une ligne vide.",
    )


class AvenantForm(DsfrBaseForm):
    effective_from = forms.DateField(
        label="Prend effet le",
        widget=DATE_INPUT,
        help_text="Les objectifs des années à partir de celle de cette date viendront de l'avenant ; les années antérieures gardent ceux de la version précédente.",
    )
    purpose = forms.CharField(
        label="Objet de l'avenant", widget=forms.Textarea(attrs={"rows": 4}), max_length=5000
    )
    title = forms.CharField(
        label="Intitulé",
        max_length=255,
        required=False,
        help_text="Laissez vide pour « Avenant n° … ».",
    )


class SignatoriesForm(DsfrBaseForm):
    organisations = forms.MultipleChoiceField(
        label="Organisations signataires",
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choisissez au moins un signataire."},
    )

    def __init__(self, *args, candidates, **kwargs):
        """`candidates`: [(organisation, capacity or None)] of the members."""
        super().__init__(*args, **kwargs)
        self.organisations = {str(o.public_id): o for o, _capacity in candidates}
        self.fields["organisations"].choices = [
            (str(o.public_id), f"{o.name} ({o.get_type_display()})") for o, _c in candidates
        ]

    def clean_organisations(self):
        return [self.organisations[key] for key in self.cleaned_data["organisations"]]


class ObjectiveGridForm(DsfrBaseForm):
    """Bailleurs × years: R1, R2, R3 (percent) and the number of NPNRU relogements."""

    def __init__(self, *args, bailleurs, years, existing, **kwargs):
        """`existing`: {(organisation id, year): BailleurObjective}."""
        super().__init__(*args, **kwargs)
        self.bailleurs, self.years = bailleurs, years
        self.grid = []
        for organisation in bailleurs:
            row = {"organisation": organisation, "cells": []}
            for year in years:
                objective = existing.get((organisation.pk, year))
                names = {}
                for rule, label in RULE_LABELS.items():
                    name = f"{organisation.public_id.hex}_{year}_{rule}"
                    self.fields[name] = PercentField(
                        label=f"{label} {year} — {organisation.name} (%)",
                        initial=getattr(objective, rule) if objective else None,
                    )
                    names[rule] = name
                name = f"{organisation.public_id.hex}_{year}_npnru"
                self.fields[name] = forms.IntegerField(
                    label=f"Relogements NPNRU {year} — {organisation.name}",
                    required=False,
                    min_value=0,
                    max_value=100_000,
                    initial=objective.npnru_relogements if objective else None,
                    error_messages={
                        "invalid": "Saisissez un nombre entier.",
                        "min_value": "Le nombre ne peut pas être négatif.",
                    },
                )
                self.fields[name].widget.attrs.update({"class": "fr-input", "size": 4})
                names["npnru"] = name
                row["cells"].append({"year": year, "names": names})
            self.grid.append(row)

    def grid_rows(self):
        """The grid with bound fields, for the template."""
        return [
            {
                "organisation": row["organisation"],
                "cells": [
                    {
                        "year": cell["year"],
                        "fields": [self[cell["names"][key]] for key in ("r1", "r2", "r3", "npnru")],
                    }
                    for cell in row["cells"]
                ],
            }
            for row in self.grid
        ]

    def values(self) -> dict:
        """{(organisation id, year): {"r1", "r2", "r3", "npnru_relogements"}}."""
        result = {}
        for row in self.grid:
            for cell in row["cells"]:
                names = cell["names"]
                result[(row["organisation"].pk, cell["year"])] = {
                    "r1": self.cleaned_data[names["r1"]],
                    "r2": self.cleaned_data[names["r2"]],
                    "r3": self.cleaned_data[names["r3"]],
                    "npnru_relogements": self.cleaned_data[names["npnru"]],
                }
        return result


class ReservataireGridForm(DsfrBaseForm):
    """Réservataires × years: R3 (percent)."""

    def __init__(self, *args, reservataires, years, existing, **kwargs):
        super().__init__(*args, **kwargs)
        self.grid = []
        for organisation in reservataires:
            cells = []
            for year in years:
                objective = existing.get((organisation.pk, year))
                name = f"{organisation.public_id.hex}_{year}_r3"
                self.fields[name] = PercentField(
                    label=f"R3 {year} — {organisation.name} (%)",
                    initial=objective.r3 if objective else None,
                )
                cells.append({"year": year, "name": name})
            self.grid.append({"organisation": organisation, "cells": cells})

    def grid_rows(self):
        return [
            {
                "organisation": row["organisation"],
                "fields": [self[c["name"]] for c in row["cells"]],
            }
            for row in self.grid
        ]

    def values(self) -> dict:
        return {
            (row["organisation"].pk, cell["year"]): self.cleaned_data[cell["name"]]
            for row in self.grid
            for cell in row["cells"]
        }


class PerimeterForm(DsfrBaseForm):
    """Which perimeter the objective grid edits: the territory, a commune or a QPV."""

    perimetre = forms.ChoiceField(label="Périmètre", required=False)

    def __init__(self, *args, communes, qpvs, **kwargs):
        super().__init__(*args, **kwargs)
        self.places = {f"commune-{c.insee}": c for c in communes} | {
            f"qpv-{q.code}": q for q in qpvs
        }
        self.fields["perimetre"].choices = [
            ("", "Tout le territoire"),
            ("Communes", [(f"commune-{c.insee}", str(c)) for c in communes]),
            ("Quartiers prioritaires", [(f"qpv-{q.code}", str(q)) for q in qpvs]),
        ]

    def place(self):
        """(commune, qpv): at most one of them set."""
        if not self.is_valid():
            return None, None
        key = self.cleaned_data["perimetre"]
        place = self.places.get(key)
        if key.startswith("commune-"):
            return place, None
        if key.startswith("qpv-"):
            return None, place
        return None, None


class DesignateForm(DsfrBaseForm):
    signatory = forms.ChoiceField(label="Organisation signataire")
    signer = forms.ChoiceField(
        label="Personne qui signe",
        help_text="Une personne de l'organisation ayant un accès à la conférence (pour l'État, un agent de la préfecture). La désignation lui donne le droit de signer cette version, et à elle seule.",
    )

    def __init__(self, *args, signatories, people, **kwargs):
        """`signatories`: those the user may designate for; `people`: {organisation id:
        [users]}."""
        super().__init__(*args, **kwargs)
        self.signatories = {str(s.public_id): s for s in signatories}
        self.people = {str(u.public_id): u for users in people.values() for u in users}
        self.fields["signatory"].choices = [
            (key, s.organisation.name) for key, s in self.signatories.items()
        ]
        self.fields["signer"].choices = [("", "Choisir une personne")] + [
            (
                s.organisation.name,
                [
                    (str(u.public_id), f"{u.get_full_name() or u.email} ({u.email})")
                    for u in people.get(s.organisation_id, [])
                ],
            )
            for s in signatories
        ]

    def clean(self):
        cleaned = super().clean()
        signatory = self.signatories.get(cleaned.get("signatory", ""))
        signer = self.people.get(cleaned.get("signer", ""))
        if (
            signatory is not None
            and signer is not None
            and signer.organisation_id != signatory.organisation_id
        ):
            self.add_error("signer", "Choisissez une personne de l'organisation signataire.")
        cleaned["signatory"], cleaned["signer"] = signatory, signer
        return cleaned


class SignForm(DsfrBaseForm):
    sha256 = forms.CharField(widget=forms.HiddenInput, max_length=64)
    confirm = forms.BooleanField(
        label="J'ai pris connaissance du document dont l'empreinte est affichée ci-dessus et je le signe au nom de mon organisation.",
        error_messages={"required": "Cochez la case pour confirmer la signature."},
    )
    password = forms.CharField(
        label="Votre mot de passe",
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="Saisissez à nouveau votre mot de passe pour signer.",
        error_messages={"required": "Saisissez votre mot de passe pour signer."},
    )
    otp_code = forms.CharField(
        label="Code de votre application d'authentification",
        required=False,
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code"}),
        help_text="Les 6 chiffres affichés par l'application, ou un code de secours.",
    )

    def __init__(self, *args, second_factor: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not second_factor:
            del self.fields["otp_code"]


class ExplanationForm(DsfrBaseForm):
    category = forms.ChoiceField(label="Motif principal", choices=GapCategory.choices)
    text = forms.CharField(
        label="Explication",
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=5000,
        help_text="Visible par toute la conférence, à côté de vos chiffres. Aucune donnée sur un ménage.",
    )
