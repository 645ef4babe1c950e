"""The catalogue of the aggregates a conference may publish as open data: for each dataset
its key (in URLs and files), French title and description, its data dictionary (the
columns, with French labels, types and units), the years it exists for, the function
producing its table for a conference and a year, and the count columns subject to
statistical secrecy (domain.md §4: no count of fewer than 11 households; rates built on a
hidden count are hidden too — `observatoire.opendata.tables`).

Only aggregates: nothing here is household-level.
"""

from collections.abc import Callable
from dataclasses import dataclass

from cil.models import Conference
from observatoire.opendata import data, tables, tables_demand
from observatoire.opendata.book import Line

TEXT, INTEGER, DECIMAL = "texte", "entier", "décimal"
SHARE = "part (de 0 à 1)"


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    type: str
    unit: str = ""
    description: str = ""
    # A count of households, or a value computed from one: hidden under the threshold.
    secret: bool = False


@dataclass(frozen=True)
class Dataset:
    key: str
    title: str
    description: str
    # What the year means for this dataset (the year of the leases, the stock at 31
    # December, the RPLS millésime).
    year_label: str
    columns: tuple[Column, ...]
    years: Callable[[Conference], list[int]]
    build: Callable[[data.YearData], list[Line]]

    @property
    def secret_columns(self) -> tuple[str, ...]:
        return tuple(column.key for column in self.columns if column.secret)

    @property
    def count_columns(self) -> tuple[str, ...]:
        """The count columns subject to secrecy (the others of `secret_columns` are rates
        or indices built on them)."""
        return tuple(c.key for c in self.columns if c.secret and c.type == INTEGER)


def _level(*values: str) -> Column:
    listed = ", ".join(f"« {v} »" for v in values)
    return Column("niveau", "Niveau", TEXT, description=f"Niveau de la ligne : {listed}.")


def _count(key: str, label: str, description: str, unit: str = "ménages") -> Column:
    return Column(key, label, INTEGER, unit, description, secret=True)


def _share(key: str, label: str, description: str) -> Column:
    return Column(key, label, DECIMAL, SHARE, description, secret=True)


COMMUNE = Column("code_insee", "Code INSEE", TEXT, description="Code officiel géographique.")
COMMUNE_NAME = Column("commune", "Commune", TEXT)


def _pressure_lines(year_data: data.YearData) -> list[Line]:
    return tables_demand.pressure_lines(
        year_data.demand_book,
        year_data.attribution_book,
        year_data.pressure,
        year_data.commune_names,
    )


def _offer_lines(year_data: data.YearData) -> list[Line]:
    detail, total = year_data.offer_tables()
    return tables_demand.offer_lines(detail, total, year_data.commune_names)


ATTRIBUTION_YEAR = "année de signature du bail"
TYPOLOGY_LABELS = {"": "typologie non précisée", "T6+": "T6 et plus"}

DATASETS: tuple[Dataset, ...] = (
    Dataset(
        key="attributions-communes",
        title="Attributions de logements sociaux par commune",
        description=(
            "Attributions suivies d'un bail signé dans l'année, par commune du logement : "
            "nombre, hors et en quartier prioritaire (QPV), part des attributions hors QPV "
            "aux ménages du premier quartile de revenus ou relogés au titre du renouvellement "
            "urbain (règle R1, CCH L.441-1), part des attributions en QPV aux ménages hors "
            "premier quartile (règle R2), part des ménages reconnus DALO."
        ),
        year_label=ATTRIBUTION_YEAR,
        columns=(
            _level("commune", "ensemble"),
            COMMUNE,
            COMMUNE_NAME,
            _count("attributions", "Attributions", "Attributions suivies d'un bail signé."),
            _count("attributions_hors_qpv", "Attributions hors QPV", "Logement hors QPV."),
            _count("attributions_en_qpv", "Attributions en QPV", "Logement en QPV."),
            _share(
                "part_q1_hors_qpv",
                "Part Q1 ou relogés hors QPV (R1)",
                "Attributions hors QPV aux ménages du premier quartile ou relogés NPNRU / "
                "attributions hors QPV. Objectif légal : 25 %.",
            ),
            _share(
                "part_hors_q1_en_qpv",
                "Part hors Q1 en QPV (R2)",
                "Attributions en QPV aux ménages hors premier quartile (revenu connu) / "
                "attributions en QPV. Objectif légal : 50 %.",
            ),
            _share("part_dalo", "Part DALO", "Attributions aux ménages DALO / attributions."),
        ),
        years=data.attribution_years,
        build=lambda d: tables.commune_lines(d.attribution_book, d.commune_names),
    ),
    Dataset(
        key="attributions-qpv",
        title="Attributions de logements sociaux par quartier prioritaire",
        description=(
            "Attributions suivies d'un bail signé dans l'année dans chaque quartier "
            "prioritaire de la politique de la ville (liste en vigueur l'année du bail) : "
            "nombre, part des ménages hors premier quartile (règle R2), part des ménages DALO."
        ),
        year_label=ATTRIBUTION_YEAR,
        columns=(
            _level("qpv", "ensemble"),
            Column("code_qpv", "Code du QPV", TEXT),
            Column("qpv", "Quartier prioritaire", TEXT),
            Column(
                "communes",
                "Communes",
                TEXT,
                description="Codes INSEE des communes du quartier, séparés par une espace.",
            ),
            _count("attributions", "Attributions", "Attributions suivies d'un bail signé."),
            _share(
                "part_hors_q1",
                "Part hors Q1 (R2)",
                "Attributions aux ménages hors premier quartile (revenu connu) / attributions.",
            ),
            _share("part_dalo", "Part DALO", "Attributions aux ménages DALO / attributions."),
        ),
        years=data.attribution_years,
        build=lambda d: tables.qpv_lines(d.attribution_book, d.qpvs),
    ),
    Dataset(
        key="indicateurs-attributions",
        title="Taux d'attribution de la conférence (R1, R2, R3)",
        description=(
            "Les taux de l'année sur tout le territoire, avec leurs effectifs et l'objectif "
            "en vigueur : R1 et R2 (CCH L.441-1), R3 tous contingents confondus (part des "
            "ménages DALO ou prioritaires), part des ménages DALO, part des mutations. Les "
            "mêmes effectifs que le bilan annuel."
        ),
        year_label=ATTRIBUTION_YEAR,
        columns=(
            Column("indicateur", "Indicateur", TEXT, description="r1, r2, r3, dalo, mutations."),
            Column("libelle", "Libellé", TEXT),
            _count("numerateur", "Numérateur", "Attributions comptées dans le taux."),
            _count("denominateur", "Dénominateur", "Attributions sur lesquelles porte le taux."),
            _share("taux", "Taux", "Numérateur / dénominateur."),
            Column(
                "cible",
                "Objectif",
                DECIMAL,
                SHARE,
                "Objectif en vigueur pour la conférence (vide sans objectif).",
            ),
        ),
        years=data.attribution_years,
        build=lambda d: tables.indicator_lines(d.attribution_book, d.targets),
    ),
    Dataset(
        key="indices-segregation",
        title="Indices de ségrégation des ménages du premier quartile",
        description=(
            "Indice de dissimilarité (Duncan) et indice d'entropie de Theil des ménages du "
            "premier quartile de revenus parmi les attributions de l'année, entre les unités "
            "du territoire : chaque QPV et la partie hors QPV de chaque commune. Ménages de "
            "revenu connu. Les unités comptant de 1 à 10 ménages d'un groupe sont regroupées "
            "(secret statistique), ce qui peut légèrement minorer les indices."
        ),
        year_label=ATTRIBUTION_YEAR,
        columns=(
            Column(
                "unites", "Unités", INTEGER, "unités", "Unités territoriales après regroupement."
            ),
            _count("menages_q1", "Ménages Q1", "Attributions aux ménages du premier quartile."),
            _count(
                "menages_hors_q1",
                "Ménages hors Q1",
                "Attributions aux ménages de revenu connu hors premier quartile.",
            ),
            Column(
                "indice_dissimilarite",
                "Indice de dissimilarité",
                DECIMAL,
                "indice (de 0 à 1)",
                "Part des ménages Q1 qui devraient changer d'unité pour une répartition égale.",
                secret=True,
            ),
            Column(
                "indice_theil",
                "Indice de Theil",
                DECIMAL,
                "indice (de 0 à 1)",
                "Indice d'entropie (0 : même composition partout ; 1 : séparation complète).",
                secret=True,
            ),
        ),
        years=data.attribution_years,
        build=lambda d: tables.index_lines(
            d.attribution_book, d.attribution_frame, threshold=d.threshold
        ),
    ),
    Dataset(
        key="demandes-communes-typologies",
        title="Demandes de logement social actives par commune et typologie",
        description=(
            "Demandes actives au 31 décembre (enregistrées au système national "
            "d'enregistrement, non radiées), par première commune souhaitée et par typologie "
            "de logement souhaitée."
        ),
        year_label="situation au 31 décembre",
        columns=(
            _level("commune", "ensemble"),
            COMMUNE,
            COMMUNE_NAME,
            *(
                _count(
                    tables_demand.typology_column(typologie),
                    f"Demandes {TYPOLOGY_LABELS.get(typologie, typologie)}",
                    "Demandes actives de cette typologie souhaitée.",
                    unit="demandes (ménages)",
                )
                for typologie in tables_demand.TYPOLOGIES
            ),
            _count("demandes", "Demandes", "Demandes actives.", unit="demandes (ménages)"),
        ),
        years=data.demand_years,
        build=lambda d: tables_demand.demand_lines(d.demand_book, d.commune_names),
    ),
    Dataset(
        key="pression-communes",
        title="Pression de la demande par commune",
        description=(
            "Taux de pression : demandes actives au 31 décembre (première commune souhaitée) "
            "pour une attribution suivie d'un bail signé dans l'année (commune du logement)."
        ),
        year_label="année (demandes au 31 décembre, baux signés dans l'année)",
        columns=(
            _level("commune", "ensemble"),
            COMMUNE,
            COMMUNE_NAME,
            _count("demandes_actives", "Demandes actives", "Demandes actives au 31 décembre."),
            _count("attributions", "Attributions", "Attributions suivies d'un bail signé."),
            Column(
                "pression",
                "Pression",
                DECIMAL,
                "demandes par attribution",
                "Demandes actives / attributions (vide sans attribution).",
                secret=True,
            ),
        ),
        years=data.pressure_years,
        build=_pressure_lines,
    ),
    Dataset(
        key="offre-logements",
        title="Parc de logements sociaux par commune, typologie et financement",
        description=(
            "Logements sociaux du répertoire des logements locatifs des bailleurs sociaux "
            "(RPLS) au 1er janvier. Ce sont des logements, pas des ménages, et le RPLS est "
            "lui-même publié en données ouvertes : pas de secret statistique."
        ),
        year_label="millésime RPLS (parc au 1er janvier)",
        columns=(
            _level("detail", "ensemble"),
            COMMUNE,
            COMMUNE_NAME,
            Column("typologie", "Typologie", TEXT, description="T1 à T5, T6+ (pièces)."),
            Column("financement", "Financement", TEXT, description="PLAI, PLUS, PLS, PLI, autre."),
            Column("logements", "Logements", INTEGER, "logements"),
            Column("logements_en_qpv", "Logements en QPV", INTEGER, "logements"),
        ),
        years=data.offer_years,
        build=_offer_lines,
    ),
)

CATALOGUE: dict[str, Dataset] = {dataset.key: dataset for dataset in DATASETS}


def get(key: str) -> Dataset | None:
    return CATALOGUE.get(key)
