"""The commune page in plain French, for élus and every member: sentences built from the
figures of `observatoire.commune_figures` (pure, no Django).

Each sentence handles singular and plural, zero, and a hidden figure: a figure hidden because
it counts fewer than `threshold` households says so (« moins de 11 attributions : chiffre non
diffusé »); one hidden for another reason only says it is not published.
"""

import math
from decimal import Decimal
from fractions import Fraction

from attributions.indicators.bilan import gap
from observatoire.commune_figures import FEW_IN_TOTAL, MISSING, SECRET, Figure

NNBSP = "\u202f"  # narrow no-break space: thousands separator and before « % »


def number(value: int) -> str:
    """12345 → « 12 345 » (narrow no-break space)."""
    return f"{value:,}".replace(",", NNBSP)


def percent(value: float | None, decimals: int = 1) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{decimals}f}{NNBSP}%".replace(".", ",")


def decimal(value: float, decimals: int = 1) -> str:
    return f"{value:.{decimals}f}".replace(".", ",")


def plural(count: float, singular: str, plural_form: str | None = None) -> str:
    """French agreement: singular below 2 (« 1,5 demande »), plural from 2."""
    return singular if abs(count) < 2 else (plural_form or singular + "s")


def out_of_100(figure: Figure) -> int:
    """A shown share as « n sur 100 », rounded half up (37 out of 200 → 19), in exact
    arithmetic when its counts are known (0.185 × 100 is 18.4999… in floating point)."""
    if figure.numerator is not None and figure.denominator:
        exact = Fraction(figure.numerator, figure.denominator) * 100
    else:
        exact = Fraction(Decimal(repr(figure.value))) * 100
    return math.floor(exact + Fraction(1, 2))


def secrecy_note(figure: Figure, *, threshold: int, unit: str = "attributions") -> str:
    """Why a figure is not shown, in words."""
    if figure.reason == FEW_IN_TOTAL:
        return f"moins de {threshold} {unit} : chiffre non diffusé (secret statistique)"
    return "chiffre non diffusé (secret statistique)"


# --- Attributions ------------------------------------------------------------------------


def attributions_sentence(
    name: str, year: int, total: Figure, en_qpv: Figure, *, threshold: int
) -> str:
    """« En 2025, 123 logements sociaux ont été attribués à Exempleville, dont 45 en
    quartier prioritaire. »"""
    if total.state == SECRET:
        return (
            f"Logements sociaux attribués à {name} en {year} : "
            f"{secrecy_note(total, threshold=threshold)}."
        )
    count = total.value
    if count == 0:
        return f"Aucun logement social n'a été attribué à {name} en {year}."
    if count == 1:
        sentence = f"En {year}, 1 logement social a été attribué à {name}"
    else:
        sentence = f"En {year}, {number(count)} logements sociaux ont été attribués à {name}"
    if en_qpv.state == SECRET:
        return (
            sentence
            + " ; le nombre de ceux situés en quartier prioritaire n'est pas diffusé (secret statistique)."
        )
    if en_qpv.value == 0:
        return sentence + (
            ", aucun en quartier prioritaire." if count > 1 else ", hors quartier prioritaire."
        )
    if count == 1:
        return sentence + ", en quartier prioritaire."
    return sentence + f", dont {number(en_qpv.value)} en quartier prioritaire."


def q1_share_sentence(
    name: str, year: int, share: Figure, *, threshold: int, outside_qpv: bool = False
) -> str:
    """« Sur 100 logements attribués à Exempleville en 2025, 18 l'ont été à des ménages du
    premier quartile de revenus. »"""
    where = " hors quartier prioritaire" if outside_qpv else ""
    if share.state == MISSING:
        if outside_qpv:
            return f"Aucun logement hors quartier prioritaire n'a été attribué à {name} en {year}."
        return f"Aucun logement social n'a été attribué à {name} en {year}."
    if share.state == SECRET:
        return (
            f"Part des ménages du premier quartile de revenus parmi les logements attribués"
            f"{where} à {name} en {year} : {secrecy_note(share, threshold=threshold)}."
        )
    lead = f"Sur 100 logements attribués{where} à {name} en {year}, "
    n = out_of_100(share)
    if n == 0 and share.value > 0:
        body = "moins de 1 l'a été à un ménage du premier quartile de revenus"
    elif n == 0:
        body = "aucun ne l'a été à un ménage du premier quartile de revenus"
    elif n == 1:
        body = "1 l'a été à un ménage du premier quartile de revenus"
    else:
        body = f"{n} l'ont été à des ménages du premier quartile de revenus"
    counts = ""
    if share.numerator is not None and share.denominator is not None:
        counts = (
            f" ({number(share.numerator)} sur {number(share.denominator)} "
            f"{plural(share.denominator, 'attribution')})"
        )
    return lead + body + counts + "."


def target_text(target: float | None) -> str:
    """A target as the conference set it: « 25 % », « 27,5 % »."""
    if target is None:
        return "—"
    whole = round(target * 100, 6).is_integer()
    return percent(target, 0 if whole else 1)


def reached(figure: Figure) -> bool | None:
    """Whether a shown rate reaches its target (None when it is not shown)."""
    if not figure.shown or figure.target is None:
        return None
    return _gap(figure)["manquantes"] == 0


def _gap(figure: Figure) -> dict:
    return gap(
        {"numerateur": figure.numerator, "denominateur": figure.denominator, "cible": figure.target}
    )


def target_sentence(rule: str, figure: Figure, *, threshold: int) -> str:
    """The commune's rate against the conference's target (R1, R2), with the gap in points,
    and in attributions when the counts may be shown."""
    target = target_text(figure.target)
    if figure.state == MISSING:
        return f"Aucune attribution n'entre dans la règle {rule} cette année : pas de taux."
    if figure.state == SECRET:
        return f"Objectif de {target} ; taux de la commune : {secrecy_note(figure, threshold=threshold)}."
    measured = _gap(figure)
    rate = percent(figure.value)
    if measured["manquantes"] == 0:
        return f"{rate} pour un objectif de {target} : objectif atteint."
    points = decimal(abs(measured["points"]))
    missing = measured["manquantes"]
    return (
        f"{rate} pour un objectif de {target} : {points} {plural(abs(measured['points']), 'point')} "
        f"en dessous ; il manquait {missing} {plural(missing, 'attribution')} pour l'atteindre."
    )


# --- Demand, offer -----------------------------------------------------------------------


def demand_sentence(
    name: str, when: str, present: bool, demands: Figure, mutations: Figure, *, threshold: int
) -> str:
    """« Au 31 décembre 2025, 456 demandes de logement social étaient en cours avec
    Exempleville en premier choix, dont 12,3 % de ménages déjà locataires du parc social. »"""
    if demands.state == SECRET:
        return (
            f"Demandes en cours {when} avec {name} en premier choix : "
            f"{secrecy_note(demands, threshold=threshold, unit='demandes')}."
        )
    count = demands.value
    if count == 0:
        verb = "ne place" if present else "ne plaçait"
        return f"{when.capitalize()}, aucune demande de logement social en cours {verb} {name} en premier choix."
    verbs = ("est", "sont") if present else ("était", "étaient")
    verb = verbs[0] if count == 1 else verbs[1]
    sentence = (
        f"{when.capitalize()}, {number(count)} {plural(count, 'demande')} de logement social "
        f"{verb} en cours avec {name} en premier choix"
    )
    if mutations.shown and count > 1:
        sentence += f", dont {percent(mutations.value)} de ménages déjà locataires du parc social"
    return sentence + "."


def pressure_sentence(name: str, year: int, pressure: Figure, *, threshold: int) -> str:
    """« Soit 3,7 demandes pour une attribution dans l'année. »"""
    if pressure.state == SECRET:
        return f"Pression de la demande à {name} en {year} : {secrecy_note(pressure, threshold=threshold, unit='ménages')}."
    if pressure.state == MISSING:
        return f"Aucune attribution à {name} en {year} : la pression de la demande ne peut pas être calculée."
    value = pressure.value
    return (
        f"Pression de la demande : {decimal(value)} {plural(value, 'demande')} en cours pour "
        f"une attribution dans l'année."
    )


def offer_sentence(name: str, millesime: int, dwellings: Figure, in_qpv: Figure) -> str:
    """« Au 1er janvier 2025, Exempleville comptait 2 345 logements sociaux, dont 890 en
    quartier prioritaire (répertoire RPLS). »"""
    count = dwellings.value or 0
    if count == 0:
        return f"Au 1er janvier {millesime}, le répertoire RPLS ne recense aucun logement social à {name}."
    noun = "logement social" if count == 1 else "logements sociaux"
    sentence = f"Au 1er janvier {millesime}, {name} comptait {number(count)} {noun}"
    if in_qpv.value:
        sentence += f", dont {number(in_qpv.value)} en quartier prioritaire"
    return sentence + " (répertoire RPLS)."
