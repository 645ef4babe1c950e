"""The sentences of the commune page, on hand-made figures: singular and plural, zero,
rounding, and figures hidden by statistical secrecy."""

import pytest

from observatoire import commune_text as text
from observatoire.commune_figures import (
    FEW_IN_GROUP,
    FEW_IN_TOTAL,
    LINKED,
    MISSING,
    SECRET,
    VALUE,
    Figure,
)

NAME, YEAR, THRESHOLD = "Exempleville", 2025, 11


def share(numerator, denominator, target=None):
    return Figure(VALUE, numerator / denominator, numerator, denominator, target=target)


@pytest.mark.parametrize(
    ("figure", "expected"),
    [
        (
            share(18, 100),
            "Sur 100 logements attribués à Exempleville en 2025, 18 l'ont été à des ménages du "
            "premier quartile de revenus (18 sur 100 attributions).",
        ),
        (
            share(37, 200),  # 18.5 out of 100, rounded half up (exactly: not 18.4999…)
            "Sur 100 logements attribués à Exempleville en 2025, 19 l'ont été à des ménages du "
            "premier quartile de revenus (37 sur 200 attributions).",
        ),
        (
            share(1, 80),  # 1.25 → 1: singular
            "Sur 100 logements attribués à Exempleville en 2025, 1 l'a été à un ménage du "
            "premier quartile de revenus (1 sur 80 attributions).",
        ),
        (
            share(1, 300),  # 0.33 → rounds to 0 but is not none
            "Sur 100 logements attribués à Exempleville en 2025, moins de 1 l'a été à un ménage "
            "du premier quartile de revenus (1 sur 300 attributions).",
        ),
        (
            share(0, 40),
            "Sur 100 logements attribués à Exempleville en 2025, aucun ne l'a été à un ménage du "
            "premier quartile de revenus (0 sur 40 attributions).",
        ),
        (
            Figure(MISSING, numerator=0, denominator=0),
            "Aucun logement social n'a été attribué à Exempleville en 2025.",
        ),
        (
            Figure(SECRET, reason=FEW_IN_TOTAL),
            "Part des ménages du premier quartile de revenus parmi les logements attribués à "
            "Exempleville en 2025 : moins de 11 attributions : chiffre non diffusé (secret "
            "statistique).",
        ),
        (
            Figure(SECRET, denominator=40, reason=FEW_IN_GROUP),
            "Part des ménages du premier quartile de revenus parmi les logements attribués à "
            "Exempleville en 2025 : chiffre non diffusé (secret statistique).",
        ),
    ],
)
def test_the_q1_share_sentence(figure, expected):
    assert text.q1_share_sentence(NAME, YEAR, figure, threshold=THRESHOLD) == expected


def test_the_q1_share_outside_qpv():
    assert text.q1_share_sentence(
        NAME, YEAR, share(12, 40), threshold=THRESHOLD, outside_qpv=True
    ) == (
        "Sur 100 logements attribués hors quartier prioritaire à Exempleville en 2025, 30 l'ont "
        "été à des ménages du premier quartile de revenus (12 sur 40 attributions)."
    )
    assert text.q1_share_sentence(
        NAME, YEAR, Figure(MISSING), threshold=THRESHOLD, outside_qpv=True
    ) == ("Aucun logement hors quartier prioritaire n'a été attribué à Exempleville en 2025.")


def count(value):
    return Figure(VALUE, value)


@pytest.mark.parametrize(
    ("total", "en_qpv", "expected"),
    [
        (
            count(1234),
            count(45),
            "En 2025, 1\u202f234 logements sociaux ont été attribués à Exempleville, dont 45 en "
            "quartier prioritaire.",
        ),
        (
            count(60),
            count(0),
            "En 2025, 60 logements sociaux ont été attribués à Exempleville, aucun en quartier "
            "prioritaire.",
        ),
        (
            count(1),
            count(0),
            "En 2025, 1 logement social a été attribué à Exempleville, hors quartier prioritaire.",
        ),
        (
            count(1),
            count(1),
            "En 2025, 1 logement social a été attribué à Exempleville, en quartier prioritaire.",
        ),
        (count(0), count(0), "Aucun logement social n'a été attribué à Exempleville en 2025."),
        (
            Figure(SECRET, reason=FEW_IN_TOTAL),
            Figure(SECRET, reason=FEW_IN_TOTAL),
            "Logements sociaux attribués à Exempleville en 2025 : moins de 11 attributions : "
            "chiffre non diffusé (secret statistique).",
        ),
        (
            Figure(SECRET, reason=LINKED),
            count(0),
            "Logements sociaux attribués à Exempleville en 2025 : chiffre non diffusé (secret "
            "statistique).",
        ),
        (
            count(40),
            Figure(SECRET, reason=FEW_IN_TOTAL),
            "En 2025, 40 logements sociaux ont été attribués à Exempleville ; le nombre de ceux "
            "situés en quartier prioritaire n'est pas diffusé (secret statistique).",
        ),
    ],
)
def test_the_attributions_sentence(total, en_qpv, expected):
    assert text.attributions_sentence(NAME, YEAR, total, en_qpv, threshold=THRESHOLD) == expected


def test_a_rate_against_its_target():
    # 9 out of 40 = 22.5 % for 25 %: 2.5 points below; ceil(0.25 × 40) − 9 = 1 missing.
    below = share(9, 40, target=0.25)
    assert text.target_sentence("R1", below, threshold=THRESHOLD) == (
        "22,5\u202f% pour un objectif de 25\u202f% : 2,5 points en dessous ; il manquait 1 "
        "attribution pour l'atteindre."
    )
    assert text.reached(below) is False
    reached = share(10, 40, target=0.25)
    assert text.target_sentence("R1", reached, threshold=THRESHOLD) == (
        "25,0\u202f% pour un objectif de 25\u202f% : objectif atteint."
    )
    assert text.reached(reached) is True
    # 0.5 point below: singular; 55 % is written with its decimal when it has one.
    assert text.target_sentence("R2", share(109, 200, target=0.55), threshold=THRESHOLD) == (
        "54,5\u202f% pour un objectif de 55\u202f% : 0,5 point en dessous ; il manquait 1 "
        "attribution pour l'atteindre."
    )
    assert text.target_sentence(
        "R2", Figure(SECRET, reason=FEW_IN_GROUP, target=0.5), threshold=THRESHOLD
    ) == ("Objectif de 50\u202f% ; taux de la commune : chiffre non diffusé (secret statistique).")
    assert text.reached(Figure(SECRET, target=0.5)) is None
    assert text.target_sentence("R2", Figure(MISSING, target=0.5), threshold=THRESHOLD) == (
        "Aucune attribution n'entre dans la règle R2 cette année : pas de taux."
    )


def test_demand_pressure_and_offer_sentences():
    when = "au 31 décembre 2025"
    assert text.demand_sentence(
        NAME, when, False, count(456), share(56, 456), threshold=THRESHOLD
    ) == (
        "Au 31 décembre 2025, 456 demandes de logement social étaient en cours avec "
        "Exempleville en premier choix, dont 12,3\u202f% de ménages déjà locataires du parc social."
    )
    assert text.demand_sentence(
        NAME, when, False, count(1), Figure(SECRET, reason=FEW_IN_TOTAL), threshold=THRESHOLD
    ) == (
        "Au 31 décembre 2025, 1 demande de logement social était en cours avec Exempleville "
        "en premier choix."
    )
    assert text.demand_sentence(
        NAME, when, False, Figure(SECRET, reason=FEW_IN_TOTAL), Figure(SECRET), threshold=THRESHOLD
    ) == (
        "Demandes en cours au 31 décembre 2025 avec Exempleville en premier choix : moins de "
        "11 demandes : chiffre non diffusé (secret statistique)."
    )
    # This year's demand is counted today: present tense.
    assert text.demand_sentence(
        NAME, "à ce jour", True, count(2), Figure(SECRET), threshold=THRESHOLD
    ) == (
        "À ce jour, 2 demandes de logement social sont en cours avec Exempleville en premier choix."
    )
    assert text.demand_sentence(
        NAME, "à ce jour", True, count(0), count(0), threshold=THRESHOLD
    ) == (
        "À ce jour, aucune demande de logement social en cours ne place Exempleville en premier choix."
    )
    assert text.pressure_sentence(NAME, YEAR, Figure(VALUE, 3.74), threshold=THRESHOLD) == (
        "Pression de la demande : 3,7 demandes en cours pour une attribution dans l'année."
    )
    assert text.pressure_sentence(NAME, YEAR, Figure(VALUE, 1.5), threshold=THRESHOLD) == (
        "Pression de la demande : 1,5 demande en cours pour une attribution dans l'année."
    )
    assert text.pressure_sentence(NAME, YEAR, Figure(MISSING), threshold=THRESHOLD) == (
        "Aucune attribution à Exempleville en 2025 : la pression de la demande ne peut pas "
        "être calculée."
    )
    assert text.offer_sentence(NAME, 2025, count(2345), count(890)) == (
        "Au 1er janvier 2025, Exempleville comptait 2\u202f345 logements sociaux, dont 890 en "
        "quartier prioritaire (répertoire RPLS)."
    )
    assert text.offer_sentence(NAME, 2025, count(1), count(0)) == (
        "Au 1er janvier 2025, Exempleville comptait 1 logement social (répertoire RPLS)."
    )
