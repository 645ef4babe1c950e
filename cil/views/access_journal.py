"""The journal of reads of household-level data: the secretariat reads the conference's,
every other person their own; filterable, paginated, exportable (CSV, XLSX)."""

from django import forms
from django.conf import settings
from django.core.paginator import Paginator
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from dsfr.forms import DsfrBaseForm

from cil import access_journal
from cil.forms import DATE_INPUT
from cil.models import AccessChannel, Organisation
from cil.permissions import has_permission
from cil.views.decorators import requires

EXPORT_HEADER = [
    "Date (heure de Paris)",
    "Personne ou jeton",
    "Organisation",
    "Canal",
    "Données",
    "Lignes",
    "Description",
    "Identifiants des lignes",
    "Adresse IP",
]


class JournalFilterForm(DsfrBaseForm):
    person = forms.CharField(label="Personne (adresse)", required=False, max_length=255)
    organisation = forms.ChoiceField(label="Organisation", required=False)
    channel = forms.ChoiceField(
        label="Canal", required=False, choices=[("", "Tous"), *AccessChannel.choices]
    )
    object_type = forms.ChoiceField(
        label="Données",
        required=False,
        choices=[("", "Toutes"), *access_journal.OBJECT_TYPE_LABELS.items()],
    )
    start = forms.DateField(label="Du", required=False, widget=DATE_INPUT)
    end = forms.DateField(label="Au", required=False, widget=DATE_INPUT)

    def __init__(self, *args, organisations, see_all: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organisation"].choices = [("", "Toutes"), *organisations]
        if not see_all:
            # Someone reading their own reads has one name and one organisation.
            del self.fields["person"]
            del self.fields["organisation"]

    def clean_organisation(self):
        public_id = self.cleaned_data.get("organisation")
        if not public_id:
            return None
        return Organisation.objects.filter(public_id=public_id).first()


def _entries(request):
    see_all = has_permission(request.roles, "access_journal.view_all")
    form = JournalFilterForm(
        request.GET or None,
        organisations=access_journal.journal_organisations(user=request.user, see_all=see_all)
        if see_all
        else [],
        see_all=see_all,
    )
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    entries = access_journal.journal_entries(
        user=request.user, see_all=see_all, **{k: v for k, v in filters.items() if v}
    )
    return form, entries, see_all


@require_GET
@requires("access_journal.view")
def journal_page(request):
    form, entries, see_all = _entries(request)
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request,
        "cil/access_journal.html",
        {
            "form": form,
            "page": page,
            "query": query.urlencode(),
            "see_all": see_all,
            "type_labels": access_journal.OBJECT_TYPE_LABELS,
            "retention_days": settings.CIL_RETENTION_ACCESS_LOG_DAYS,
        },
    )


@require_GET
@requires("access_journal.view")
def journal_export(request, fmt: str):
    from attributions.exports import csv_response, xlsx_response

    if fmt not in ("csv", "xlsx"):
        raise Http404
    _form, entries, _see_all = _entries(request)
    labels = access_journal.OBJECT_TYPE_LABELS
    rows = (
        [
            timezone.localtime(e.created_at).strftime("%d/%m/%Y %H:%M:%S"),
            e.actor_label,
            e.organisation.name if e.organisation else "",
            e.get_channel_display(),
            labels.get(e.object_type, e.object_type),
            e.row_count,
            e.description,
            " ".join(e.object_ids),
            e.ip_address or "",
        ]
        for e in entries.iterator(chunk_size=2000)
    )
    name = f"journal-consultations-{request.conference.slug}-{timezone.localdate():%Y-%m-%d}"
    return (csv_response if fmt == "csv" else xlsx_response)(name, EXPORT_HEADER, rows)
