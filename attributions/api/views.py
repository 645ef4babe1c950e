"""API v1: a bailleur's attributions (`attributions` v1 columns) and the bilan (`bilan` v1).

Every view runs inside the scope of the token's conference (TokenScopedView): the token's
conference is the tenant of the request, and a bailleur only ever reaches its own lines.
Writes go through the same services as the form and the import.
"""

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from attributions import bilan_cache, contract, services
from attributions.api import schema  # noqa: F401 - registers the security scheme
from attributions.api.base import AttributionPagination, TokenScopedView, erreurs
from attributions.api.permissions import BILAN_FULL_READERS, CanReadBilan, IsBailleur
from attributions.api.serializers import (
    AttributionRequestSerializer,
    AttributionSerializer,
    BilanSerializer,
    DetailSerializer,
    ErreursSerializer,
    StatutSerializer,
    attribution_document,
)
from attributions.models import ApiToken, Attribution
from cil.access_journal import journal_household_access
from cil.models import AccessChannel

YEARS = range(2000, 2101)  # the contract's range of lease dates
YEAR_SCHEMA = {"type": "integer", "minimum": YEARS[0], "maximum": YEARS[-1]}
BILAN_RETRY_AFTER = 30  # seconds: a bilan is computed in a few seconds by a worker


# --- Documentation helpers ------------------------------------------------------------


def _detail(description: str) -> OpenApiResponse:
    return OpenApiResponse(DetailSerializer, description=description)


UNAUTHORIZED = {401: _detail("Jeton absent, invalide ou révoqué.")}
THROTTLED = {429: _detail("Trop de requêtes avec ce jeton (voir l'en-tête Retry-After).")}
NOT_BAILLEUR = {403: _detail("Le jeton n'est pas celui d'un bailleur.")}
NOT_FOUND = {404: _detail("Aucune attribution de ce bailleur ne porte cette référence.")}
INVALID = {
    400: OpenApiResponse(
        ErreursSerializer,
        description="Attribution refusée : chaque erreur nomme le champ, la valeur et la raison.",
    )
}
UNSUPPORTED = {415: _detail("Le corps doit être envoyé en JSON (application/json).")}


def _retry_after(*codes: int) -> OpenApiParameter:
    return OpenApiParameter(
        "Retry-After",
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        response=list(codes),
        description="Secondes à attendre avant de réessayer.",
    )


REFERENCE = OpenApiParameter(
    "reference",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="Référence de l'attribution chez le bailleur (colonne `reference`).",
)


# --- Reads ----------------------------------------------------------------------------


def own_attributions(organisation):
    """The organisation's attributions in the active conference scope."""
    return Attribution.objects.filter(bailleur=organisation).select_related(
        "bailleur", "commune", "qpv"
    )


def access_own_attribution(*, organisation, reference: str) -> Attribution:
    """The organisation's attribution with this reference; 404 for "absent", "another
    bailleur's" and "another conference's" alike."""
    if _unstorable(reference) or len(reference) > 64:
        raise NotFound("Attribution introuvable.")
    attribution = own_attributions(organisation).filter(reference=reference).first()
    if attribution is None:
        raise NotFound("Attribution introuvable.")
    return attribution


# --- Writes ---------------------------------------------------------------------------

READ_ONLY_FIELDS = frozenset(
    {"annee", "en_qpv", "uc", "revenu_par_uc_calcule", "premier_quartile"}
)  # sent back by a client that PUTs what it GOT: ignored


def _unstorable(value: str) -> bool:
    """Text PostgreSQL cannot store: a NUL character or a lone surrogate."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def contract_row(body: Any) -> tuple[dict[str, Any], list[tuple[str | None, Any, str]]]:
    """The JSON body as a row of the contract, and the problems only JSON can have (not an
    object, unknown field, nested value, unstorable text). Values are checked by the
    contract itself, afterwards."""
    if not isinstance(body, dict):
        return {}, [(None, None, "Le corps de la requête doit être un objet JSON.")]
    row, problems = {}, []
    for name, value in body.items():
        if name in READ_ONLY_FIELDS:
            continue
        if name not in contract.COLUMNS_BY_NAME:
            problems.append(
                (
                    name,
                    None,
                    "Champ inconnu ; champs admis : "
                    + ", ".join(c.name for c in contract.COLUMNS)
                    + ".",
                )
            )
        elif isinstance(value, dict | list):
            problems.append((name, None, "Valeur simple attendue (texte, nombre ou booléen)."))
        elif isinstance(value, str) and _unstorable(value):
            problems.append((name, None, "Texte invalide (caractère nul ou mal encodé)."))
        else:
            row[name] = value
    return row, problems


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class AttributionWriteMixin:
    def save(self, row: dict[str, Any], attribution: Attribution | None = None) -> Attribution:
        # The token acts for one bailleur: its SIREN is the default, and the only one admitted
        # (derivation refuses another bailleur's SIREN, as for a bailleur user's import).
        if _blank(row.get("bailleur_siren")):
            row["bailleur_siren"] = self.organisation.siren
        return services.attribution_save(
            conference=self.token.conference,
            actor=None,
            raw=row,
            attribution=attribution,
            acting_bailleur_id=self.organisation.pk,
            actor_organisation=self.organisation,
            actor_label=_actor_label(self.token),
        )


def _actor_label(token: ApiToken) -> str:
    return f"API, jeton {token.prefix}… ({token.name})"[:255]


class JournaledReadMixin:
    """Reads of lines are journaled (domain.md §6); the actor is the token (organisation +
    token name). Writes are in the audit log already."""

    def journal(self, attributions: list[Attribution], description: str) -> None:
        journal_household_access(
            conference=self.token.conference,
            request=self.request,
            token=self.token,
            channel=AccessChannel.API,
            object_type="attributions.attribution",
            object_ids=[a.public_id for a in attributions],
            row_count=len(attributions),
            description=description,
        )


# --- Views ----------------------------------------------------------------------------


class AttributionListView(JournaledReadMixin, AttributionWriteMixin, TokenScopedView):
    permission_classes = [IsAuthenticated, IsBailleur]
    pagination_class = AttributionPagination

    @extend_schema(
        operation_id="attributions_list",
        summary="Lister les attributions du bailleur",
        description="Les attributions déclarées par l'organisation du jeton dans sa conférence, "
        "de la plus récente à la plus ancienne, par pages (`limit`, `offset`).",
        tags=["attributions"],
        parameters=[
            OpenApiParameter(
                "annee",
                YEAR_SCHEMA,
                OpenApiParameter.QUERY,
                description="Année de signature du bail (AAAA).",
            ),
            _retry_after(429),
        ],
        responses={
            200: AttributionSerializer(many=True),
            **INVALID,
            **UNAUTHORIZED,
            **NOT_BAILLEUR,
            **THROTTLED,
        },
    )
    def get(self, request):
        attributions = own_attributions(self.organisation)
        year = request.query_params.get("annee", "")
        if year.strip():
            try:
                year = int(year)
            except ValueError:
                year = None
            if year not in YEARS:
                return erreurs(
                    [("annee", request.query_params["annee"], "Année AAAA attendue (2000 à 2100).")]
                )
            attributions = attributions.filter(year=year)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(attributions, request, view=self)
        self.journal(
            page,
            f"Liste à partir de la ligne {paginator.offset + 1}"
            + (f" ; année {year}" if year else ""),
        )
        return paginator.get_paginated_response([attribution_document(a) for a in page])

    @extend_schema(
        operation_id="attributions_create",
        summary="Déclarer une attribution",
        description="Même contrôle que le formulaire et l'import de fichier. Une référence déjà "
        "déclarée par ce bailleur est refusée : pour la corriger, utilisez PUT ou PATCH.",
        tags=["attributions"],
        parameters=[_retry_after(429)],
        request=AttributionRequestSerializer,
        responses={
            201: AttributionSerializer,
            **INVALID,
            **UNAUTHORIZED,
            **NOT_BAILLEUR,
            **UNSUPPORTED,
            **THROTTLED,
        },
    )
    def post(self, request):
        row, problems = contract_row(request.data)
        if problems:
            return erreurs(problems)
        try:
            attribution = self.save(row)
        except services.RowInvalid as invalid:
            return erreurs(invalid.problems)
        attribution = access_own_attribution(
            organisation=self.organisation, reference=attribution.reference
        )
        location = reverse("api:attribution_detail", kwargs={"reference": attribution.reference})
        return Response(
            attribution_document(attribution),
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )


class AttributionDetailView(JournaledReadMixin, AttributionWriteMixin, TokenScopedView):
    permission_classes = [IsAuthenticated, IsBailleur]

    @extend_schema(
        operation_id="attributions_retrieve",
        summary="Lire une attribution",
        description="Une attribution du bailleur du jeton, avec les valeurs déduites.",
        tags=["attributions"],
        parameters=[REFERENCE, _retry_after(429)],
        responses={
            200: AttributionSerializer,
            **UNAUTHORIZED,
            **NOT_BAILLEUR,
            **NOT_FOUND,
            **THROTTLED,
        },
    )
    def get(self, request, reference):
        attribution = access_own_attribution(organisation=self.organisation, reference=reference)
        self.journal([attribution], f"Attribution {attribution.reference}")
        return Response(attribution_document(attribution))

    @extend_schema(
        operation_id="attributions_update",
        summary="Remplacer une attribution",
        description="Le corps remplace l'attribution entière (un champ facultatif absent est "
        "remis à sa valeur par défaut). `reference` absente : celle de l'URL.",
        tags=["attributions"],
        parameters=[REFERENCE, _retry_after(429)],
        request=AttributionRequestSerializer,
        responses={
            200: AttributionSerializer,
            **INVALID,
            **UNAUTHORIZED,
            **NOT_BAILLEUR,
            **NOT_FOUND,
            **UNSUPPORTED,
            **THROTTLED,
        },
    )
    def put(self, request, reference):
        return self._update(request, reference, partial=False)

    @extend_schema(
        operation_id="attributions_partial_update",
        summary="Modifier des champs d'une attribution",
        description="Seuls les champs envoyés changent ; l'attribution obtenue est contrôlée "
        "comme une déclaration complète.",
        tags=["attributions"],
        parameters=[REFERENCE, _retry_after(429)],
        request=AttributionRequestSerializer(partial=True),
        responses={
            200: AttributionSerializer,
            **INVALID,
            **UNAUTHORIZED,
            **NOT_BAILLEUR,
            **NOT_FOUND,
            **UNSUPPORTED,
            **THROTTLED,
        },
    )
    def patch(self, request, reference):
        return self._update(request, reference, partial=True)

    @extend_schema(
        operation_id="attributions_destroy",
        summary="Supprimer une attribution",
        description="Supprime une attribution du bailleur du jeton (inscrit au journal).",
        tags=["attributions"],
        parameters=[REFERENCE, _retry_after(429)],
        responses={
            204: None,
            **UNAUTHORIZED,
            **NOT_BAILLEUR,
            **NOT_FOUND,
            **THROTTLED,
        },
    )
    def delete(self, request, reference):
        attribution = access_own_attribution(organisation=self.organisation, reference=reference)
        services.attribution_delete(
            conference=self.token.conference,
            actor=None,
            attribution=attribution,
            actor_organisation=self.organisation,
            actor_label=_actor_label(self.token),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _update(self, request, reference: str, *, partial: bool) -> Response:
        attribution = access_own_attribution(organisation=self.organisation, reference=reference)
        body, problems = contract_row(request.data)
        if problems:
            return erreurs(problems)
        if partial:
            current = attribution_document(attribution)
            row = {name: current[name] for name in contract.COLUMNS_BY_NAME} | body
        else:
            row = body
            if _blank(row.get("reference")):
                row["reference"] = attribution.reference
        try:
            attribution = self.save(row, attribution)
        except services.RowInvalid as invalid:
            return erreurs(invalid.problems)
        attribution = access_own_attribution(
            organisation=self.organisation, reference=attribution.reference
        )
        return Response(attribution_document(attribution))


class BilanView(TokenScopedView):
    permission_classes = [IsAuthenticated, CanReadBilan]

    @extend_schema(
        operation_id="bilan_retrieve",
        summary="Lire le bilan d'une année",
        description="Le document `bilan` v1 de la conférence du jeton. Un bailleur reçoit "
        "`par_bailleur` réduit à sa propre ligne ; l'EPCI et l'État reçoivent tout. Si le bilan "
        "n'est pas encore calculé, la réponse est 202 : réessayer après Retry-After secondes.",
        tags=["bilan"],
        parameters=[
            OpenApiParameter(
                "annee",
                YEAR_SCHEMA,
                OpenApiParameter.PATH,
                description="Année (AAAA, de 2000 à 2100).",
            ),
            _retry_after(202, 429),
        ],
        responses={
            200: BilanSerializer,
            202: OpenApiResponse(StatutSerializer, description="Calcul en cours."),
            **UNAUTHORIZED,
            403: _detail("L'organisation du jeton n'a pas accès au bilan."),
            404: _detail("Année hors de la plage 2000 à 2100."),
            **THROTTLED,
        },
    )
    def get(self, request, annee: str):
        year = int(annee) if annee.isascii() and annee.isdigit() and len(annee) == 4 else None
        if year not in YEARS:
            raise NotFound("Aucun bilan pour cette année : année AAAA attendue, de 2000 à 2100.")
        document = bilan_cache.get_bilan(self.token.conference, year, compute_if_missing=True)
        if document is None:
            return Response(
                {"statut": "calcul en cours"},
                status=status.HTTP_202_ACCEPTED,
                headers={"Retry-After": str(BILAN_RETRY_AFTER)},
            )
        if self.organisation.type not in BILAN_FULL_READERS:
            # A bailleur sees its own line; the conference-wide aggregates stay whole.
            document = {
                **document,
                "par_bailleur": [
                    line
                    for line in document.get("par_bailleur", [])
                    if line.get("siren") == self.organisation.siren
                ],
            }
        return Response(document)
