"""The legal rules on one household, as plain functions (no Django).

CCH L.441-1: a household belongs to the first quartile (Q1) when its annual income per
consumption unit is strictly below the threshold fixed for the year by ministerial arrêté.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal


@dataclass(frozen=True)
class UcScale:
    """Consumption units: the modified OECD scale as INSEE uses it. That the SNE uses exactly
    this scale (and the age limit of 14) is not confirmed: it is a setting
    (CIL_UC_SCALE), kept in this one place."""

    first_person: Decimal = Decimal("1")
    other_person_14_or_more: Decimal = Decimal("0.5")
    child_under_14: Decimal = Decimal("0.3")


def consumption_units(household_size: int, children_under_14: int, scale: UcScale) -> Decimal:
    """UC of a household. The first person is an adult; `children_under_14` are among the
    others. Callers validate that children_under_14 < household_size."""
    others_14_or_more = household_size - 1 - children_under_14
    return (
        scale.first_person
        + scale.other_person_14_or_more * others_14_or_more
        + scale.child_under_14 * children_under_14
    )


def income_per_uc(annual_income: Decimal | None, uc: Decimal) -> Decimal | None:
    """Annual income divided by UC, rounded to the cent: for display only. The Q1 test does
    not use this rounded value (see `is_q1`)."""
    if annual_income is None:
        return None
    return (annual_income / uc).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def is_q1(
    *,
    annual_income: Decimal | None,
    uc: Decimal,
    threshold: Decimal | None,
    given_income_per_uc: Decimal | None = None,
) -> bool | None:
    """CCH L.441-1: a household is Q1 when its annual income per UC is strictly below the
    year's threshold. An income exactly at the threshold is not Q1; a zero income is Q1.

    Exact decimal arithmetic: `income / uc < threshold` is tested as `income < threshold × uc`,
    with no rounding. A per-UC income given by the bailleur (`revenu_par_uc`) is used as is.
    None means « non classable » (income or threshold unknown): in no numerator.
    """
    if threshold is None:
        return None
    if given_income_per_uc is not None:
        return given_income_per_uc < threshold
    if annual_income is None:
        return None
    return annual_income < threshold * uc
