"""The objectives a CIA version sets (CCH L.441-1-6): each bailleur's R1, R2, R3 and NPNRU
relogements per year, on the territory or one commune or QPV (1° and 2°), each
réservataire's R3 per year (3°); and the bailleurs' explanations of their gaps to them."""

from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction

from cil import audit
from cil.models import AuditAction, Commune, Conference, Organisation, Qpv, User
from conventions import selectors_cia as selectors
from conventions.models import (
    BailleurObjective,
    Convention,
    ConventionVersion,
    GapCategory,
    GapExplanation,
    ReservataireObjective,
)
from conventions.models.cia import RULES
from conventions.services_cia.common import fail, require_draft, same_conference


def _check_cells(
    version: ConventionVersion,
    cells,
    organisations: dict[int, Organisation],
    outsiders_message: str,
) -> None:
    """The cells (organisation id, year) of a grid: signatories of the version, years of
    the convention."""
    if {organisation_id for organisation_id, _year in cells} - set(organisations):
        fail(None, outsiders_message)
    outside = sorted({year for _organisation, year in cells} - set(version.convention.years))
    if outside:
        fail(None, f"Années hors de la période de la convention : {outside}.")


def _check_rate(rate: Decimal | None, label: str) -> None:
    if rate is not None and not Decimal(0) <= rate <= Decimal(1):
        fail(None, f"Le taux {label} doit être compris entre 0 et 100 %.")


def _rate_cell(value: Decimal | None) -> str | None:
    return None if value is None else f"{value * 100:g} %"


def _record(
    conference: Conference, actor: User | None, version: ConventionVersion, model, changes
) -> None:
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.UPDATE,
        obj=version,
        object_type=model._meta.label_lower,
        changes=changes,
    )


@transaction.atomic
def bailleur_objectives_save(
    *,
    conference: Conference,
    actor: User | None,
    version: ConventionVersion,
    values: dict[tuple[int, int], dict[str, Any]],
    commune: Commune | None = None,
    qpv: Qpv | None = None,
) -> int:
    """Set the objectives of a draft version on one perimeter (the territory, a commune or a
    QPV): `values` {(bailleur organisation id, year): {"r1", "r2", "r3": rate 0..1 or None,
    "npnru_relogements": int or None}}. A cell left entirely empty removes the objective.
    Returns the number of cells changed."""
    same_conference(conference, version)
    require_draft(version)
    if commune is not None and qpv is not None:
        fail(None, "Un objectif porte sur une commune ou sur un QPV, pas les deux.")
    for place in (commune, qpv):
        if place is not None:
            same_conference(conference, place)
    bailleurs = {o.pk: o for o in selectors.bailleur_signatories(version)}
    _check_cells(
        version,
        values,
        bailleurs,
        "Seuls les bailleurs signataires de la convention ont des objectifs.",
    )
    existing = selectors.bailleur_objectives(version, commune=commune, qpv=qpv)
    changes: dict[str, list] = {}
    for (bailleur_id, year), cell in sorted(values.items()):
        rates = {rule: cell.get(rule) for rule in RULES}
        for rule, rate in rates.items():
            _check_rate(rate, f"{rule.upper()} {year}")
        count = cell.get("npnru_relogements")
        if count is not None and count < 0:
            fail(None, f"Le nombre de relogements NPNRU {year} ne peut pas être négatif.")
        objective = existing.get((bailleur_id, year))
        label = f"{bailleurs[bailleur_id].name} {year}"
        old = (
            [*(getattr(objective, r) for r in RULES), objective.npnru_relogements]
            if objective
            else [None] * 4
        )
        new = [*rates.values(), count]
        if old == new:
            continue
        if all(value is None for value in new):
            objective.delete()
        else:
            if objective is None:
                objective = BailleurObjective(
                    conference=conference,
                    version=version,
                    bailleur_id=bailleur_id,
                    year=year,
                    commune=commune,
                    qpv=qpv,
                )
            objective.r1, objective.r2, objective.r3 = new[:3]
            objective.npnru_relogements = count
            objective.save()
        changes[label] = [
            [*(_rate_cell(v) for v in old[:3]), old[3]],
            [*(_rate_cell(v) for v in new[:3]), new[3]],
        ]
    changed = len(changes)
    if changes:
        perimeter = commune or qpv
        if perimeter is not None:
            changes["périmètre"] = [None, str(perimeter)]
        _record(conference, actor, version, BailleurObjective, changes)
    # A draft never drives the bilan, and a version stops being a draft before it can: the
    # objectives of a version in force never change (an avenant does), so nothing to
    # invalidate here. Signing, then entering into force, invalidate (`bilan_changed`).
    return changed


@transaction.atomic
def reservataire_objectives_save(
    *,
    conference: Conference,
    actor: User | None,
    version: ConventionVersion,
    values: dict[tuple[int, int], Decimal | None],
) -> int:
    """Set the réservataires' R3 objectives of a draft version: {(organisation id, year):
    rate 0..1 or None (removed)}. Returns the number of cells changed."""
    same_conference(conference, version)
    require_draft(version)
    reservataires = {o.pk: o for o in selectors.reservataire_signatories(version)}
    _check_cells(
        version,
        values,
        reservataires,
        "Seuls les réservataires signataires de la convention ont des objectifs.",
    )
    existing = selectors.reservataire_objectives(version)
    changes: dict[str, list] = {}
    for (organisation_id, year), rate in sorted(values.items()):
        _check_rate(rate, f"R3 {year}")
        objective = existing.get((organisation_id, year))
        old = objective.r3 if objective else None
        if old == rate:
            continue
        if rate is None:
            objective.delete()
        elif objective is None:
            ReservataireObjective.objects.create(
                conference=conference,
                version=version,
                reservataire_id=organisation_id,
                year=year,
                r3=rate,
            )
        else:
            objective.r3 = rate
            objective.save(update_fields=["r3"])
        changes[f"{reservataires[organisation_id].name} {year} R3"] = [
            _rate_cell(old),
            _rate_cell(rate),
        ]
    if changes:
        _record(conference, actor, version, ReservataireObjective, changes)
    return len(changes)


# --- Gap explanations --------------------------------------------------------------------------


@transaction.atomic
def gap_explanation_save(
    *,
    conference: Conference,
    actor: User,
    convention: Convention,
    year: int,
    rule: str,
    category: str,
    text: str,
) -> GapExplanation:
    """The actor's bailleur explains its gap to the objective of `rule` in `year`."""
    same_conference(conference, convention)
    bailleur = actor.organisation
    if bailleur is None:
        raise PermissionDenied
    if year not in convention.years:
        fail(None, "Cette année n'est pas dans la période de la convention.")
    if rule not in RULES:
        fail(None, "Règle inconnue.")
    if category not in GapCategory.values:
        fail("category", "Choisissez un motif.")
    if not text.strip():
        fail("text", "Rédigez l'explication.")
    explanation = selectors.explanation_of(
        convention=convention, bailleur=bailleur, year=year, rule=rule
    )
    before = {} if explanation is None else audit.snapshot(explanation, ["category", "text"])
    if explanation is None:
        explanation = GapExplanation(
            conference=conference, convention=convention, bailleur=bailleur, year=year, rule=rule
        )
    explanation.category = category
    explanation.text = text.strip()
    explanation.updated_by = actor
    explanation.full_clean()
    explanation.save()
    changes = audit.diff(before, audit.snapshot(explanation, ["category", "text"]))
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.UPDATE if before else AuditAction.CREATE,
            obj=explanation,
            changes=changes,
        )
    return explanation
