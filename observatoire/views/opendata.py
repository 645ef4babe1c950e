"""Open data: the secretariat's page (choose what to publish, preview exactly what will be
public) and the public pages and files, readable by anyone without an account.

The public views are marked `public_conference_view`: the tenancy middleware resolves the
conference (404 when it does not exist) and opens its scope without asking for a
membership. They read only the catalogue's published tables, under statistical secrecy.
"""

import hashlib
import json

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.cache import get_conditional_response, patch_cache_control
from django.views.decorators.http import require_GET, require_POST, require_safe

from cil import cache as tolerant_cache
from cil.tenancy import public_conference_view
from cil.views.decorators import requires
from observatoire.opendata import catalogue, rendering, selectors, services
from observatoire.opendata.data import YearData

# Public files: cached one hour by browsers and shared caches.
FILE_MAX_AGE = 3600
# A published table is computed at most once per this many seconds (anyone may ask for it,
# and a big territory's table takes a fraction of a second): the public files follow the
# data with this delay; the secretariat's preview is always computed afresh.
TABLE_CACHE_SECONDS = 600
PAGE_MAX_AGE = 300
FORMATS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _years_by_dataset(conference) -> dict[str, list[int]]:
    """Each dataset's years with data; a years function shared by several datasets runs
    once."""
    found: dict = {}
    for dataset in catalogue.DATASETS:
        if dataset.years not in found:
            found[dataset.years] = dataset.years(conference)
    return {dataset.key: found[dataset.years] for dataset in catalogue.DATASETS}


def _status(conference) -> list[dict]:
    years = _years_by_dataset(conference)
    rows = []
    for dataset in catalogue.DATASETS:
        published = selectors.published_years(dataset.key)
        rows.append(
            {
                "dataset": dataset,
                "years": [
                    {"year": year, "published_at": published.get(year), "has_data": True}
                    for year in years[dataset.key]
                ]
                + [
                    # Published, but the data of that year are gone since: withdraw it.
                    {"year": year, "published_at": at, "has_data": False}
                    for year, at in sorted(published.items(), reverse=True)
                    if year not in years[dataset.key]
                ],
            }
        )
    return rows


# --- The secretariat -------------------------------------------------------------------------


@require_GET
@requires("opendata.manage")
def opendata_manage(request):
    conference = request.conference
    return TemplateResponse(
        request,
        "observatoire/opendata/manage.html",
        {
            "datasets": _status(conference),
            "public_url": reverse("opendata_public", kwargs={"conference_slug": conference.slug}),
            "threshold": settings.CIL_SECRECY_THRESHOLD,
        },
    )


@require_GET
@requires("opendata.manage")
def opendata_preview(request, dataset: str, year: int):
    conference = request.conference
    chosen = selectors.access_dataset(dataset)
    if year not in chosen.years(conference):
        raise Http404("Aucune donnée pour cette année.")
    lines = chosen.build(YearData(conference, year))
    published_at = selectors.published_years(chosen.key).get(year)
    manage = reverse("opendata_manage", kwargs={"conference_slug": conference.slug})
    return TemplateResponse(
        request,
        "observatoire/opendata/preview.html",
        {
            "dataset": chosen,
            "year": year,
            "rows": rendering.preview_rows(chosen, lines),
            "secret_cells": sum(len(line.secret) for line in lines),
            "published_at": published_at,
            "threshold": settings.CIL_SECRECY_THRESHOLD,
            "breadcrumb_links": [(manage, "Données ouvertes")],
        },
    )


def _change(request, dataset: str, year: int, service, success: str):
    try:
        service(conference=request.conference, actor=request.user, dataset=dataset, year=year)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        chosen = catalogue.get(dataset)
        messages.success(request, success.format(title=chosen.title, year=year))
    return redirect("opendata_manage", conference_slug=request.conference.slug)


@require_POST
@requires("opendata.manage")
def opendata_publish(request, dataset: str, year: int):
    selectors.access_dataset(dataset)
    return _change(
        request,
        dataset,
        year,
        services.publication_publish,
        "« {title} » {year} est publié en données ouvertes.",
    )


@require_POST
@requires("opendata.manage")
def opendata_withdraw(request, dataset: str, year: int):
    selectors.access_dataset(dataset)
    return _change(
        request,
        dataset,
        year,
        services.publication_withdraw,
        "« {title} » {year} est retiré des données ouvertes.",
    )


# --- Public ----------------------------------------------------------------------------------


def _public_file(request, content: str, content_type: str, filename: str) -> HttpResponse:
    body = content.encode("utf-8")
    etag = f'"{hashlib.sha256(body).hexdigest()[:32]}"'
    response = HttpResponse(body, content_type=content_type)
    response["ETag"] = etag
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    # Open data: any site may read it from a browser.
    response["Access-Control-Allow-Origin"] = "*"
    patch_cache_control(response, public=True, max_age=FILE_MAX_AGE)
    return get_conditional_response(request, etag=etag, response=response) or response


def _format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise Http404("Format inconnu.")
    return FORMATS[fmt]


@public_conference_view
@require_safe
def opendata_public(request, conference_slug: str):
    conference = request.conference
    response = TemplateResponse(
        request,
        "observatoire/opendata/public.html",
        {
            "published": selectors.published(),
            "licence": rendering.LICENCE,
            "threshold": settings.CIL_SECRECY_THRESHOLD,
            "catalogue_url": reverse(
                "opendata_catalogue", kwargs={"conference_slug": conference.slug}
            ),
        },
    )
    patch_cache_control(response, max_age=PAGE_MAX_AGE)
    return response


@public_conference_view
@require_safe
def opendata_catalogue(request, conference_slug: str):
    """The published datasets as JSON, for harvesters: titles, years, file URLs."""
    conference = request.conference

    def url(name: str, **kwargs) -> str:
        return request.build_absolute_uri(
            reverse(name, kwargs={"conference_slug": conference.slug, **kwargs})
        )

    document = {
        "conference": conference.slug,
        "producteur": conference.name,
        "licence": rendering.LICENCE,
        "jeux": [
            {
                "dataset": item.dataset.key,
                "titre": item.dataset.title,
                "description": item.dataset.description,
                "mise_a_jour": item.updated_at.isoformat(),
                "dictionnaire": {
                    fmt: url("opendata_dictionary", dataset=item.dataset.key, fmt=fmt)
                    for fmt in FORMATS
                },
                "annees": [
                    {
                        "annee": year,
                        "publie_le": published_at.isoformat(),
                        **{
                            fmt: url("opendata_file", dataset=item.dataset.key, year=year, fmt=fmt)
                            for fmt in FORMATS
                        },
                    }
                    for year, published_at in item.years
                ],
            }
            for item in selectors.published()
        ],
    }
    return _public_file(
        request,
        json.dumps(document, ensure_ascii=False, indent=1),
        FORMATS["json"],
        f"donnees-ouvertes-{conference.slug}.json",
    )


@public_conference_view
@require_safe
def opendata_file(request, conference_slug: str, dataset: str, year: int, fmt: str):
    content_type = _format(fmt)
    conference = request.conference
    chosen = selectors.access_published(key=dataset, year=year)
    published_at = selectors.published_years(chosen.key)[year]
    key = f"opendata:{conference.pk}:{chosen.key}:{year}:{published_at.timestamp()}"
    lines = tolerant_cache.get_or_compute(
        key, lambda: chosen.build(YearData(conference, year)), TABLE_CACHE_SECONDS
    )
    filename = f"{chosen.key}-{conference.slug}-{year}.{fmt}"
    if fmt == "csv":
        return _public_file(request, rendering.table_csv(chosen, lines), content_type, filename)
    document = rendering.json_document(
        chosen,
        conference=conference,
        year=year,
        lines=lines,
        published_at=published_at,
        threshold=settings.CIL_SECRECY_THRESHOLD,
    )
    return _public_file(
        request, json.dumps(document, ensure_ascii=False, indent=1), content_type, filename
    )


@public_conference_view
@require_safe
def opendata_dictionary(request, conference_slug: str, dataset: str, fmt: str):
    content_type = _format(fmt)
    chosen = selectors.access_published(key=dataset)
    filename = f"{chosen.key}-dictionnaire.{fmt}"
    if fmt == "csv":
        return _public_file(request, rendering.dictionary_csv(chosen), content_type, filename)
    document = {
        "dataset": chosen.key,
        "titre": chosen.title,
        "annee_signification": chosen.year_label,
        "dictionnaire": rendering.dictionary(chosen),
    }
    return _public_file(
        request, json.dumps(document, ensure_ascii=False, indent=1), content_type, filename
    )


# Under /<conference_slug>/observatoire/ (observatoire/urls.py).
urlpatterns = [
    path("donnees-ouvertes/", opendata_manage, name="opendata_manage"),
    path("donnees-ouvertes/<slug:dataset>/<int:year>/", opendata_preview, name="opendata_preview"),
    path(
        "donnees-ouvertes/<slug:dataset>/<int:year>/publier/",
        opendata_publish,
        name="opendata_publish",
    ),
    path(
        "donnees-ouvertes/<slug:dataset>/<int:year>/retirer/",
        opendata_withdraw,
        name="opendata_withdraw",
    ),
]

# Under /<conference_slug>/donnees-ouvertes/ (cil/urls.py): public.
public_urlpatterns = [
    path("", opendata_public, name="opendata_public"),
    path("catalogue.json", opendata_catalogue, name="opendata_catalogue"),
    path("<slug:dataset>/dictionnaire.<str:fmt>", opendata_dictionary, name="opendata_dictionary"),
    path("<slug:dataset>/<int:year>.<str:fmt>", opendata_file, name="opendata_file"),
]
