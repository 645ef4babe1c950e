from django import forms
from django.conf import settings
from django.utils import timezone
from dsfr.forms import DsfrBaseForm

from cil.tabular import FileRefused, kind_of
from observatoire.models import ObservatoireImportKind

MIN_YEAR, MAX_YEAR = 2000, 2100
# The RPLS file of a département or a region is far bigger than an attributions file (one
# line per social dwelling, ~70 columns): its own limit.
RPLS_MAX_BYTES = getattr(settings, "CIL_OBSERVATOIRE_RPLS_MAX_BYTES", 500 * 1024 * 1024)


def max_bytes(kind: str) -> int:
    return RPLS_MAX_BYTES if kind == ObservatoireImportKind.RPLS else settings.CIL_IMPORT_MAX_BYTES


def size_label(size: int) -> str:
    return f"{size / (1024 * 1024):.0f} Mo"


class ObservatoireImportForm(DsfrBaseForm):
    kind = forms.ChoiceField(
        label="Type de fichier",
        choices=ObservatoireImportKind.choices,
        widget=forms.RadioSelect,
    )
    year = forms.IntegerField(
        label="Année",
        required=False,
        min_value=MIN_YEAR,
        max_value=MAX_YEAR,
        help_text="Millésime pour le RPLS (état au 1er janvier), année de la liste pour les QPV, "
        "année de l'extraction pour les demandes (facultative).",
    )
    file = forms.FileField(
        label="Fichier à importer",
        widget=forms.FileInput(attrs={"accept": ".csv,.xlsx", "class": "fr-upload"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].initial = timezone.localdate().year

    def clean(self):
        cleaned = super().clean()
        kind, year, upload = cleaned.get("kind"), cleaned.get("year"), cleaned.get("file")
        needs_year = kind in (ObservatoireImportKind.RPLS, ObservatoireImportKind.QPV)
        if needs_year and not year and "year" not in self.errors:
            self.add_error(
                "year",
                "Indiquez le millésime du fichier RPLS."
                if kind == ObservatoireImportKind.RPLS
                else "Indiquez l'année de cette liste des QPV.",
            )
        if kind and upload is not None:
            limit = max_bytes(kind)
            if upload.size > limit:
                self.add_error(
                    "file", f"Le fichier dépasse la taille maximale ({size_label(limit)})."
                )
        return cleaned

    def clean_file(self):
        upload = self.cleaned_data["file"]
        try:
            kind_of(upload.name)
        except FileRefused as refused:
            raise forms.ValidationError(refused.problems) from None
        return upload
