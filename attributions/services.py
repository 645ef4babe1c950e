"""Every change of state of attributions and their yearly reference data."""

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from attributions import contract, derivation
from attributions.models import (
    DEFAULT_TARGET_R1,
    DEFAULT_TARGET_R2,
    DEFAULT_TARGET_R3,
    Attribution,
    Q1Threshold,
    RuleRates,
)
from cil import audit, concurrency
from cil.models import AuditAction, Conference, Organisation, User

AUDITED_FIELDS = [
    "reference",
    "lease_date",
    "commune",
    "qpv",
    "reservataire",
    "household_size",
    "children_under_14",
    "annual_income",
    "given_income_per_uc",
    "dalo",
    "prioritaire",
    "relogement_npnru",
    "mutation",
    "typologie",
    "financement",
]


class RowInvalid(ValidationError):
    """The row's problems, as (column, value, French message)."""

    def __init__(self, problems: list[tuple[str, Any, str]]):
        super().__init__({column: [message] for column, _value, message in problems})
        self.problems = problems


def check_row(
    raw: dict[str, Any],
    *,
    conference: Conference,
    reference=None,
    acting_bailleur_id: int | None = None,
) -> dict[str, Any]:
    """Parse and check one row of the `attributions` v1 contract; the model's fields or
    RowInvalid. The same check serves the form, the import and the API."""
    reference = reference or derivation.load_reference(conference)
    values, problems = contract.parse_row(raw)
    if problems:
        raise RowInvalid(problems)
    fields, problems = derivation.derive(values, reference, acting_bailleur_id=acting_bailleur_id)
    if problems:
        raise RowInvalid(problems)
    return fields


@transaction.atomic
def attribution_save(
    *,
    conference: Conference,
    actor: User | None,
    raw: dict[str, Any],
    attribution: Attribution | None = None,
    acting_bailleur_id: int | None = None,
    actor_organisation: Organisation | None = None,
    actor_label: str | None = None,
    fingerprint: str | None = None,
) -> Attribution:
    """Create, or update `attribution`, from a row of the contract. (bailleur, reference) is
    unique: a create naming an existing reference is refused (the import updates instead).
    `actor_organisation`/`actor_label` name who acted when there is no person (API token).
    `fingerprint`: the edit form's fingerprint (cil/concurrency.py)."""
    fields = check_row(raw, conference=conference, acting_bailleur_id=acting_bailleur_id)
    # Identical submissions at once (form or API): the twin waits, then meets the clash below.
    concurrency.advisory_lock(
        "attribution", conference.pk, fields["bailleur_id"], fields["reference"]
    )
    if attribution is not None:
        concurrency.check_fields(
            attribution, AUDITED_FIELDS, fingerprint=fingerprint, conference=conference
        )
    clash = Attribution.objects.filter(
        bailleur_id=fields["bailleur_id"], reference=fields["reference"]
    )
    if attribution is not None:
        clash = clash.exclude(pk=attribution.pk)
    if clash.exists():
        raise RowInvalid(
            [("reference", fields["reference"], "Cette référence existe déjà pour ce bailleur.")]
        )
    creating = attribution is None
    before = {} if creating else audit.snapshot(attribution, AUDITED_FIELDS)
    if creating:
        attribution = Attribution(conference=conference)
    elif attribution.conference_id != conference.pk:
        raise ValueError("L'attribution n'appartient pas à cette conférence.")
    for name, value in fields.items():
        setattr(attribution, name, value)
    attribution.save()
    changes = audit.diff(before, audit.snapshot(attribution, AUDITED_FIELDS))
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.CREATE if creating else AuditAction.UPDATE,
            obj=attribution,
            changes=changes,
            actor_organisation=actor_organisation,
            actor_label=actor_label,
        )
    _data_changed(
        conference,
        {attribution.year, *([before_year] if (before_year := _year_of(before)) else [])},
    )
    return attribution


def _year_of(snapshot: dict) -> int | None:
    lease = snapshot.get("lease_date")
    return int(lease[:4]) if lease else None


@transaction.atomic
def attribution_delete(
    *,
    conference: Conference,
    actor: User | None,
    attribution: Attribution,
    actor_organisation: Organisation | None = None,
    actor_label: str | None = None,
) -> None:
    if attribution.conference_id != conference.pk:
        raise ValueError("L'attribution n'appartient pas à cette conférence.")
    audit.record(
        conference=conference,
        actor=actor,
        action=AuditAction.DELETE,
        obj=attribution,
        changes=audit.diff(audit.snapshot(attribution, AUDITED_FIELDS), {}),
        actor_organisation=actor_organisation,
        actor_label=actor_label,
    )
    year = attribution.year
    attribution.delete()
    _data_changed(conference, {year})


@dataclass
class RecomputeReport:
    years: list[int]
    changed: int


def recompute_q1(*, conference: Conference, from_year: int) -> RecomputeReport:
    """Recompute the Q1 status of `from_year`'s attributions, and of the following years
    that have no threshold of their own (the previous value applies to them provisionally)."""
    reference = derivation.load_reference(conference)
    years = [from_year]
    later = sorted(
        set(Attribution.objects.filter(year__gt=from_year).values_list("year", flat=True))
    )
    for year in later:
        if year in reference.thresholds:
            break
        years.append(year)
    changed = []
    fields = [
        "household_size",
        "children_under_14",
        "annual_income",
        "given_income_per_uc",
        "lease_date",
        "qpv_id",
    ]
    for attribution in Attribution.objects.filter(year__in=years).only(
        "pk", "is_q1", "uc", "income_per_uc", *fields
    ):
        derived = derivation.derived_fields({f: getattr(attribution, f) for f in fields}, reference)
        if derived["is_q1"] != attribution.is_q1 or derived["uc"] != attribution.uc:
            attribution.is_q1, attribution.uc = derived["is_q1"], derived["uc"]
            attribution.income_per_uc = derived["income_per_uc"]
            changed.append(attribution)
    Attribution.objects.bulk_update(changed, ["is_q1", "uc", "income_per_uc"], batch_size=2000)
    _data_changed(conference, set(years))
    return RecomputeReport(years=years, changed=len(changed))


@transaction.atomic
def threshold_set(
    *, conference: Conference, actor: User | None, year: int, value: Decimal, source: str
) -> Q1Threshold:
    """Enter or correct a year's Q1 threshold (a prefecture agent, from the arrêté); the Q1
    status of that year's attributions is recomputed."""
    if value <= 0:
        raise ValidationError({"value": "Le seuil doit être un montant positif."})
    threshold = Q1Threshold.objects.filter(year=year).first()
    before = {} if threshold is None else audit.snapshot(threshold, ["value", "source"])
    if threshold is None:
        threshold = Q1Threshold(conference=conference, year=year)
    threshold.value = value.quantize(Decimal("0.01"))
    threshold.source = source.strip()
    threshold.full_clean()
    threshold.save()
    changes = audit.diff(before, audit.snapshot(threshold, ["value", "source"]))
    if changes:
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.CREATE if not before else AuditAction.UPDATE,
            obj=threshold,
            changes=changes,
        )
        recompute_q1(conference=conference, from_year=year)
    return threshold


@transaction.atomic
def rates_set(
    *,
    conference: Conference,
    actor: User | None,
    year: int,
    target_r1: Decimal,
    target_r2: Decimal,
    target_r3: Decimal,
    reason: str,
) -> RuleRates:
    """Change a year's rates for R1–R3 (the secretariat, with a reason kept in the journal)."""
    if not reason.strip():
        raise ValidationError(
            {"reason": "Indiquez le motif de la modification (par exemple la délibération)."}
        )
    rates = RuleRates.objects.filter(year=year).first()
    if rates is None:
        rates = RuleRates(
            conference=conference,
            year=year,
            target_r1=DEFAULT_TARGET_R1,
            target_r2=DEFAULT_TARGET_R2,
            target_r3=DEFAULT_TARGET_R3,
        )
    fields = ["target_r1", "target_r2", "target_r3"]
    before = audit.snapshot(rates, fields) if rates.pk else {}
    rates.target_r1, rates.target_r2, rates.target_r3 = target_r1, target_r2, target_r3
    rates.full_clean()
    rates.save()
    changes = audit.diff(before, audit.snapshot(rates, fields))
    if changes:
        changes["motif"] = [None, reason.strip()]
        audit.record(
            conference=conference,
            actor=actor,
            action=AuditAction.UPDATE if before else AuditAction.CREATE,
            obj=rates,
            changes=changes,
        )
        _data_changed(conference, {year})
    return rates


def _data_changed(conference: Conference, years: set[int]) -> None:
    data_changed(conference, years)


def data_changed(conference: Conference, years: set[int]) -> None:
    """Hook for the bilan cache: the indicators of these years must be recomputed (after the
    commit). Public for the writers outside this module (the file import)."""
    from attributions import bilan_cache
    from observatoire import cache as observatoire_cache

    observatoire_cache.bump(conference.pk)  # the observatory's figures, with the data
    transaction.on_commit(
        lambda: bilan_cache.invalidate(conference_id=conference.pk, years=sorted(years))
    )
