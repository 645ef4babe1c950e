"""The CIA (convention intercommunale d'attribution, CCH L.441-1-6): its page, the
secretariat's edits (text, objectives, signatories), the status machine, the designation of
signers, the signature, and the bailleurs' explanations of their gaps.

Every view reads `selectors_cia.abilities()`: a member whose roles lack the view's
permission gets 403 (the decorator), an action the abilities refuse gets 403 too, another
conference's object 404 (the lookups run inside the conference scope)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from attributions import bilan_cache
from attributions import selectors as attribution_selectors
from attributions.dashboards import RULES
from attributions.indicators.bilan import gap
from attributions.indicators.secrecy import mask_indicator
from cil.models import Commune, Qpv
from cil.permissions import has_permission
from cil.views.decorators import requires
from cil.views.forms import apply_service_errors
from conventions import selectors_cia as selectors
from conventions import services_cia as services
from conventions import signing
from conventions.forms_cia import (
    AvenantForm,
    ConventionCreateForm,
    DesignateForm,
    ExplanationForm,
    ObjectiveGridForm,
    PerimeterForm,
    ReservataireGridForm,
    SignatoriesForm,
    SignForm,
    VersionForm,
)
from conventions.models import ConventionVersion

RULE_KEYS = {"r1": "r1_q1_hors_qpv", "r2": "r2_hors_q1_en_qpv", "r3": "r3_prioritaires_non_reserve"}


def _abilities(request, convention, version):
    return selectors.abilities(
        user=request.user, roles=request.roles, convention=convention, version=version
    )


def _version_of(version_id):
    version = selectors.access_version(version_id=version_id)
    return version.convention, version


def _detail_url(request, convention, version: ConventionVersion | None = None) -> str:
    url = reverse(
        "cia_detail",
        kwargs={"conference_slug": request.conference.slug, "convention_id": convention.public_id},
    )
    return f"{url}?version={version.public_id}" if version is not None else url


def _signing_context(request, version_id):
    """The version, its signatories and what the user may do on it (designate, sign)."""
    convention, version = _version_of(version_id)
    signatories = selectors.signatories_of(version)
    abilities = selectors.abilities(
        user=request.user,
        roles=request.roles,
        convention=convention,
        version=version,
        signatories=signatories,
    )
    return version, signatories, abilities


def _detail(request, version: ConventionVersion):
    return redirect(_detail_url(request, version.convention, version))


def _links(request, convention=None, version=None) -> list[tuple[str, str]]:
    """The breadcrumb above the page: the list, then the convention."""
    links = [
        (
            reverse("cia_list", kwargs={"conference_slug": request.conference.slug}),
            "Conventions d'attribution",
        )
    ]
    if convention is not None:
        links.append((_detail_url(request, convention, version), convention.title))
    return links


def _page(request, version, **context):
    """The context of a form page about a version."""
    return {
        "version": version,
        "convention": version.convention,
        "links": _links(request, version.convention, version),
        "cancel_url": _detail_url(request, version.convention, version),
        **context,
    }


# --- List, creation, page ----------------------------------------------------------------


@require_GET
@requires("cia.view")
def cia_list(request):
    conventions = list(selectors.conventions().prefetch_related("versions"))
    rows = [
        {"convention": c, "current": max(c.versions.all(), key=lambda v: v.number, default=None)}
        for c in conventions
    ]
    return TemplateResponse(
        request,
        "conventions/cia/list.html",
        {"rows": rows, "abilities": _abilities(request, None, None)},
    )


@require_http_methods(["GET", "POST"])
@requires("cia.edit")
def cia_create(request):
    form = ConventionCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            convention = services.convention_create(
                conference=request.conference, actor=request.user, **form.cleaned_data
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                "La convention est créée ; ses signataires ont été pré-remplis à partir des membres.",
            )
            return redirect(_detail_url(request, convention))
    return TemplateResponse(
        request,
        "conventions/cia/form.html",
        {
            "form": form,
            "title": "Nouvelle convention intercommunale d'attribution",
            "intro": "La convention fixe, pour chaque bailleur, des objectifs annuels d'attribution (article L.441-1-6 du CCH). Ses signataires sont pré-remplis à partir des membres : l'EPCI, l'État, chaque bailleur et chaque réservataire.",
            "links": _links(request),
            "cancel_url": reverse("cia_list", kwargs={"conference_slug": request.conference.slug}),
        },
    )


def _year_param(request, years: list[int]) -> int | None:
    try:
        year = int(request.GET.get("annee", ""))
    except ValueError:
        return years[-1] if years else None
    if year not in years:
        raise Http404("Année hors de la convention.")
    return year


def _gaps(request, convention, year: int | None, explanations_by_key) -> dict | None:
    """The year's gaps per bailleur and rule, with the bailleurs' explanations. Roles that
    see aggregates only get the figures under statistical secrecy (a bailleur sees its own
    figures in full)."""
    if year is None:
        return None
    document = bilan_cache.get_bilan(request.conference, year)
    if document is None:
        return {"year": year, "pending": True, "rows": []}
    detail = has_permission(request.roles, "bilan.view_detail")
    own = request.user.organisation.siren if request.user.organisation else None
    rows = []
    for entry in document["par_bailleur"]:
        full = detail or (has_permission(request.roles, "bilan.view_own") and entry["siren"] == own)
        rules = []
        for rule, key in RULE_KEYS.items():
            item = entry[key]
            measured = gap(item)
            shown = item if full else mask_indicator(item, threshold=settings.CIL_SECRECY_THRESHOLD)
            secret = bool(shown.get("secret"))
            rules.append(
                {
                    "rule": rule,
                    "code": RULES[key][0],
                    "label": RULES[key][1],
                    "taux": shown["taux"],
                    "numerateur": shown["numerateur"],
                    "denominateur": shown["denominateur"],
                    "cible": item["cible"],
                    "points": None if secret else measured["points"],
                    "manquantes": None if secret else measured["manquantes"],
                    "secret": secret,
                    "explanation": explanations_by_key.get((entry["siren"], rule)),
                    "may_explain": entry["siren"] == own,
                }
            )
        rows.append({"siren": entry["siren"], "nom": entry["nom"], "rules": rules})
    return {"year": year, "pending": False, "rows": rows}


@require_GET
@requires("cia.view")
def cia_detail(request, convention_id):
    convention = selectors.access_convention(convention_id=convention_id)
    versions = selectors.versions_of(convention)
    version = versions[-1] if versions else None
    if "version" in request.GET:
        version = next((v for v in versions if str(v.public_id) == request.GET["version"]), None)
        if version is None:
            raise Http404("Version introuvable.")
    signatories = selectors.signatories_of(version) if version else []
    abilities = selectors.abilities(
        user=request.user,
        roles=request.roles,
        convention=convention,
        version=version,
        signatories=signatories,
    )
    in_force = selectors.in_force_by_year(convention)
    reported = set(attribution_selectors.attribution_years())
    gap_years = [y for y in convention.years if y in reported]
    year = _year_param(request, gap_years)
    explanations = selectors.explanations_of(convention, year) if year else {}
    tables = signing.objectives_tables(version) if version else None
    return TemplateResponse(
        request,
        "conventions/cia/detail.html",
        {
            "convention": convention,
            "versions": [
                {
                    "version": v,
                    "years": [y for y, w in in_force.items() if w is not None and w.pk == v.pk],
                }
                for v in versions
            ],
            "version": version,
            "signatories": signatories,
            "abilities": abilities,
            "history": selectors.history_of(version) if version else [],
            "tables": tables,
            "territorial_count": len(tables["territorial"]) if tables else 0,
            "in_force": in_force,
            "gap_years": gap_years,
            "gaps": _gaps(request, convention, year, explanations),
            "sha256_grouped": signing.grouped(version.canonical_sha256) if version else "",
            "secrecy_threshold": settings.CIL_SECRECY_THRESHOLD,
        },
    )


# --- The secretariat's edits of a draft --------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires("cia.edit")
def cia_version_edit(request, version_id):
    convention, version = _version_of(version_id)
    if not _abilities(request, convention, version).edit_content:
        raise PermissionDenied
    form = VersionForm(
        request.POST or None,
        initial={f: getattr(version, f) for f in services.VERSION_FIELDS},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.version_update(
                conference=request.conference,
                actor=request.user,
                version=version,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "Le texte de la version est enregistré.")
            return _detail(request, version)
    return TemplateResponse(
        request,
        "conventions/cia/form.html",
        _page(
            request,
            version,
            form=form,
            title=f"Modifier {version.title}",
            intro="Le texte reste modifiable tant que la version n'est pas mise en signature.",
        ),
    )


@require_http_methods(["GET", "POST"])
@requires("cia.edit")
def cia_objectives_edit(request, version_id):
    convention, version = _version_of(version_id)
    if not _abilities(request, convention, version).edit_content:
        raise PermissionDenied
    perimeter = PerimeterForm(
        request.GET or None,
        communes=list(Commune.objects.order_by("insee")),
        qpvs=list(Qpv.objects.order_by("code")),
    )
    commune, qpv = perimeter.place()
    form = ObjectiveGridForm(
        request.POST or None,
        bailleurs=selectors.bailleur_signatories(version),
        years=convention.years,
        existing=selectors.bailleur_objectives(version, commune=commune, qpv=qpv),
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.bailleur_objectives_save(
                conference=request.conference,
                actor=request.user,
                version=version,
                values=form.values(),
                commune=commune,
                qpv=qpv,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Objectifs enregistrés ({changed} modification(s)).")
            return _detail(request, version)
    return TemplateResponse(
        request,
        "conventions/cia/objectives_form.html",
        _page(
            request,
            version,
            form=form,
            perimeter=perimeter,
            place=commune or qpv,
            years=convention.years,
            title="Objectifs des bailleurs",
        ),
    )


@require_http_methods(["GET", "POST"])
@requires("cia.edit")
def cia_reservataire_objectives_edit(request, version_id):
    convention, version = _version_of(version_id)
    if not _abilities(request, convention, version).edit_content:
        raise PermissionDenied
    form = ReservataireGridForm(
        request.POST or None,
        reservataires=selectors.reservataire_signatories(version),
        years=convention.years,
        existing=selectors.reservataire_objectives(version),
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.reservataire_objectives_save(
                conference=request.conference,
                actor=request.user,
                version=version,
                values=form.values(),
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, f"Objectifs enregistrés ({changed} modification(s)).")
            return _detail(request, version)
    return TemplateResponse(
        request,
        "conventions/cia/reservataire_objectives_form.html",
        _page(
            request,
            version,
            form=form,
            years=convention.years,
            title="Contribution des réservataires (R3)",
        ),
    )


@require_http_methods(["GET", "POST"])
@requires("cia.edit")
def cia_signatories_edit(request, version_id):
    convention, version = _version_of(version_id)
    if not _abilities(request, convention, version).edit_content:
        raise PermissionDenied
    current = selectors.signatories_of(version)
    form = SignatoriesForm(
        request.POST or None,
        candidates=selectors.signatory_candidates(),
        initial={"organisations": [str(s.organisation.public_id) for s in current]},
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.signatories_set(
                conference=request.conference,
                actor=request.user,
                version=version,
                organisations=form.cleaned_data["organisations"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(request, "La liste des signataires est enregistrée.")
            return _detail(request, version)
    return TemplateResponse(
        request,
        "conventions/cia/signatories_form.html",
        _page(request, version, form=form, title="Signataires de la convention"),
    )


@require_http_methods(["GET", "POST"])
@requires("cia.edit")
def cia_avenant_create(request, convention_id):
    convention = selectors.access_convention(convention_id=convention_id)
    if not _abilities(request, convention, None).create_avenant:
        raise PermissionDenied
    form = AvenantForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.avenant_create(
                conference=request.conference,
                actor=request.user,
                convention=convention,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                "L'avenant est créé en brouillon, à partir de la version signée : modifiez ses objectifs puis mettez-le en signature.",
            )
            return _detail(request, version)
    return TemplateResponse(
        request,
        "conventions/cia/form.html",
        {
            "form": form,
            "title": f"Nouvel avenant — {convention.title}",
            "intro": "L'avenant reprend le texte et les objectifs de la dernière version signée ; vous les modifierez ensuite, avant de le mettre en signature. La version signée et ses signatures restent inchangées.",
            "links": _links(request, convention),
            "cancel_url": _detail_url(request, convention),
        },
    )


# --- The status machine ------------------------------------------------------------------


@require_POST
@requires("cia.edit")
def cia_submit(request, version_id):
    convention, version = _version_of(version_id)
    if not _abilities(request, convention, version).submit:
        raise PermissionDenied
    try:
        services.version_submit(conference=request.conference, actor=request.user, version=version)
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            "La version est en signature : son contenu est figé. Chaque organisation signataire désigne maintenant son signataire.",
        )
    return _detail(request, version)


@require_POST
@requires("cia.edit")
def cia_enter_into_force(request, version_id):
    convention, version = _version_of(version_id)
    if not _abilities(request, convention, version).enter_into_force:
        raise PermissionDenied
    try:
        services.version_enter_into_force(
            conference=request.conference, actor=request.user, version=version
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.success(request, "La version est en vigueur.")
    return _detail(request, version)


# --- Designation and signature -----------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires("cia.designate_signer")
def cia_designate(request, version_id):
    version, signatories, abilities = _signing_context(request, version_id)
    if not abilities.designate:
        raise PermissionDenied
    allowed = [s for s in signatories if s.pk in abilities.designate_for]
    form = DesignateForm(
        request.POST or None,
        signatories=allowed,
        people={
            s.organisation_id: selectors.users_who_may_sign(organisation=s.organisation)
            for s in allowed
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.signer_designate(
                conference=request.conference,
                actor=request.user,
                signatory=form.cleaned_data["signatory"],
                signer=form.cleaned_data["signer"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                f"{form.cleaned_data['signer']} est désigné·e pour signer au nom de {form.cleaned_data['signatory'].organisation.name}.",
            )
            return _detail(request, version)
    return TemplateResponse(
        request,
        "conventions/cia/designate_form.html",
        _page(request, version, form=form, signatories=allowed, title="Désigner un signataire"),
    )


@never_cache
@require_http_methods(["GET", "POST"])
@requires("cia.sign")
def cia_sign(request, version_id):
    version, signatories, abilities = _signing_context(request, version_id)
    if not abilities.sign:
        raise PermissionDenied
    signatory = next(s for s in signatories if s.pk == abilities.sign_as)
    form = SignForm(request.POST or None, initial={"sha256": version.canonical_sha256})
    if request.method == "POST" and form.is_valid():
        try:
            services.version_sign(
                conference=request.conference,
                actor=request.user,
                version=version,
                password=form.cleaned_data["password"],
                confirmed_sha256=form.cleaned_data["sha256"],
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request, f"Vous avez signé la version au nom de {signatory.organisation.name}."
            )
            return _detail(request, version)
    return TemplateResponse(
        request,
        "conventions/cia/sign_form.html",
        _page(
            request,
            version,
            form=form,
            signatory=signatory,
            sha256_grouped=signing.grouped(version.canonical_sha256),
            title="Signer la convention",
        ),
    )


@require_GET
@requires("cia.view")
def cia_version_document(request, version_id):
    """The exact bytes the signatories sign (the version's canonical PDF)."""
    _convention, version = _version_of(version_id)
    if not version.canonical_file:
        raise Http404("Cette version n'est pas encore en signature.")
    return FileResponse(
        version.canonical_file.open("rb"),
        as_attachment=True,
        filename=f"cia-version-{version.number}-{version.canonical_sha256[:12]}.pdf",
        content_type="application/pdf",
    )


# --- Gap explanations --------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@requires("cia.explain_gap")
def cia_explanation_edit(request, convention_id, year: int, rule: str):
    convention = selectors.access_convention(convention_id=convention_id)
    if year not in convention.years or rule not in RULE_KEYS:
        raise Http404
    if not _abilities(request, convention, None).explain_gap:
        raise PermissionDenied
    bailleur = request.user.organisation
    existing = selectors.explanation_of(
        convention=convention, bailleur=bailleur, year=year, rule=rule
    )
    form = ExplanationForm(
        request.POST or None,
        initial={"category": existing.category, "text": existing.text} if existing else None,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.gap_explanation_save(
                conference=request.conference,
                actor=request.user,
                convention=convention,
                year=year,
                rule=rule,
                **form.cleaned_data,
            )
        except ValidationError as error:
            apply_service_errors(form, error)
        else:
            messages.success(
                request,
                "Votre explication est enregistrée ; la conférence la voit à côté de vos chiffres.",
            )
            return redirect(_detail_url(request, convention) + f"?annee={year}#ecarts")
    return TemplateResponse(
        request,
        "conventions/cia/explanation_form.html",
        {
            "form": form,
            "convention": convention,
            "year": year,
            "rule_code": RULES[RULE_KEYS[rule]][0],
            "rule_label": RULES[RULE_KEYS[rule]][1],
            "title": f"Expliquer l'écart {RULES[RULE_KEYS[rule]][0]} {year}",
            "links": _links(request, convention),
            "cancel_url": _detail_url(request, convention) + f"?annee={year}#ecarts",
        },
    )


urlpatterns = [
    path("cia/", cia_list, name="cia_list"),
    path("cia/nouvelle/", cia_create, name="cia_create"),
    path("cia/<uuid:convention_id>/", cia_detail, name="cia_detail"),
    path("cia/<uuid:convention_id>/avenant/", cia_avenant_create, name="cia_avenant_create"),
    path(
        "cia/<uuid:convention_id>/ecarts/<int:year>/<str:rule>/",
        cia_explanation_edit,
        name="cia_explanation_edit",
    ),
    path("cia/versions/<uuid:version_id>/modifier/", cia_version_edit, name="cia_version_edit"),
    path(
        "cia/versions/<uuid:version_id>/objectifs/",
        cia_objectives_edit,
        name="cia_objectives_edit",
    ),
    path(
        "cia/versions/<uuid:version_id>/objectifs-reservataires/",
        cia_reservataire_objectives_edit,
        name="cia_reservataire_objectives_edit",
    ),
    path(
        "cia/versions/<uuid:version_id>/signataires/",
        cia_signatories_edit,
        name="cia_signatories_edit",
    ),
    path("cia/versions/<uuid:version_id>/mise-en-signature/", cia_submit, name="cia_submit"),
    path(
        "cia/versions/<uuid:version_id>/entree-en-vigueur/",
        cia_enter_into_force,
        name="cia_enter_into_force",
    ),
    path("cia/versions/<uuid:version_id>/designation/", cia_designate, name="cia_designate"),
    path("cia/versions/<uuid:version_id>/signature/", cia_sign, name="cia_sign"),
    path(
        "cia/versions/<uuid:version_id>/document.pdf",
        cia_version_document,
        name="cia_version_document",
    ),
]
