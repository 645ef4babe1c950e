"""Bodies of the API v1, in the `attributions` v1 column names (shared/formats.md).

The request serializer only DOCUMENTS the body: validation is the contract's
(`attributions.services.attribution_save`), the same as the form's and the import's, so
every input path accepts and refuses the same things with the same French messages.
"""

from typing import Any

from rest_framework import serializers

from attributions.contract import RESERVATAIRE_CODES
from attributions.models import Attribution, Financement, Typologie

SIREN_PATTERN = r"^\d{9}$"


class AttributionRequestSerializer(serializers.Serializer):
    """Une attribution telle que le bailleur la déclare (colonnes du format `attributions` v1).
    Comme dans le fichier, les formes usuelles sont aussi acceptées : dates JJ/MM/AAAA,
    montants avec virgule, booléens oui/non."""

    reference = serializers.CharField(
        max_length=64,
        help_text="Identifiant de l'attribution chez le bailleur, unique par bailleur.",
    )
    bailleur_siren = serializers.RegexField(
        SIREN_PATTERN,
        required=False,
        help_text="SIREN du bailleur ; par défaut celui de l'organisation du jeton, seule admise.",
    )
    date_signature_bail = serializers.DateField(
        help_text="Date de signature du bail ; décide de l'année de l'attribution."
    )
    commune_insee = serializers.CharField(
        min_length=5, max_length=5, help_text="Code INSEE de la commune du logement."
    )
    qpv_code = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=16,
        help_text="Code du QPV du logement ; vide ou absent : hors QPV.",
    )
    numero_unique = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=32
    )
    rpls_id = serializers.CharField(
        required=False, allow_blank=True, allow_null=True, max_length=32
    )
    typologie = serializers.ChoiceField(
        choices=Typologie.values, required=False, allow_blank=True, allow_null=True
    )
    financement = serializers.ChoiceField(
        choices=Financement.values, required=False, allow_blank=True, allow_null=True
    )
    reservataire = serializers.ChoiceField(choices=list(RESERVATAIRE_CODES))
    reservataire_siren = serializers.RegexField(
        SIREN_PATTERN, required=False, allow_blank=True, allow_null=True
    )
    nb_personnes = serializers.IntegerField(min_value=1, max_value=99)
    nb_enfants_moins_14 = serializers.IntegerField(min_value=0, max_value=99, required=False)
    revenu_annuel = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Revenu annuel du ménage en euros ; absent ou null : inconnu ; 0 est un revenu connu.",
    )
    revenu_par_uc = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        help_text="Revenu par unité de consommation, utilisé tel quel s'il est donné.",
    )
    dalo = serializers.BooleanField(required=False)
    prioritaire = serializers.BooleanField(required=False)
    relogement_npnru = serializers.BooleanField(required=False)
    mutation = serializers.BooleanField(required=False)

    class Meta:
        ref_name = "AttributionDeclaree"


class AttributionSerializer(AttributionRequestSerializer):
    """Une attribution, avec les valeurs que la plateforme en déduit (lecture seule)."""

    bailleur_siren = serializers.RegexField(SIREN_PATTERN)
    nb_enfants_moins_14 = serializers.IntegerField(min_value=0, max_value=99)
    dalo = serializers.BooleanField()
    prioritaire = serializers.BooleanField(help_text="Vrai aussi pour tout ménage DALO.")
    relogement_npnru = serializers.BooleanField()
    mutation = serializers.BooleanField()
    annee = serializers.IntegerField(read_only=True, help_text="Année de signature du bail.")
    en_qpv = serializers.BooleanField(read_only=True)
    uc = serializers.DecimalField(
        max_digits=5, decimal_places=2, read_only=True, help_text="Unités de consommation."
    )
    revenu_par_uc_calcule = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        read_only=True,
        allow_null=True,
        help_text="Revenu par UC retenu (déclaré, sinon revenu annuel / UC) ; null si inconnu.",
    )
    premier_quartile = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="Ménage du premier quartile (CCH L.441-1) ; null si revenu ou seuil inconnu.",
    )

    class Meta:
        ref_name = "Attribution"

    def get_fields(self):
        # A response body: every field is always present.
        fields = super().get_fields()
        for field in fields.values():
            field.read_only, field.required = True, False
        return fields

    def to_representation(self, instance: Attribution) -> dict[str, Any]:
        return attribution_document(instance)


def _text(value: str) -> str | None:
    return value or None


def _money(value) -> str | None:
    return None if value is None else str(value)


def attribution_document(a: Attribution) -> dict[str, Any]:
    """The API's JSON of an attribution (needs bailleur, commune and qpv loaded)."""
    return {
        "reference": a.reference,
        "bailleur_siren": a.bailleur.siren,
        "date_signature_bail": a.lease_date.isoformat(),
        "commune_insee": a.commune.insee,
        "qpv_code": a.qpv.code if a.qpv_id else None,
        "numero_unique": _text(a.numero_unique),
        "rpls_id": _text(a.rpls_id),
        "typologie": _text(a.typologie),
        "financement": _text(a.financement),
        "reservataire": a.reservataire,
        "reservataire_siren": _text(a.reservataire_siren),
        "nb_personnes": a.household_size,
        "nb_enfants_moins_14": a.children_under_14,
        "revenu_annuel": _money(a.annual_income),
        "revenu_par_uc": _money(a.given_income_per_uc),
        "dalo": a.dalo,
        "prioritaire": a.prioritaire,
        "relogement_npnru": a.relogement_npnru,
        "mutation": a.mutation,
        "annee": a.year,
        "en_qpv": a.in_qpv,
        "uc": _money(a.uc),
        "revenu_par_uc_calcule": _money(a.income_per_uc),
        "premier_quartile": a.is_q1,
    }


# --- Errors and statuses --------------------------------------------------------------


class ErreurSerializer(serializers.Serializer):
    champ = serializers.CharField(allow_null=True, help_text="Colonne du format attributions v1.")
    valeur = serializers.JSONField(allow_null=True, help_text="Valeur reçue.")
    message = serializers.CharField(help_text="Explication en français.")


class ErreursSerializer(serializers.Serializer):
    erreurs = ErreurSerializer(many=True)


class DetailSerializer(serializers.Serializer):
    detail = serializers.CharField()


class StatutSerializer(serializers.Serializer):
    statut = serializers.CharField(help_text="« calcul en cours »")


# --- The bilan v1 document (documentation of the JSON computed by the bilan) ----------


class RatioSerializer(serializers.Serializer):
    numerateur = serializers.IntegerField()
    denominateur = serializers.IntegerField()
    taux = serializers.FloatField(allow_null=True, help_text="null si le dénominateur est nul.")
    cible = serializers.FloatField()


class TotalSerializer(serializers.Serializer):
    attributions = serializers.IntegerField()
    hors_qpv = serializers.IntegerField()
    en_qpv = serializers.IntegerField()
    revenu_inconnu = serializers.IntegerField()
    dalo = serializers.IntegerField()
    prioritaires = serializers.IntegerField()
    mutations = serializers.IntegerField()
    relogements_npnru = serializers.IntegerField()


class BilanBailleurSerializer(serializers.Serializer):
    siren = serializers.CharField()
    nom = serializers.CharField()
    attributions = serializers.IntegerField()
    r1_q1_hors_qpv = RatioSerializer()
    r2_hors_q1_en_qpv = RatioSerializer()
    r3_prioritaires_non_reserve = RatioSerializer()


class BilanReservataireSerializer(serializers.Serializer):
    reservataire = serializers.CharField()
    siren = serializers.CharField(allow_null=True)
    r3_prioritaires = RatioSerializer()


class BilanCommuneSerializer(serializers.Serializer):
    insee = serializers.CharField()
    attributions = serializers.IntegerField()
    r1_q1_hors_qpv = RatioSerializer()
    r2_hors_q1_en_qpv = RatioSerializer()


class BilanSerializer(serializers.Serializer):
    """Le document `bilan` v1. Le jeton d'un bailleur reçoit `par_bailleur` réduit à sa
    propre ligne ; ceux de l'EPCI et de l'État reçoivent toutes les lignes."""

    format = serializers.CharField(help_text="« bilan/v1 »")
    conference = serializers.CharField()
    annee = serializers.IntegerField()
    seuil_q1 = serializers.FloatField(allow_null=True)
    total = TotalSerializer()
    r1_q1_hors_qpv = RatioSerializer()
    r2_hors_q1_en_qpv = RatioSerializer()
    par_bailleur = BilanBailleurSerializer(many=True)
    par_reservataire = BilanReservataireSerializer(many=True)
    par_commune = BilanCommuneSerializer(many=True)

    class Meta:
        ref_name = "Bilan"
