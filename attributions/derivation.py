"""From the typed values of one row to the model's fields, checked against the conference's
reference data (its communes, QPV, bailleurs and Q1 thresholds), with the derived values.

`Reference` is loaded once per conference (one query per table), so validating 100,000 lines
costs no query per line.
"""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings

from attributions import rules
from attributions.models import Q1Threshold
from cil.models import Commune, Membership, OrganisationType, Qpv, QpvYear


@dataclass(frozen=True)
class QpvRef:
    id: int
    communes: frozenset[str]
    years: frozenset[int]


@dataclass
class Reference:
    conference_id: int
    communes: dict[str, int]
    qpvs: dict[str, QpvRef]
    bailleurs: dict[str, tuple[int, str]]  # SIREN -> (organisation id, name)
    thresholds: dict[int, Decimal]
    uc_scale: rules.UcScale = field(default_factory=rules.UcScale)

    def threshold_for(self, year: int) -> tuple[Decimal | None, bool]:
        """The threshold applying to a year's leases, and whether it is provisional: when the
        year's arrêté is not yet published, the previous value applies provisionally."""
        if year in self.thresholds:
            return self.thresholds[year], False
        earlier = [y for y in self.thresholds if y < year]
        if earlier:
            return self.thresholds[max(earlier)], True
        return None, False


def uc_scale_from_settings() -> rules.UcScale:
    first, other, child = (Decimal(str(v)) for v in settings.CIL_UC_SCALE)
    return rules.UcScale(first, other, child)


def load_reference(conference) -> Reference:
    """The conference's reference data (call inside its scope)."""
    communes = dict(Commune.objects.values_list("insee", "pk"))
    qpv_communes: dict[int, set[str]] = {}
    # The many-to-many table has no conference column: reach it through the scoped QPV.
    links = Qpv.communes.through.objects.filter(qpv__in=Qpv.objects.all())
    for qpv_id, insee in links.values_list("qpv_id", "commune__insee"):
        qpv_communes.setdefault(qpv_id, set()).add(insee)
    qpv_years: dict[int, set[int]] = {}
    for qpv_id, year in QpvYear.objects.values_list("qpv_id", "year"):
        qpv_years.setdefault(qpv_id, set()).add(year)
    qpvs = {
        code: QpvRef(pk, frozenset(qpv_communes.get(pk, ())), frozenset(qpv_years.get(pk, ())))
        for code, pk in Qpv.objects.values_list("code", "pk")
    }
    bailleurs = {
        siren: (org_id, name)
        for siren, org_id, name in Membership.objects.filter(
            organisation__type=OrganisationType.BAILLEUR
        ).values_list("organisation__siren", "organisation_id", "organisation__name")
    }
    thresholds = dict(Q1Threshold.objects.values_list("year", "value"))
    return Reference(
        conference_id=conference.pk,
        communes=communes,
        qpvs=qpvs,
        bailleurs=bailleurs,
        thresholds=thresholds,
        uc_scale=uc_scale_from_settings(),
    )


# Model field for each contract column (the derived fields are added by `derive`).
MODEL_FIELDS = {
    "reference": "reference",
    "date_signature_bail": "lease_date",
    "numero_unique": "numero_unique",
    "rpls_id": "rpls_id",
    "typologie": "typologie",
    "financement": "financement",
    "reservataire": "reservataire",
    "reservataire_siren": "reservataire_siren",
    "nb_personnes": "household_size",
    "nb_enfants_moins_14": "children_under_14",
    "revenu_annuel": "annual_income",
    "revenu_par_uc": "given_income_per_uc",
    "dalo": "dalo",
    "prioritaire": "prioritaire",
    "relogement_npnru": "relogement_npnru",
    "mutation": "mutation",
}


def derive(
    values: dict[str, Any], reference: Reference, *, acting_bailleur_id: int | None = None
) -> tuple[dict[str, Any] | None, list[tuple[str, Any, str]]]:
    """Check one parsed row against the conference and compute the model's fields.

    Returns (fields, problems); fields is None when there is a problem. Problems are
    (column, value, French message), like `contract.parse_row`'s.
    """
    problems: list[tuple[str, Any, str]] = []
    siren = values.get("bailleur_siren")
    bailleur = reference.bailleurs.get(siren) if siren else None
    if siren and bailleur is None:
        problems.append(
            (
                "bailleur_siren",
                siren,
                "Ce SIREN n'est pas celui d'un bailleur membre de la conférence.",
            )
        )
    elif bailleur and acting_bailleur_id is not None and bailleur[0] != acting_bailleur_id:
        problems.append(
            (
                "bailleur_siren",
                siren,
                "Vous ne pouvez déclarer que les attributions de votre propre organisme.",
            )
        )
    insee = values.get("commune_insee")
    if insee and insee not in reference.communes:
        problems.append(
            (
                "commune_insee",
                insee,
                "Cette commune n'appartient pas au territoire de la conférence.",
            )
        )
    lease_date = values.get("date_signature_bail")
    year = lease_date.year if lease_date else None

    code = values.get("qpv_code") or ""
    qpv = reference.qpvs.get(code) if code else None
    if code and qpv is None:
        problems.append(
            ("qpv_code", code, "Ce QPV n'est pas un quartier prioritaire du territoire.")
        )
    elif qpv is not None:
        # QPV status is the dwelling's, with the QPV list in force at the lease date.
        if insee and insee not in qpv.communes:
            problems.append(("qpv_code", code, f"Ce QPV n'est pas situé sur la commune {insee}."))
        if year and year not in qpv.years:
            listed = ", ".join(str(y) for y in sorted(qpv.years)) or "aucune"
            problems.append(
                (
                    "qpv_code",
                    code,
                    f"Ce QPV n'est pas en vigueur en {year} (années de validité : {listed}).",
                )
            )

    size, children = values.get("nb_personnes"), values.get("nb_enfants_moins_14") or 0
    if size is not None and children >= size:
        problems.append(
            (
                "nb_enfants_moins_14",
                children,
                "Le nombre d'enfants de moins de 14 ans doit être inférieur au nombre de personnes du ménage.",
            )
        )
    if (
        problems
        or any(values.get(name) is None for name in ("reference", "nb_personnes", "reservataire"))
        or not year
    ):
        return None, problems

    fields = {MODEL_FIELDS[name]: values[name] for name in MODEL_FIELDS}
    fields["bailleur_id"] = bailleur[0]
    fields["commune_id"] = reference.communes[insee]
    fields["qpv_id"] = qpv.id if qpv else None
    # CCH L.441-1: a household recognised DALO is a priority household.
    fields["prioritaire"] = bool(values["prioritaire"] or values["dalo"])
    fields.update(derived_fields(fields, reference))
    return fields, []


def derived_fields(fields: dict[str, Any], reference: Reference) -> dict[str, Any]:
    """Year, QPV status, UC, income per UC and Q1 status of an attribution's fields."""
    year = fields["lease_date"].year
    uc = rules.consumption_units(
        fields["household_size"], fields["children_under_14"], reference.uc_scale
    )
    threshold, _provisional = reference.threshold_for(year)
    given = fields.get("given_income_per_uc")
    return {
        "year": year,
        "in_qpv": fields["qpv_id"] is not None,
        "uc": uc,
        "income_per_uc": given
        if given is not None
        else rules.income_per_uc(fields["annual_income"], uc),
        "is_q1": rules.is_q1(
            annual_income=fields["annual_income"],
            uc=uc,
            threshold=threshold,
            given_income_per_uc=given,
        ),
    }
