"""Forms of the document d'orientation. The forms of the circuit's steps are built from the
circuit's data (conventions/circuit.py): one field per `StepField`, plus the comment."""

from decimal import Decimal, InvalidOperation

from django import forms
from django.core.exceptions import ValidationError
from dsfr.forms import DsfrBaseForm

from cil import uploads
from conventions import circuit
from conventions.services_orientations import (
    BODY_MAX,
    COMMENT_MAX,
    MAX_ATTACHMENT_BYTES,
    START_EMPTY,
    START_IN_FORCE,
    START_OUTLINE,
    check_pdf,
)

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _percent(value: str) -> Decimal | None:
    """'25', '25 %', '12,5' → 0.25, 0.25, 0.125; empty → None."""
    text = str(value or "").replace(",", ".").replace("%", "").strip()
    if not text:
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise ValidationError("Pourcentage attendu, par exemple 25.") from None
    if not number.is_finite() or not 0 <= number <= 100:
        raise ValidationError("Pourcentage entre 0 et 100 attendu.")
    return (number / 100).quantize(Decimal("0.0001"))


def percent_text(value: Decimal | None) -> str:
    return "" if value is None else f"{value * 100:g}".replace(".", ",")


class DocumentCreateForm(DsfrBaseForm):
    title = forms.CharField(label="Intitulé", max_length=255)
    start_from = forms.ChoiceField(
        label="Point de départ",
        widget=forms.RadioSelect,
        initial=START_OUTLINE,
    )

    def __init__(self, *args, in_force=None, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [
            (START_OUTLINE, "Le plan de l'article L.441-1-5 du CCH (sections à rédiger)"),
            (START_EMPTY, "Un document vide"),
        ]
        if in_force is not None:
            choices.insert(
                0, (START_IN_FORCE, f"Le texte du document en vigueur « {in_force.title} »")
            )
            self.fields["start_from"].initial = START_IN_FORCE
        self.fields["start_from"].choices = choices


class SectionForm(DsfrBaseForm):
    title = forms.CharField(label="Titre de la section", max_length=255)
    body = forms.CharField(
        label="Texte",
        required=False,
        max_length=BODY_MAX,
        widget=forms.Textarea(attrs={"rows": 16}),
        help_text="Mise en forme Markdown : **gras**, *italique*, listes (- ou 1.), titres (#), liens [texte](https://…), tableaux.",
    )
    objective_r1 = forms.CharField(
        label="Objectif R1 — attributions hors QPV aux ménages du 1er quartile ou relogés (%)",
        required=False,
        help_text="Facultatif. Taux légal : 25 % (article L.441-1 du CCH).",
    )
    objective_r2 = forms.CharField(
        label="Objectif R2 — attributions en QPV aux ménages hors 1er quartile (%)",
        required=False,
        help_text="Facultatif. Taux légal : 50 %, que les orientations peuvent adapter.",
    )
    objective_r3 = forms.CharField(
        label="Objectif R3 — attributions aux ménages DALO ou prioritaires (%)",
        required=False,
        help_text="Facultatif. Taux légal : 25 %.",
    )
    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    @staticmethod
    def initial_from(section, version_number: int) -> dict:
        initial = {"base_version": version_number}
        if section is not None:
            initial |= {
                "title": section.title,
                "body": section.body,
                "objective_r1": percent_text(section.objective_r1),
                "objective_r2": percent_text(section.objective_r2),
                "objective_r3": percent_text(section.objective_r3),
            }
        return initial

    def clean_objective_r1(self):
        return _percent(self.cleaned_data["objective_r1"])

    def clean_objective_r2(self):
        return _percent(self.cleaned_data["objective_r2"])

    def clean_objective_r3(self):
        return _percent(self.cleaned_data["objective_r3"])


class ReorderForm(DsfrBaseForm):
    """One position per section; the sections are then sorted by position (ties keep the
    current order)."""

    base_version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)

    def __init__(self, *args, sections, **kwargs):
        super().__init__(*args, **kwargs)
        self.sections = sections
        for position, section in enumerate(sections, start=1):
            self.fields[self.field_name(section)] = forms.IntegerField(
                label=section.title,
                min_value=1,
                max_value=max(len(sections), 1),
                initial=position,
            )

    @staticmethod
    def field_name(section) -> str:
        return f"position_{section.key.hex}"

    def ordered_keys(self) -> list:
        positions = [
            (self.cleaned_data[self.field_name(section)], index, section.key)
            for index, section in enumerate(self.sections)
        ]
        return [key for _position, _index, key in sorted(positions)]


class CommentForm(DsfrBaseForm):
    body = forms.CharField(
        label="Votre commentaire",
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Visible par tous les membres de la conférence, avec votre nom et votre organisation.",
    )


class StepForm(DsfrBaseForm):
    """Base of the forms built by `step_form_class`."""

    step: circuit.Transition

    def data_for_service(self) -> dict:
        return {
            spec.name: self.cleaned_data.get(spec.name)
            for spec in self.step.fields
            if spec.kind != circuit.PDF
        }

    def attachment(self):
        for spec in self.step.fields:
            if spec.kind == circuit.PDF:
                return self.cleaned_data.get(spec.name)
        return None


def _field_for(spec: circuit.StepField) -> forms.Field:
    common = {"label": spec.label, "required": spec.required, "help_text": spec.help_text}
    if spec.kind == circuit.DATE:
        return forms.DateField(widget=DATE_INPUT, **common)
    if spec.kind == circuit.COUNT:
        return forms.IntegerField(min_value=0, max_value=100_000, **common)
    if spec.kind == circuit.PDF:
        return forms.FileField(
            widget=forms.ClearableFileInput(attrs={"accept": "application/pdf,.pdf"}),
            validators=[_pdf_validator],
            **common,
        )
    return forms.CharField(max_length=255, **common)


def _pdf_validator(upload) -> None:
    try:
        check_pdf(upload)
    except ValidationError as error:
        if upload.size > MAX_ATTACHMENT_BYTES or uploads.extension_of(upload.name) != "pdf":
            raise
        # The content is the problem: say what it is (cil/uploads.py).
        head = uploads.head_of(upload)
        raise ValidationError(
            [*error.messages, f"Son contenu : {uploads.describe(head)}."]
        ) from None


def step_form_class(step: circuit.Transition) -> type[StepForm]:
    fields: dict[str, forms.Field] = {spec.name: _field_for(spec) for spec in step.fields}
    fields["comment"] = forms.CharField(
        label=step.comment_label,
        required=step.comment_required,
        max_length=COMMENT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    fields["base_version"] = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    # The forms' metaclass collects the declared fields, as for a class statement.
    metaclass = type(StepForm)
    name = f"{step.name.title().replace('_', '')}Form"
    return metaclass(name, (StepForm,), {**fields, "step": step, "__module__": __name__})
