from django import forms
from django.conf import settings
from dsfr.forms import DsfrBaseForm

from attributions.importing.reading import FileRefused, kind_of


def max_size_label() -> str:
    return f"{settings.CIL_IMPORT_MAX_BYTES / (1024 * 1024):.0f} Mo"


class ImportUploadForm(DsfrBaseForm):
    file = forms.FileField(
        label="Fichier des attributions",
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx", "class": "fr-upload"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > settings.CIL_IMPORT_MAX_BYTES:
            raise forms.ValidationError(
                f"Le fichier dépasse la taille maximale ({max_size_label()})."
            )
        try:
            kind_of(upload.name)
        except FileRefused as refused:
            raise forms.ValidationError(refused.problems) from None
        return upload
