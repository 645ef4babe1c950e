from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from cil import selectors, uploads
from cil.forms import TerritoryUploadForm
from cil.territory import TerritoryError, load_territory
from cil.views.decorators import requires


@require_GET
@requires("conference.view")
def territory_detail(request):
    return TemplateResponse(request, "cil/territory_detail.html", selectors.territory())


@require_http_methods(["GET", "POST"])
@requires("territory.manage")
def territory_upload(request):
    form = TerritoryUploadForm(request.POST or None, request.FILES or None)
    errors = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            data = uploads.load_json(upload, limit=settings.CIL_TERRITORY_MAX_BYTES)
        except uploads.UploadRefused as refused:
            errors = [("$", problem) for problem in refused.problems]
        else:
            try:
                report = load_territory(
                    data, actor=request.user, expected_slug=request.conference.slug
                )
            except TerritoryError as error:
                errors = error.errors
            else:
                messages.success(request, f"Territoire chargé : {report.summary()}.")
                return redirect("territory_detail", conference_slug=request.conference.slug)
    return TemplateResponse(request, "cil/territory_upload.html", {"form": form, "errors": errors})
