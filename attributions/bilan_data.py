"""What the bilan is computed from, read from the database, and the two ways to compute it:

- one conference (`compute`): the year's attributions as one frame and the conference's
  settings, then the pure pandas `attributions.indicators.bilan.compute_bilan`; this is what
  the pages, the API and `manage.py bilan` use (through the stored copy, `bilan_cache`);
- every conference of the platform (`national_bilans`, for the State's national follow-up,
  `manage.py bilan_national`): the counts by ONE SQL query, then the same document builder
  (`bilan.build_documents`). Both give the same documents (tests/attributions/
  test_bilan_national.py).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd
from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q

from attributions import derivation
from attributions.indicators import bilan
from attributions.models import (
    DEFAULT_TARGET_R1,
    DEFAULT_TARGET_R2,
    DEFAULT_TARGET_R3,
    Attribution,
    Q1Threshold,
    RuleRates,
)
from cil.models import Commune, Conference, Membership, Organisation, OrganisationType
from cil.tenancy import conference_scope, unscoped

# Frame column (`bilan.COLUMNS`, same order) -> query expression.
FRAME_FIELDS = {
    "bailleur_siren": "bailleur__siren",
    "commune_insee": "commune__insee",
    "in_qpv": "in_qpv",
    "is_q1": "is_q1",
    "income_known": "income_known",
    "dalo": "dalo",
    "prioritaire": "prioritaire",
    "relogement_npnru": "relogement_npnru",
    "mutation": "mutation",
    "reservataire": "reservataire",
    "reservataire_siren": "reservataire_siren",
}


@dataclass(frozen=True)
class BilanInputs:
    """A conference's settings for a year, as `bilan.compute_bilan` takes them."""

    threshold: Decimal | None
    # The year's arrêté is not published yet: the previous year's value applies (flag it).
    threshold_provisional: bool
    rates: dict[str, Decimal]
    objectives: dict[tuple[str, int], dict[str, Decimal]]
    bailleurs: list[tuple[str, str]]
    communes: list[str]
    reservataire_objectives: dict[tuple[str, str | None], Decimal] = field(default_factory=dict)

    def for_documents(self) -> bilan.ConferenceInputs:
        """These settings as the document builder (`bilan.build_documents`) takes them."""
        return bilan.ConferenceInputs(
            threshold=self.threshold,
            rates=self.rates,
            objectives=self.objectives,
            bailleurs=self.bailleurs,
            communes=self.communes,
            reservataire_objectives=self.reservataire_objectives,
        )


def attribution_frame(conference: Conference, year: int) -> pd.DataFrame:
    """One row per attribution whose lease was signed in `year` (the frame of
    `attributions.indicators.bilan`), in one query."""
    with conference_scope(conference):
        rows = list(
            Attribution.objects.filter(year=year)
            .annotate(
                income_known=ExpressionWrapper(
                    Q(annual_income__isnull=False) | Q(given_income_per_uc__isnull=False),
                    output_field=BooleanField(),
                )
            )
            .order_by()
            .values_list(*FRAME_FIELDS.values())
        )
    frame = pd.DataFrame.from_records(rows, columns=list(FRAME_FIELDS))
    # True / False / NA (« non classable »): the nullable boolean keeps the three states.
    frame["is_q1"] = frame["is_q1"].astype("boolean")
    for name in ("in_qpv", "income_known", "dalo", "prioritaire", "relogement_npnru", "mutation"):
        frame[name] = frame[name].astype(bool)
    return frame


def cia_objectives(conference: Conference, year: int) -> dict[tuple[str, int], dict[str, Any]]:
    """The CIA's objectives per bailleur for `year`: {(SIREN, year): {"r1"|"r2"|"r3": rate}}."""
    return cia_objectives_by_conference([conference.pk], year).get(conference.pk, {})


def cia_objectives_by_conference(
    conference_ids: Iterable[int], year: int
) -> dict[int, dict[tuple[str, int], dict[str, Any]]]:
    """The CIA's objectives of several conferences for `year`, in one query: {conference id:
    {(SIREN, year): {"r1"|"r2"|"r3": rate}}}; a conference without any may be missing.

    From the convention intercommunale d'attribution (CCH L.441-1-6): the version in force
    for the year (signed or in force, latest effective on or before 31 December; a draft
    never counts), territory-wide objectives; a bailleur or a rate without objective keeps
    the conference's rate. The one place: `cia_objectives` and the national path both read
    it (rule and query: conventions/selectors_cia.py)."""
    # Imported here: the conventions app builds on attributions, not the other way round.
    from conventions.selectors_cia import objectives_for_bilan

    return objectives_for_bilan(conference_ids, year)


def cia_reservataire_objectives(
    conference: Conference, year: int
) -> dict[tuple[str, str | None], Decimal]:
    """The CIA's R3 objectives per réservataire for `year`: {(contingent code, SIREN or
    None): rate}."""
    return cia_reservataire_objectives_by_conference([conference.pk], year).get(conference.pk, {})


def cia_reservataire_objectives_by_conference(
    conference_ids: Iterable[int], year: int
) -> dict[int, dict[tuple[str, str | None], Decimal]]:
    """The CIA's R3 objectives of the réservataires of several conferences for `year`, in one
    query: {conference id: {(contingent code, SIREN or None): rate}}. CCH L.441-1-6 3°: each
    réservataire's contribution; it replaces the conference's R3 rate as the `cible` of that
    réservataire's line of the bilan. The one place for both paths, like
    `cia_objectives_by_conference` (rule and query: conventions/selectors_cia.py)."""
    from conventions.selectors_cia import reservataire_objectives_for_bilan

    return reservataire_objectives_for_bilan(conference_ids, year)


def _rates(row: tuple[Decimal, Decimal, Decimal] | None) -> dict[str, Decimal]:
    """The conference's rates for the year (its `RuleRates` row), legal defaults without."""
    if row is None:
        return {"r1": DEFAULT_TARGET_R1, "r2": DEFAULT_TARGET_R2, "r3": DEFAULT_TARGET_R3}
    return dict(zip(("r1", "r2", "r3"), row, strict=True))


def _threshold(conference_id: int, thresholds: dict[int, Decimal], year: int):
    """(threshold, provisional) for `year` from the conference's register {year: value}."""
    reference = derivation.Reference(
        conference_id=conference_id, communes={}, qpvs={}, bailleurs={}, thresholds=thresholds
    )
    return reference.threshold_for(year)


def bilan_inputs(conference: Conference, year: int) -> BilanInputs:
    """The threshold (the previous year's applies provisionally, as for Q1 status), the
    rates (legal defaults when the conference set none), the CIA's objectives (bailleurs and
    réservataires), the bailleurs and the communes."""
    with conference_scope(conference):
        thresholds = dict(Q1Threshold.objects.values_list("year", "value"))
        threshold, provisional = _threshold(conference.pk, thresholds, year)
        rates = (
            RuleRates.objects.filter(year=year)
            .values_list("target_r1", "target_r2", "target_r3")
            .first()
        )
        members = dict(
            Membership.objects.filter(organisation__type=OrganisationType.BAILLEUR).values_list(
                "organisation__siren", "organisation__name"
            )
        )
        # A former member's attributions still count: list it under its name.
        reporting = Attribution.objects.filter(year=year).values("bailleur_id")
        former = dict(
            Organisation.objects.filter(pk__in=reporting)
            .exclude(siren__in=members)
            .values_list("siren", "name")
        )
        communes = list(Commune.objects.order_by("insee").values_list("insee", flat=True))
    return BilanInputs(
        threshold=threshold,
        threshold_provisional=provisional,
        rates=_rates(rates),
        objectives=cia_objectives(conference, year),
        bailleurs=sorted({**members, **former}.items()),
        communes=communes,
        reservataire_objectives=cia_reservataire_objectives(conference, year),
    )


def compute(conference: Conference, year: int) -> dict:
    """The `bilan` v1 document of a conference for a year, computed now (not from the
    cache)."""
    inputs = bilan_inputs(conference, year)
    return bilan.compute_bilan(
        attribution_frame(conference, year),
        conference_slug=conference.slug,
        year=year,
        threshold=inputs.threshold,
        rates=inputs.rates,
        objectives=inputs.objectives,
        bailleurs=inputs.bailleurs,
        communes=inputs.communes,
        reservataire_objectives=inputs.reservataire_objectives,
    )


# --- Every conference of the platform: the national path ------------------------------------

_ATTRIBUTIONS = Attribution._meta.db_table
_ORGANISATIONS = Organisation._meta.db_table
_COMMUNES = Commune._meta.db_table
_CONFERENCES = Conference._meta.db_table

# The counts of `bilan.flags`, in `bilan.COUNTS` order (the same definitions: change both
# together; tests/attributions/test_bilan_national.py checks that they agree).
_COUNTS_SQL = {
    "attributions": "count(*)",
    "hors_qpv": "count(*) FILTER (WHERE NOT a.in_qpv)",
    "en_qpv": "count(*) FILTER (WHERE a.in_qpv)",
    # « Revenu inconnu »: neither an annual income nor a given income per UC was reported.
    "revenu_inconnu": (
        "count(*) FILTER (WHERE a.annual_income IS NULL AND a.given_income_per_uc IS NULL)"
    ),
    "dalo": "count(*) FILTER (WHERE a.dalo)",
    # CCH L.441-1: a DALO household is a priority household.
    "prioritaires": "count(*) FILTER (WHERE a.prioritaire OR a.dalo)",
    "mutations": "count(*) FILTER (WHERE a.mutation)",
    "relogements_npnru": "count(*) FILTER (WHERE a.relogement_npnru)",
    # CCH L.441-1 (R1): outside QPV, to Q1 households or to households rehoused by urban
    # renewal (NPNRU/ORCOD) whatever their income, even unknown (is_q1 NULL). An EPCI without
    # any QPV applies R1 to all its attributions: then every row is outside QPV.
    "r1_num": "count(*) FILTER (WHERE NOT a.in_qpv AND (a.is_q1 IS TRUE OR a.relogement_npnru))",
    # CCH L.441-1 (R2): in QPV, to households other than Q1: income known and ≥ threshold
    # (is_q1 FALSE); « non classable » (is_q1 NULL) is neither Q1 nor not.
    "r2_num": "count(*) FILTER (WHERE a.in_qpv AND a.is_q1 IS FALSE)",
    # CCH L.441-1 (ELAN), L.313-26-2 for Action Logement (R3): ≥ 25 % of each réservataire's
    # attributions, and of the bailleur's non-reserved stock, go to DALO households, failing
    # that to priority households.
    "non_reserve": "count(*) FILTER (WHERE a.reservataire = %(non_reserve)s)",
    "non_reserve_prioritaires": (
        "count(*) FILTER (WHERE a.reservataire = %(non_reserve)s AND (a.prioritaire OR a.dalo))"
    ),
}

# One scan of the year's attributions, four groupings: conference; conference × bailleur;
# conference × commune; conference × (réservataire, SIREN). GROUPING() tells them apart (a
# bit set per column left out of the grouping: _TOTAL, _BAILLEUR… below). The names (slug,
# SIREN, INSEE) are joined to the ~60,000 groups, not to the attributions.
NATIONAL_COUNTS_SQL = f"""
WITH g AS (
    SELECT GROUPING(a.bailleur_id, a.commune_id, a.reservataire, a.reservataire_siren)
               AS level,
           a.conference_id, a.bailleur_id, a.commune_id, a.reservataire, a.reservataire_siren,
           {", ".join(f"{sql} AS {name}" for name, sql in _COUNTS_SQL.items())}
    FROM {_ATTRIBUTIONS} a
    WHERE a.year = %(year)s
    GROUP BY GROUPING SETS (
        (a.conference_id),
        (a.conference_id, a.bailleur_id),
        (a.conference_id, a.commune_id),
        (a.conference_id, a.reservataire, a.reservataire_siren)
    )
)
SELECT g.level, c.slug, o.siren, o.name, m.insee, g.reservataire, g.reservataire_siren,
       {", ".join(f"g.{name}" for name in _COUNTS_SQL)}
FROM g
JOIN {_CONFERENCES} c ON c.id = g.conference_id
LEFT JOIN {_ORGANISATIONS} o ON o.id = g.bailleur_id
LEFT JOIN {_COMMUNES} m ON m.id = g.commune_id
"""  # noqa: S608 (table names from the models, values passed as parameters)

# GROUPING(bailleur, commune, reservataire, reservataire_siren) of each grouping set.
_TOTAL, _BAILLEUR, _COMMUNE, _RESERVATAIRE = 0b1111, 0b0111, 0b1011, 0b1100
_FIRST_COUNT = 7  # the counts' first column in a row of NATIONAL_COUNTS_SQL
# With PostgreSQL's default work_mem (4 MB) the four hash tables spill to disk: about 1.5×
# slower at national scale (bench/bilan). Set for this query's transaction only.
NATIONAL_WORK_MEM = "64MB"


def national_bilans(year: int) -> dict[str, dict]:
    """The `bilan` v1 documents of every conference of the platform for `year`: {slug:
    document}, slugs sorted; a conference without attributions gets its document of zeros.

    For every conference, the document equals `compute(conference, year)`'s: the counts come
    from one SQL query instead of a frame (same definitions as `bilan.flags`), the settings
    from a handful of queries for all conferences (not some per conference), the documents
    from the same builder (`bilan.build_documents`)."""
    with bilan.gc_postponed():  # until the documents are built
        tables, inputs = national_tables_and_inputs(year)
        documents = bilan.build_documents(tables, year=year, conferences=inputs)
        # Freed by reference counting now: the collector, back on, will not walk them.
        del tables, inputs
    return documents


def national_tables_and_inputs(
    year: int,
) -> tuple[dict[str, dict], dict[str, bilan.ConferenceInputs]]:
    """What `national_bilans` builds the documents from: the count tables of every conference
    (`bilan`'s module doc) by ONE query, and each conference's settings ({slug: inputs},
    slugs sorted) by one query per kind of setting, whatever the number of conferences."""
    # A platform-level computation across all conferences (the State's national follow-up,
    # `manage.py bilan_national`), never a user-facing read: this block is the one place
    # where bilan_data reads outside a conference scope. What it reads is aggregated into
    # each conference's own document; nothing of one conference goes into another's.
    nested = connection.in_atomic_block  # then SET LOCAL would outlive this function
    with (
        # ~60,000 rows of counts, ~45,000 of settings: as many tuples (see gc_postponed).
        bilan.gc_postponed(),
        unscoped(),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        if nested:
            cursor.execute("SELECT current_setting('work_mem')")
            (work_mem,) = cursor.fetchone()
        cursor.execute(f"SET LOCAL work_mem = '{NATIONAL_WORK_MEM}'")
        cursor.execute(NATIONAL_COUNTS_SQL, {"year": year, "non_reserve": bilan.NON_RESERVE})
        tables, reporting = _national_tables(cursor.fetchall())
        if nested:  # SET LOCAL lasts until the outer transaction ends: put it back.
            cursor.execute("SELECT set_config('work_mem', %s, true)", [work_mem])

        conferences = dict(Conference.objects.values_list("pk", "slug"))
        thresholds: dict[int, dict[int, Decimal]] = defaultdict(dict)
        for conference_id, threshold_year, value in Q1Threshold.objects.filter(
            year__lte=year
        ).values_list("conference_id", "year", "value"):
            thresholds[conference_id][threshold_year] = value
        rates = {
            conference_id: values
            for conference_id, *values in RuleRates.objects.filter(year=year).values_list(
                "conference_id", "target_r1", "target_r2", "target_r3"
            )
        }
        members: dict[int, dict[str, str]] = defaultdict(dict)
        for conference_id, siren, name in Membership.objects.filter(
            organisation__type=OrganisationType.BAILLEUR
        ).values_list("conference_id", "organisation__siren", "organisation__name"):
            members[conference_id][siren] = name
        communes: dict[int, list[str]] = defaultdict(list)
        for conference_id, insee in Commune.objects.order_by().values_list(
            "conference_id", "insee"
        ):
            communes[conference_id].append(insee)
        objectives = cia_objectives_by_conference(conferences, year)
        reservataire_objectives = cia_reservataire_objectives_by_conference(conferences, year)

    inputs = {}
    # Slugs and INSEE codes sorted by Python (as the documents are), not by the database's
    # collation.
    for conference_id, slug in sorted(conferences.items(), key=lambda item: item[1]):
        threshold, provisional = _threshold(conference_id, thresholds[conference_id], year)
        # A former member's attributions still count: listed under its name (from the query).
        bailleurs = {**reporting.get(slug, {}), **members[conference_id]}
        inputs[slug] = BilanInputs(
            threshold=threshold,
            threshold_provisional=provisional,
            rates=_rates(rates.get(conference_id)),
            objectives=objectives.get(conference_id, {}),
            bailleurs=sorted(bailleurs.items()),
            communes=sorted(communes[conference_id]),
            reservataire_objectives=reservataire_objectives.get(conference_id, {}),
        ).for_documents()
    return tables, inputs


def _national_tables(
    rows: Iterable[tuple],
) -> tuple[dict[str, dict], dict[str, dict[str, str]]]:
    """The rows of NATIONAL_COUNTS_SQL → the count tables of `bilan` ({table: {slug: {key:
    counts}}}), and {slug: {SIREN: name}} of the bailleurs with attributions."""
    tables: dict[str, dict] = {name: {} for name in bilan.TABLES}
    total, by_bailleur, by_commune, by_reservataire = (tables[name] for name in bilan.TABLES)
    reporting: dict[str, dict[str, str]] = {}
    attributions, prioritaires = (
        _FIRST_COUNT + bilan.COUNTS.index(name) for name in bilan.RESERVATAIRE_COUNTS
    )
    for row in rows:
        level, slug = row[0], row[1]
        if level == _COMMUNE:
            by_commune.setdefault(slug, {})[row[4]] = row[_FIRST_COUNT:]
        elif level == _BAILLEUR:
            by_bailleur.setdefault(slug, {})[row[2]] = row[_FIRST_COUNT:]
            reporting.setdefault(slug, {})[row[2]] = row[3]
        elif level == _RESERVATAIRE:
            # `non_reserve` is not a réservataire: R3 on the non-reserved stock is the
            # bailleur's (its counts are in the bailleur's row).
            if row[5] != bilan.NON_RESERVE:
                by_reservataire.setdefault(slug, {})[(row[5], row[6])] = (
                    row[attributions],
                    row[prioritaires],
                )
        elif level == _TOTAL:
            total[slug] = {None: row[_FIRST_COUNT:]}
        else:  # pragma: no cover - the query has exactly four grouping sets
            raise AssertionError(f"Niveau de regroupement inattendu : {level}")
    return tables, reporting
