"""Demo attributions: three years for each demo conference, with bailleurs above and below
their targets, so the dashboards tell a story. Deterministic (seeded) and idempotent.

Households are drawn per bailleur profile (how often a household outside QPV is in the first
quartile, how often a household in QPV is not, …); their Q1 status is then derived from the
drawn income by the real rules, like any reported line.
"""

import datetime
import random
from dataclasses import dataclass
from decimal import Decimal

from attributions import derivation, rules
from attributions.models import Attribution, RuleRates
from cil.tenancy import conference_scope

YEARS = (2024, 2025, 2026)


@dataclass(frozen=True)
class Profile:
    volume: int  # attributions a year
    q1_outside_qpv: tuple[float, float, float]  # probability per year (a trend)
    non_q1_in_qpv: float
    share_in_qpv: float
    prioritaire: float


# Val-de-Seine: Val-de-Seine Habitat improves and passes R1 in 2026; Caux Logement stays
# well below R1; the SEM of Seineville lodges too many Q1 households in its QPV (R2).
PROFILES = {
    "agglo-val-de-seine": {
        "277690012": Profile(620, (0.21, 0.24, 0.28), 0.55, 0.38, 0.30),  # Val-de-Seine Habitat
        "572990018": Profile(420, (0.27, 0.29, 0.30), 0.58, 0.22, 0.27),  # Boucles de Seine
        "572990026": Profile(380, (0.14, 0.15, 0.17), 0.52, 0.18, 0.20),  # Caux Logement
        "302990015": Profile(260, (0.26, 0.25, 0.27), 0.36, 0.55, 0.24),  # SEM de Seineville
        "572990042": Profile(150, (0.30, 0.31, 0.33), 0.60, 0.10, 0.29),  # Toits de l'Andelle
        "572990034": Profile(170, (0.24, 0.26, 0.26), 0.50, 0.20, 0.26),  # Immobilière du Littoral
    },
    "cu-littoral-nord": {
        "277690020": Profile(260, (0.19, 0.22, 0.25), 0.47, 0.35, 0.27),  # Littoral Habitat
        "572990059": Profile(140, (0.27, 0.26, 0.29), 0.55, 0.25, 0.22),  # Falaises et Vallées
        "572990034": Profile(90, (0.25, 0.27, 0.24), 0.50, 0.20, 0.25),  # Immobilière du Littoral
    },
}
RESERVATAIRES = [
    ("etat_prioritaires", 0.24),
    ("etat_fonctionnaires", 0.03),
    ("action_logement", 0.26),
    ("commune", 0.12),
    ("epci", 0.04),
    ("departement", 0.02),
    ("non_reserve", 0.29),
]
TYPOLOGIES = [("T1", 0.12), ("T2", 0.27), ("T3", 0.33), ("T4", 0.2), ("T5", 0.06), ("T6+", 0.02)]
FINANCEMENTS = [("PLAI", 0.22), ("PLUS", 0.63), ("PLS", 0.12), ("PLI", 0.03)]


def _pick(rng: random.Random, weighted):
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _household(
    rng: random.Random, *, q1: bool, threshold: Decimal, reference: derivation.Reference
):
    size = rng.choices([1, 2, 3, 4, 5, 6], weights=[34, 25, 18, 13, 7, 3])[0]
    children = rng.randint(0, size - 1) if size > 1 and rng.random() < 0.6 else 0
    uc = rules.consumption_units(size, children, reference.uc_scale)
    per_uc = (
        rng.uniform(1500, float(threshold) * 0.97)
        if q1
        else rng.uniform(float(threshold) * 1.03, 26000)
    )
    return size, children, (Decimal(str(per_uc)) * uc).quantize(Decimal("1"))


def add_attributions(ctx) -> None:
    """Demo step (cil.demo.DEMO_STEPS): skipped for a conference that already has lines."""
    for slug, profiles in PROFILES.items():
        conference = ctx.conferences[slug]
        with conference_scope(conference):
            if Attribution.objects.exists():
                continue
            created = _fill(conference, profiles, seed=slug)
            if slug == "agglo-val-de-seine":
                # The conference's orientations raise R2 for 2026 (a per-year rate).
                RuleRates.objects.update_or_create(
                    year=2026, defaults={"conference": conference, "target_r2": Decimal("0.55")}
                )
        ctx.log(f"{slug} — attributions : {created} créées ({', '.join(map(str, YEARS))})")


def _fill(conference, profiles: dict[str, Profile], *, seed: str) -> int:
    rng = random.Random(seed)  # noqa: S311 - demo data, not security
    reference = derivation.load_reference(conference)
    communes = sorted(reference.communes)
    qpvs_by_year = {
        year: [
            (code, sorted(q.communes))
            for code, q in sorted(reference.qpvs.items())
            if year in q.years
        ]
        for year in YEARS
    }
    rows = []
    for siren, profile in profiles.items():
        for year_index, year in enumerate(YEARS):
            threshold, _ = reference.threshold_for(year)
            # 2026 is the current year: leases up to mid-November.
            last_day = 320 if year == 2026 else 365
            for n in range(int(profile.volume * (0.85 if year == 2026 else 1))):
                in_qpv = rng.random() < profile.share_in_qpv and qpvs_by_year[year]
                if in_qpv:
                    code, qpv_communes = rng.choice(qpvs_by_year[year])
                    insee = rng.choice(qpv_communes)
                    q1 = rng.random() >= profile.non_q1_in_qpv
                else:
                    code, insee = "", rng.choice(communes)
                    q1 = rng.random() < profile.q1_outside_qpv[year_index]
                size, children, income = _household(
                    rng, q1=q1, threshold=threshold, reference=reference
                )
                reservataire = _pick(rng, RESERVATAIRES)
                dalo = rng.random() < (0.35 if reservataire == "etat_prioritaires" else 0.04)
                prioritaire = dalo or rng.random() < (
                    0.85 if reservataire == "etat_prioritaires" else profile.prioritaire * 0.6
                )
                day = rng.randint(1, last_day)
                values = {
                    "reference": f"{siren[:4]}-{year}-{n:05d}",
                    "bailleur_siren": siren,
                    "date_signature_bail": _date(year, day),
                    "commune_insee": insee,
                    "qpv_code": code,
                    "numero_unique": f"0{insee}{year % 100:02d}{n:07d}"[:18],
                    "rpls_id": "",
                    "typologie": _pick(rng, TYPOLOGIES),
                    "financement": _pick(rng, FINANCEMENTS),
                    "reservataire": reservataire,
                    "reservataire_siren": "",
                    "nb_personnes": size,
                    "nb_enfants_moins_14": children,
                    # About 3 % of lines arrive without the household's income.
                    "revenu_annuel": None if rng.random() < 0.03 else income,
                    "revenu_par_uc": None,
                    "dalo": dalo,
                    "prioritaire": prioritaire,
                    "relogement_npnru": (not in_qpv) and rng.random() < 0.025,
                    "mutation": rng.random() < 0.24,
                }
                fields, problems = derivation.derive(values, reference)
                if problems:
                    raise ValueError(f"Donnée de démonstration invalide : {problems}")
                rows.append(Attribution(conference=conference, **fields))
    Attribution.objects.bulk_create(rows, batch_size=2000)
    return len(rows)


def _date(year: int, day_of_year: int) -> datetime.date:
    return datetime.date(year, 1, 1) + datetime.timedelta(days=day_of_year - 1)
