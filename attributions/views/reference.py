"""Yearly reference data: the Q1 threshold register (the prefecture enters it from the
arrêté) and the rates of R1–R3 (the secretariat adapts them, with a reason)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.views.decorators.http import require_GET, require_http_methods

from attributions import selectors, services
from attributions.forms import RatesForm, ThresholdForm
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors


@require_GET
@requires("reference.view")
def reference_detail(request):
    return TemplateResponse(
        request,
        "attributions/reference_detail.html",
        {"years": selectors.yearly_reference(request.conference)},
    )


def _year_param(request) -> int | None:
    try:
        return int(request.GET.get("annee", ""))
    except ValueError:
        return None


@require_http_methods(["GET", "POST"])
@requires("threshold.manage")
def threshold_edit(request):
    year = _year_param(request)
    existing = selectors.threshold_of(year)
    initial = (
        {"year": year, "value": existing.value, "source": existing.source}
        if existing
        else {"year": year}
    )
    form = ThresholdForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.threshold_set(
                conference=request.conference, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                f"Le seuil {form.cleaned_data['year']} est enregistré ; le classement des attributions de l'année a été recalculé.",
            )
            return redirect("reference_detail", conference_slug=request.conference.slug)
    return TemplateResponse(
        request, "attributions/threshold_form.html", {"form": form, "existing": existing}
    )


@require_http_methods(["GET", "POST"])
@requires("rates.manage")
def rates_edit(request):
    year = _year_param(request)
    existing = selectors.rates_of(year)
    initial = {"year": year, "target_r1": "25", "target_r2": "50", "target_r3": "25"}
    if existing:
        initial.update(
            {f: f"{getattr(existing, f) * 100:g}" for f in ("target_r1", "target_r2", "target_r3")}
        )
    form = RatesForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.rates_set(
                conference=request.conference, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Les taux {form.cleaned_data['year']} sont enregistrés.")
            return redirect("reference_detail", conference_slug=request.conference.slug)
    return TemplateResponse(
        request, "attributions/rates_form.html", {"form": form, "existing": existing}
    )


urlpatterns = [
    path("referentiel/", reference_detail, name="reference_detail"),
    path("referentiel/seuil/", threshold_edit, name="threshold_edit"),
    path("referentiel/taux/", rates_edit, name="rates_edit"),
]
