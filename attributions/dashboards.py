"""What each role sees of the bilan, built from `bilan` v1 documents (no HTTP here).

- a bailleur: its own indicators against its targets, with the gap in attributions;
- the secretariat and the prefecture: every bailleur, réservataire and commune, and trends;
- élus and members (aggregates only): conference figures and communes under statistical
  secrecy (no count of 1 to 10 households shown, none recomputable from what is shown).
"""

from dataclasses import dataclass

import pandas as pd

from attributions.charts import Bar, rate_bars, trend_lines
from attributions.indicators.bilan import gap
from attributions.indicators.secrecy import mask_indicator, suppress_table

RULES = {
    "r1_q1_hors_qpv": (
        "R1",
        "Attributions hors QPV aux ménages du 1er quartile ou relogés NPNRU",
        "attributions hors QPV au 1er quartile ou à des relogements NPNRU",
    ),
    "r2_hors_q1_en_qpv": (
        "R2",
        "Attributions en QPV aux ménages hors 1er quartile",
        "attributions en QPV à des ménages hors 1er quartile",
    ),
    "r3_prioritaires_non_reserve": (
        "R3",
        "Attributions du contingent non réservé aux ménages DALO ou prioritaires",
        "attributions de votre contingent non réservé à des ménages DALO ou prioritaires",
    ),
}
SHORT_LABELS = {
    "R1": "hors QPV → Q1 ou relogés",
    "R2": "en QPV → hors Q1",
    "R3": "non réservé → prioritaires",
}
SORT_KEYS = {
    "nom": lambda b: b["nom"].lower(),
    "attributions": lambda b: b["attributions"],
    "r1": lambda b: _sortable(b["r1_q1_hors_qpv"]["taux"]),
    "r2": lambda b: _sortable(b["r2_hors_q1_en_qpv"]["taux"]),
    "r3": lambda b: _sortable(b["r3_prioritaires_non_reserve"]["taux"]),
}


def _sortable(rate):
    return -1 if rate is None else rate


def _percent(value) -> str:
    return "—" if value is None else f"{value * 100:.1f} %".replace(".", ",")


@dataclass
class IndicatorView:
    code: str
    label: str
    numerator: int | None
    denominator: int | None
    rate: float | None
    target: float
    points: float | None
    missing: int
    sentence: str
    reached: bool | None
    secret: bool = False

    @property
    def rate_text(self) -> str:
        return _percent(self.rate)

    @property
    def target_text(self) -> str:
        return _percent(self.target)


def indicator_view(key: str, item: dict) -> IndicatorView:
    code, label, what = RULES[key]
    measured = gap(item)
    target_text = _percent(item["cible"])
    if not item["denominateur"]:
        sentence, reached = "Aucune attribution n'entre dans cet indicateur cette année.", None
    elif measured["manquantes"]:
        count = measured["manquantes"]
        plural = "s" if count > 1 else ""
        sentence = f"Il manque {count} attribution{plural} pour atteindre l'objectif de {target_text} ({what})."
        reached = False
    else:
        sentence, reached = f"Objectif de {target_text} atteint.", True
    return IndicatorView(
        code=code,
        label=label,
        numerator=item["numerateur"],
        denominator=item["denominateur"],
        rate=item["taux"],
        target=item["cible"],
        points=measured["points"],
        missing=measured["manquantes"],
        sentence=sentence,
        reached=reached,
    )


# --- A bailleur ---------------------------------------------------------------------------


def bailleur_view(document: dict, siren: str, history: list[dict]) -> dict | None:
    entry = next((b for b in document["par_bailleur"] if b["siren"] == siren), None)
    if entry is None:
        return None
    indicators = [indicator_view(key, entry[key]) for key in RULES]
    chart = rate_bars(
        [Bar(f"{i.code} — {SHORT_LABELS[i.code]}", i.rate, i.target) for i in indicators],
        title=f"Vos taux {document['annee']} et vos objectifs",
        description="; ".join(
            f"{i.code} : {i.rate_text} pour un objectif de {i.target_text}" for i in indicators
        ),
    )
    years = [d["annee"] for d in history]
    own = [next((b for b in d["par_bailleur"] if b["siren"] == siren), None) for d in history]
    trend_rows = [
        {"annee": year, **{key: (b[key]["taux"] if b else None) for key in RULES}}
        for year, b in zip(years, own, strict=True)
    ]
    trend = trend_lines(
        years,
        {RULES[key][0]: [row[key] for row in trend_rows] for key in RULES},
        target=None,
        title="Évolution de vos taux",
    )
    return {
        "entry": entry,
        "indicators": indicators,
        "chart": chart,
        "trend": trend,
        "trend_rows": trend_rows,
    }


# --- The secretariat and the prefecture --------------------------------------------------------


def detail_view(
    document: dict, history: list[dict], *, sort: str = "nom", descending: bool = False
) -> dict:
    bailleurs = sorted(
        document["par_bailleur"], key=SORT_KEYS.get(sort, SORT_KEYS["nom"]), reverse=descending
    )
    rows = [
        {
            "entry": b,
            "indicators": [indicator_view(key, b[key]) for key in RULES],
        }
        for b in bailleurs
    ]
    conference = [
        indicator_view(key, document[key]) for key in ("r1_q1_hors_qpv", "r2_hors_q1_en_qpv")
    ]
    r1_chart = rate_bars(
        [
            Bar(b["nom"], b["r1_q1_hors_qpv"]["taux"], b["r1_q1_hors_qpv"]["cible"])
            for b in bailleurs
        ],
        title=f"R1 par bailleur en {document['annee']}",
        description="Taux d'attributions hors QPV aux ménages du premier quartile ou relogés, par bailleur, et objectif de chacun",
    )
    r2_chart = rate_bars(
        [
            Bar(b["nom"], b["r2_hors_q1_en_qpv"]["taux"], b["r2_hors_q1_en_qpv"]["cible"])
            for b in bailleurs
        ],
        title=f"R2 par bailleur en {document['annee']}",
        description="Taux d'attributions en QPV aux ménages hors premier quartile, par bailleur, et objectif de chacun",
    )
    return {
        "bailleurs": rows,
        "conference": conference,
        "reservataires": [
            {
                "entry": r,
                "indicator": indicator_view("r3_prioritaires_non_reserve", r["r3_prioritaires"]),
            }
            for r in document["par_reservataire"]
        ],
        "communes": document["par_commune"],
        "r1_chart": r1_chart,
        "r2_chart": r2_chart,
        **conference_trend(history),
    }


def conference_trend(history: list[dict]) -> dict:
    years = [d["annee"] for d in history]
    rows = [
        {
            "annee": d["annee"],
            "r1": d["r1_q1_hors_qpv"],
            "r2": d["r2_hors_q1_en_qpv"],
            "total": d["total"]["attributions"],
        }
        for d in history
    ]
    charts = {
        key: trend_lines(
            years,
            {f"{code} — conférence": [d[key]["taux"] for d in history]},
            target=history[-1][key]["cible"] if history else None,
            title=f"{code} : évolution sur le territoire",
        )
        for key, (code, _label, _what) in RULES.items()
        if key != "r3_prioritaires_non_reserve"
    }
    return {
        "trend_rows": rows,
        "trend_r1": charts["r1_q1_hors_qpv"],
        "trend_r2": charts["r2_hors_q1_en_qpv"],
    }


# --- Aggregates only (élus, members, open data) --------------------------------------------


def _masked_rate(commune: dict, key: str, numerators: dict, *, threshold: int) -> dict:
    """A commune's indicator under primary secrecy, hidden too when its numerator is a
    secondary suppression of the numerators' column."""
    shown = mask_indicator(commune[key], threshold=threshold)
    if key in numerators and numerators[key].loc[commune["insee"], key]:
        shown.update(numerateur=None, taux=None, secret=True)
    return shown


def aggregate_view(document: dict, commune_names: dict[str, str], *, threshold: int) -> dict:
    """Conference figures and communes with statistical secrecy applied."""
    total = document["total"]
    counts = pd.DataFrame(
        [
            [c["r1_q1_hors_qpv"]["denominateur"], c["r2_hors_q1_en_qpv"]["denominateur"]]
            for c in document["par_commune"]
        ],
        index=[c["insee"] for c in document["par_commune"]],
        columns=["hors_qpv", "en_qpv"],
    )
    table = suppress_table(counts, threshold=threshold) if len(counts) else None
    # The rates' numerators add up to the conference's numerator, which is shown: a commune's
    # numerator hidden alone could be recomputed as the total minus the others. Each
    # numerator column goes through the same secondary suppression, with its total.
    numerators = {
        key: suppress_table(
            pd.DataFrame(
                [[c[key]["numerateur"]] for c in document["par_commune"]],
                index=counts.index,
                columns=[key],
            ),
            threshold=threshold,
        ).mask
        for key in ("r1_q1_hors_qpv", "r2_hors_q1_en_qpv")
        if len(counts)
    }
    communes = []
    for commune in document["par_commune"]:
        insee = commune["insee"]
        hidden = table.mask.loc[insee] if table is not None else {}
        values = table.values.loc[insee] if table is not None else {}
        r1 = _masked_rate(commune, "r1_q1_hors_qpv", numerators, threshold=threshold)
        r2 = _masked_rate(commune, "r2_hors_q1_en_qpv", numerators, threshold=threshold)
        communes.append(
            {
                "insee": insee,
                "nom": commune_names.get(insee, insee),
                "attributions": None if hidden["Total"] else int(values["Total"]),
                "hors_qpv": None if hidden["hors_qpv"] else int(values["hors_qpv"]),
                "en_qpv": None if hidden["en_qpv"] else int(values["en_qpv"]),
                # A rate is shown only when its own counts may be and its denominator is.
                "r1": r1["taux"],
                "r1_secret": r1["secret"] or bool(hidden["hors_qpv"]),
                "r2": r2["taux"],
                "r2_secret": r2["secret"] or bool(hidden["en_qpv"]),
                "r1_cible": commune["r1_q1_hors_qpv"]["cible"],
                "r2_cible": commune["r2_hors_q1_en_qpv"]["cible"],
            }
        )
    totals_row = table.values.loc["Total"] if table is not None else None
    totals_hidden = table.mask.loc["Total"] if table is not None else None
    conference = {}
    for key, column in (("r1_q1_hors_qpv", "hors_qpv"), ("r2_hors_q1_en_qpv", "en_qpv")):
        shown = mask_indicator(document[key], threshold=threshold)
        numerator_hidden = key in numerators and bool(numerators[key].loc["Total", key])
        if numerator_hidden or (totals_hidden is not None and totals_hidden[column]):
            shown.update(numerateur=None, denominateur=None, taux=None, secret=True)
        conference[key] = shown
    attributions = total["attributions"]
    figures = []
    for key, label in (
        ("dalo", "ménages DALO"),
        ("prioritaires", "ménages DALO ou prioritaires"),
        ("mutations", "mutations"),
        ("relogements_npnru", "relogements NPNRU"),
        ("revenu_inconnu", "revenu inconnu"),
    ):
        shown = mask_indicator(
            {"numerateur": total[key], "denominateur": attributions, "taux": None},
            threshold=threshold,
        )
        figures.append({"label": label, "value": shown["numerateur"], "secret": shown["secret"]})
    return {
        "communes": communes,
        "conference": {key: {**item, **_rate_text(item)} for key, item in conference.items()},
        "attributions": None
        if totals_hidden is not None and totals_hidden["Total"]
        else attributions,
        "hors_qpv": None
        if totals_hidden is not None and totals_hidden["hors_qpv"]
        else (int(totals_row["hors_qpv"]) if totals_row is not None else 0),
        "en_qpv": None
        if totals_hidden is not None and totals_hidden["en_qpv"]
        else (int(totals_row["en_qpv"]) if totals_row is not None else 0),
        "figures": figures,
        "threshold": threshold,
    }


def _rate_text(item: dict) -> dict:
    return {"taux_texte": _percent(item["taux"]), "cible_texte": _percent(item["cible"])}


# --- Export tables -------------------------------------------------------------------------


def export_table(
    name: str, document: dict, *, commune_names: dict[str, str], aggregate: dict | None = None
):
    """(header, rows) of a table of the page, for CSV/XLSX. `aggregate` given: the secrecy-applied
    communes table (aggregate-only roles), with « s » for hidden values."""
    if name == "communes" and aggregate is not None:
        header = [
            "Code INSEE",
            "Commune",
            "Attributions",
            "Hors QPV",
            "En QPV",
            "Taux R1",
            "Taux R2",
        ]
        rows = [
            [
                c["insee"],
                c["nom"],
                *(
                    ("s" if c[k] is None else c[k])
                    for k in ("attributions", "hors_qpv", "en_qpv", "r1", "r2")
                ),
            ]
            for c in aggregate["communes"]
        ]
        return header, rows
    if name == "bailleurs":
        header = ["SIREN", "Bailleur", "Attributions"]
        for key in RULES:
            code = RULES[key][0]
            header += [
                f"{code} numérateur",
                f"{code} dénominateur",
                f"{code} taux",
                f"{code} objectif",
                f"{code} attributions manquantes",
            ]
        rows = []
        for b in document["par_bailleur"]:
            row = [b["siren"], b["nom"], b["attributions"]]
            for key in RULES:
                item = b[key]
                row += [
                    item["numerateur"],
                    item["denominateur"],
                    item["taux"],
                    item["cible"],
                    gap(item)["manquantes"],
                ]
            rows.append(row)
        return header, rows
    if name == "reservataires":
        header = [
            "Réservataire",
            "SIREN",
            "R3 numérateur",
            "R3 dénominateur",
            "R3 taux",
            "R3 objectif",
        ]
        rows = [
            [
                r["reservataire"],
                r["siren"] or "",
                *(r["r3_prioritaires"][k] for k in ("numerateur", "denominateur", "taux", "cible")),
            ]
            for r in document["par_reservataire"]
        ]
        return header, rows
    if name == "communes":
        header = [
            "Code INSEE",
            "Commune",
            "Attributions",
            "R1 numérateur",
            "R1 dénominateur",
            "R1 taux",
            "R2 numérateur",
            "R2 dénominateur",
            "R2 taux",
        ]
        rows = [
            [
                c["insee"],
                commune_names.get(c["insee"], ""),
                c["attributions"],
                *(c["r1_q1_hors_qpv"][k] for k in ("numerateur", "denominateur", "taux")),
                *(c["r2_hors_q1_en_qpv"][k] for k in ("numerateur", "denominateur", "taux")),
            ]
            for c in document["par_commune"]
        ]
        return header, rows
    raise KeyError(name)
