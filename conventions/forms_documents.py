"""Forms of the documents pipeline: the public verification upload, the bilan request."""

from django import forms
from django.conf import settings
from dsfr.forms import DsfrBaseForm

from cil import uploads

# A PDF's header must appear within its first 1024 bytes (ISO 32000-1 §7.5.2, as readers
# tolerate it); what the browser says the content type is does not count.
PDF_MAGIC = b"%PDF-"


def verification_max_label() -> str:
    return f"{settings.CIL_VERIFICATION_MAX_BYTES / (1024 * 1024):.0f} Mo"


class VerificationForm(DsfrBaseForm):
    file = forms.FileField(
        label="Document PDF à vérifier",
        widget=forms.FileInput(attrs={"accept": ".pdf,application/pdf", "class": "fr-upload"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        limit = settings.CIL_VERIFICATION_MAX_BYTES
        too_big = forms.ValidationError(
            f"Le fichier dépasse la taille maximale ({verification_max_label()})."
        )
        if upload.size > limit:
            raise too_big
        head = uploads.head_of(upload)  # what it is, before reading it whole
        if PDF_MAGIC not in head[:1024]:
            raise forms.ValidationError(
                [
                    "Le fichier n'est pas un document PDF.",
                    f"Son contenu : {uploads.describe(head)}.",
                ]
            )
        upload.seek(0)
        data = upload.read(limit + 1)  # bounded: the declared size is not trusted
        if len(data) > limit:
            raise too_big
        self.pdf_bytes = data
        return upload


class BilanPdfForm(DsfrBaseForm):
    year = forms.TypedChoiceField(
        label="Année",
        coerce=int,
        error_messages={
            "required": "Choisissez l'année du bilan.",
            "invalid_choice": "Aucune attribution n'est déclarée pour cette année : "
            "pas de bilan à produire.",
        },
    )

    def __init__(self, *args, years: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = [(y, str(y)) for y in years]
        if years:
            self.fields["year"].initial = years[0]
