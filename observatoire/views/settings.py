"""The observatory's settings: the délai anormalement long (the préfet's, by arrêté), entered
by the secretariat or the prefecture."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from cil.views.decorators import requires
from cil.views.forms import apply_service_errors
from observatoire import selectors
from observatoire.forms import SettingsForm
from observatoire.services_settings import observatoire_settings_set


@require_http_methods(["GET", "POST"])
@requires("observatoire.settings")
def observatoire_settings(request):
    existing = selectors.observatoire_settings()
    initial = (
        {
            "delai_anormalement_long_mois": existing.delai_anormalement_long_mois,
            "delai_source": existing.delai_source,
        }
        if existing
        else {}
    )
    form = SettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            observatoire_settings_set(
                conference=request.conference, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Les paramètres de l'observatoire sont enregistrés.")
            return redirect("observatoire_home", conference_slug=request.conference.slug)
    home = reverse("observatoire_home", kwargs={"conference_slug": request.conference.slug})
    return TemplateResponse(
        request,
        "observatoire/analysis/settings_form.html",
        {"form": form, "existing": existing, "breadcrumb_links": [(home, "Observatoire")]},
    )
