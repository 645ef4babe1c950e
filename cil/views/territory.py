import json

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET, require_http_methods

from cil import selectors
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
        if upload.size > settings.CIL_TERRITORY_MAX_BYTES:
            errors = [
                (
                    "$",
                    f"Le fichier dépasse la taille maximale ({settings.CIL_TERRITORY_MAX_BYTES // 1024} Ko).",
                )
            ]
        else:
            try:
                data = json.loads(upload.read().decode("utf-8-sig"))
            except (UnicodeDecodeError, json.JSONDecodeError) as error:
                errors = [("$", f"Le fichier n'est pas un JSON valide en UTF-8 ({error}).")]
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
