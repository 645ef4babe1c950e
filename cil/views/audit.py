from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from cil import selectors
from cil.forms import OBJECT_TYPE_LABELS, AuditFilterForm
from cil.models import AuditAction
from cil.views.decorators import requires


@require_GET
@requires("audit.view")
def audit_log(request):
    form = AuditFilterForm(
        request.GET or None,
        actions=AuditAction.choices,
        object_types=selectors.audit_object_types(),
    )
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    entries = selectors.audit_entries(**{k: v for k, v in filters.items() if v})
    page = Paginator(entries, 50).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return TemplateResponse(
        request,
        "cil/audit_log.html",
        {"form": form, "page": page, "query": query.urlencode(), "type_labels": OBJECT_TYPE_LABELS},
    )
