"""Reads of attributions and reference data for the views. Household-level rows: a bailleur
sees only its organisation's, the secretariat and the prefecture all of them (domain.md §6)."""

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from attributions import derivation
from attributions.models import (
    DEFAULT_TARGET_R1,
    DEFAULT_TARGET_R2,
    DEFAULT_TARGET_R3,
    Attribution,
    Q1Threshold,
    RuleRates,
)
from cil.models import Commune, Membership, OrganisationType, Qpv
from cil.permissions import has_permission


def visible_attributions(*, user, roles) -> QuerySet[Attribution]:
    rows = Attribution.objects.select_related("bailleur", "commune", "qpv")
    if has_permission(roles, "attributions.view_all"):
        return rows
    if has_permission(roles, "attributions.view_own") and user.organisation_id:
        return rows.filter(bailleur_id=user.organisation_id)
    return rows.none()


def access_attribution(*, attribution_id, user, roles, for_change: bool = False) -> Attribution:
    """One attribution the user may see (or change: only the bailleur's own lines); 404 for
    "absent" and "not yours" alike."""
    if for_change:
        rows = Attribution.objects.select_related("bailleur", "commune", "qpv").filter(
            bailleur_id=user.organisation_id
        )
    else:
        rows = visible_attributions(user=user, roles=roles)
    return get_object_or_404(rows, public_id=attribution_id)


def filter_attributions(
    rows: QuerySet[Attribution], *, year=None, bailleur=None, commune=None, search=None
):
    if year:
        rows = rows.filter(year=year)
    if bailleur:
        rows = rows.filter(bailleur__siren=bailleur)
    if commune:
        rows = rows.filter(commune__insee=commune)
    if search:
        rows = rows.filter(reference__icontains=search)
    return rows


def attribution_years() -> list[int]:
    # DISTINCT in the database (index conference × year): not one row per attribution.
    return list(Attribution.objects.order_by("-year").values_list("year", flat=True).distinct())


def bailleur_members() -> list[tuple[str, str]]:
    return list(
        Membership.objects.filter(organisation__type=OrganisationType.BAILLEUR)
        .order_by("organisation__name")
        .values_list("organisation__siren", "organisation__name")
    )


def communes() -> list[tuple[str, str]]:
    return list(Commune.objects.order_by("name").values_list("insee", "name"))


def qpvs() -> list[tuple[str, str]]:
    return list(Qpv.objects.order_by("code").values_list("code", "name"))


def yearly_reference(conference) -> list[dict]:
    """One line per year that has a threshold, rates or attributions: the threshold in force
    (flagged provisional when the previous year's applies) and the rates (legal defaults
    when the conference has set none)."""
    reference = derivation.load_reference(conference)
    thresholds = {t.year: t for t in Q1Threshold.objects.all()}
    rates = {r.year: r for r in RuleRates.objects.all()}
    years = sorted(set(thresholds) | set(rates) | set(attribution_years()), reverse=True)
    lines = []
    for year in years:
        value, provisional = reference.threshold_for(year)
        rate = rates.get(year)
        lines.append(
            {
                "year": year,
                "threshold": value,
                "provisional": provisional,
                "source": thresholds[year].source if year in thresholds else "",
                "target_r1": rate.target_r1 if rate else DEFAULT_TARGET_R1,
                "target_r2": rate.target_r2 if rate else DEFAULT_TARGET_R2,
                "target_r3": rate.target_r3 if rate else DEFAULT_TARGET_R3,
                "rates_set": rate is not None,
            }
        )
    return lines


def threshold_of(year: int | None) -> Q1Threshold | None:
    return Q1Threshold.objects.filter(year=year).first() if year else None


def rates_of(year: int | None) -> RuleRates | None:
    return RuleRates.objects.filter(year=year).first() if year else None
