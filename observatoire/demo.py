"""Demo data of the observatory (cil.demo.DEMO_STEPS): for each demo conference, the SNE
demand extract, the RPLS offer of two millésimes and the QPV list of the year, each written
as the file the secretariat would upload and imported through the import services — so the
demo exercises the `demandes` v1 contract and the RPLS and QPV readers, and the import list
shows them. Deterministic (seeded) and idempotent: a part already imported is skipped.

Consistency with the demo attributions: each attribution is the closure (motif
« attribution », at the lease date) of one demand of the same household in the same first
commune, so demands closed by attribution match the attributions by commune and year. The
other demands are drawn per commune (its own pressure), their income per UC around the
year's Q1 threshold (a quarter of the applicants below it, as the threshold's definition
says). The boundaries file of the map (helper module `observatoire.demo_map`) is loaded last.
"""

import csv
import datetime
import importlib.util
import io
import math
import random
from collections import Counter, defaultdict
from decimal import Decimal

from django.core.files.base import ContentFile

from attributions import derivation, rules
from attributions.models import Attribution
from cil.tenancy import conference_scope
from observatoire.contracts.demandes import COLUMNS as DEMAND_COLUMNS
from observatoire.importing import jobs
from observatoire.models import Demand, Dwelling, ObservatoireImport, ObservatoireImportKind

# The demo's "today": the 2026 attributions run to mid-November.
TODAY = datetime.date(2026, 11, 15)
EXTRACT_YEAR = 2026
MILLESIMES = (2025, 2026)
QPV_LIST_YEAR = 2026
# Communes outside the territories, for wishes beyond the first and for the rest of the
# département in the RPLS file (fictional codes of the 76 and 27 ranges).
ELSEWHERE = ("76217", "76322", "76451", "27229", "27701")
DEPOSIT_YEARS = ((2020, 6), (2021, 9), (2022, 13), (2023, 18), (2024, 20), (2025, 22), (2026, 12))
SIZES = ([1, 2, 3, 4, 5, 6], [38, 24, 16, 12, 6, 4])
TYPOLOGY_BY_SIZE = {
    1: (("T1", 45), ("T2", 55)),
    2: (("T2", 60), ("T3", 40)),
    3: (("T3", 70), ("T4", 30)),
    4: (("T3", 30), ("T4", 70)),
    5: (("T4", 50), ("T5", 50)),
    6: (("T5", 60), ("T6+", 40)),
}
# Income per UC: log-normal with a quarter of the applicants under the threshold T:
# P(X < T) = Φ((ln T − ln m) / σ) = 0.25 ⇒ m = T · exp(0.674 σ).
INCOME_SIGMA = 0.55
INCOME_MEDIAN_FACTOR = math.exp(0.6745 * INCOME_SIGMA)


def _pick(rng: random.Random, weighted):
    return rng.choices([v for v, _ in weighted], weights=[w for _, w in weighted])[0]


def _csv(header: list[str], rows: list[dict], *, bom: bool = False) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, delimiter=";", lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode()


def _import(ctx, conference, kind: str, year: int, filename: str, content: bytes) -> None:
    """Import a file as the command does: check it all, then write it (inside the scope)."""
    plan = jobs.plan_file(
        io.BytesIO(content), filename, kind=kind, conference=conference, year=year
    )
    if not plan.is_valid:
        raise ValueError(f"Fichier de démonstration {filename} refusé : {plan.errors[:5]}")
    job = jobs.observatoire_import_create(
        conference=conference,
        actor=None,
        kind=kind,
        year=year,
        file=ContentFile(content, name=filename),
        filename=filename,
        plan=plan,
    )
    jobs.observatoire_import_confirm(job=job, actor=None, synchronous=True)
    job.refresh_from_db()
    if job.status != "done":
        raise ValueError(f"Import de démonstration {filename} : {job.status} {job.errors[:5]}")
    counts = job.counts
    ctx.log(
        f"{conference.slug} — observatoire, {filename} : {counts['create']} créé(s), "
        f"{counts.get('ignored', 0)} ligne(s) d'autres communes ignorée(s)"
    )


# --- Demand ------------------------------------------------------------------------------


def _threshold(reference: derivation.Reference, year: int) -> float:
    value, _provisional = reference.threshold_for(year)
    if value is not None:
        return float(value)
    first = min(reference.thresholds)  # before the first arrêté known: 3 % less a year
    return float(reference.thresholds[first]) * 0.97 ** (first - year)


def _day(rng: random.Random, start: datetime.date, end: datetime.date) -> datetime.date:
    return start + datetime.timedelta(days=rng.randint(0, max(0, (end - start).days)))


class _DemandMaker:
    def __init__(self, conference, reference: derivation.Reference, seed: str):
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not security
        self.reference = reference
        self.communes = sorted(reference.communes)
        self.serial = 0
        self.department = self.communes[0][:2]

    def numero(self, deposit: datetime.date) -> str:
        self.serial += 1
        return f"0{self.department}{deposit:%y%m}{self.serial:07d}"

    def wishes(self, first: str) -> str:
        rng = self.rng
        others = [c for c in self.communes if c != first]
        wished = [first, *rng.sample(others, k=min(len(others), rng.choice([0, 0, 1, 1, 2, 3])))]
        if rng.random() < 0.05:
            wished.append(rng.choice(ELSEWHERE))  # a commune outside the territory
        return "|".join(wished)

    def row(self, **values) -> dict:
        """A line of the file, as an extract writes it (half the dates in French format)."""
        deposit = values.pop("deposit")
        french = self.rng.random() < 0.5
        flags = {
            name: "oui" if values[name] else "non" for name in ("mutation", "dalo", "prioritaire")
        }
        return {
            **values,
            **flags,
            "date_depot": deposit.strftime("%d/%m/%Y") if french else deposit.isoformat(),
        }

    def attributed(self, attribution: tuple) -> dict:
        """The demand an attribution closed: same household, same first commune."""
        insee, lease, size, children, income, typologie, mutation, dalo, prioritaire = attribution
        rng = self.rng
        wait = max(30, int(rng.lognormvariate(math.log(420), 0.6)))
        deposit = max(lease - datetime.timedelta(days=wait), datetime.date(2017, 1, 1))
        return {
            "numero_unique": self.numero(deposit),
            "deposit": deposit,
            "communes_souhaitees": self.wishes(insee),
            "nb_personnes": size,
            "nb_enfants_moins_14": children,
            "revenu_annuel": "" if income is None else str(income).replace(".", ","),
            "typologie": typologie or _pick(rng, TYPOLOGY_BY_SIZE[min(size, 6)]),
            "mutation": mutation,
            "dalo": dalo,
            "prioritaire": prioritaire,
            "date_radiation": lease.isoformat(),
            "motif_radiation": "attribution",
        }

    def other(self, insee: str) -> dict:
        """A demand not (yet) satisfied: active, or closed for another motif."""
        rng = self.rng
        year = _pick(rng, DEPOSIT_YEARS)
        end = min(datetime.date(year, 12, 31), TODAY)
        deposit = _day(rng, datetime.date(year, 1, 1), end)
        size = rng.choices(*SIZES)[0]
        children = rng.randint(0, size - 1) if size > 1 and rng.random() < 0.6 else 0
        uc = rules.consumption_units(size, children, self.reference.uc_scale)
        threshold = _threshold(self.reference, deposit.year)
        draw = rng.random()
        if draw < 0.04:
            income = ""  # unknown
        elif draw < 0.05:
            income = "0"
        else:
            per_uc = rng.lognormvariate(math.log(threshold * INCOME_MEDIAN_FACTOR), INCOME_SIGMA)
            income = str((Decimal(str(round(per_uc, 2))) * uc).quantize(Decimal("1")))
        closed, motif = self._closure(deposit)
        dalo = rng.random() < 0.03
        return {
            "numero_unique": self.numero(deposit),
            "deposit": deposit,
            "communes_souhaitees": self.wishes(insee),
            "nb_personnes": size,
            "nb_enfants_moins_14": children,
            "revenu_annuel": income,
            "typologie": _pick(rng, TYPOLOGY_BY_SIZE[size]),
            "mutation": rng.random() < 0.28,
            "dalo": dalo,
            "prioritaire": dalo or rng.random() < 0.17,
            "date_radiation": closed.isoformat() if closed else "",
            "motif_radiation": motif,
        }

    def _closure(self, deposit: datetime.date) -> tuple[datetime.date | None, str]:
        rng = self.rng
        draw = rng.random()
        if draw < 0.30:  # not renewed: radiated 13 months after the deposit (or renewal)
            closed = deposit + datetime.timedelta(days=396 + rng.randint(0, 20))
            motif = "non_renouvellement"
        elif draw < 0.35:
            closed = deposit + datetime.timedelta(days=rng.randint(30, 700))
            motif = "renonciation"
        elif draw < 0.37:
            closed = deposit + datetime.timedelta(days=rng.randint(30, 120))
            motif = "irrecevabilite"
        elif draw < 0.40:
            closed = deposit + datetime.timedelta(days=rng.randint(370, 430))
            motif = "absence_reponse"
        elif draw < 0.41:
            closed = deposit + datetime.timedelta(days=rng.randint(60, 900))
            motif = "autre"
        else:
            return None, ""
        return (closed, motif) if closed <= TODAY else (None, "")


def _add_demands(ctx, conference, slug: str) -> None:
    if Demand.objects.exists():
        return
    reference = derivation.load_reference(conference)
    attributions = list(
        Attribution.objects.order_by("lease_date", "pk").values_list(
            "commune__insee",
            "lease_date",
            "household_size",
            "children_under_14",
            "annual_income",
            "typologie",
            "mutation",
            "dalo",
            "prioritaire",
        )
    )
    maker = _DemandMaker(conference, reference, seed=f"demandes-{slug}")
    rows = [maker.attributed(attribution) for attribution in attributions]
    # Each commune's own pressure: 1.3 to 2.6 other demands per attribution.
    per_commune = Counter(a[0] for a in attributions)
    for insee in maker.communes:
        pressure = maker.rng.uniform(1.3, 2.6)
        rows.extend(maker.other(insee) for _ in range(round(per_commune[insee] * pressure) + 8))
    maker.rng.shuffle(rows)
    header = [column.name for column in DEMAND_COLUMNS]
    content = _csv(header, [maker.row(**row) for row in rows])
    _import(
        ctx,
        conference,
        ObservatoireImportKind.DEMANDES,
        EXTRACT_YEAR,
        f"demandes-sne-{TODAY:%Y-%m}.csv",
        content,
    )


# --- Offer (RPLS) -----------------------------------------------------------------------

RPLS_HEADER = [
    "REG",
    "DEP",
    "EPCI",
    "IDENT_REP",
    "DEPCOM",
    "LIBCOM",
    "QPV",
    "TYPECONST",
    "NBPIECE",
    "SURFHAB",
    "CONSTRUCT",
    "LOCAT",
    "FINAN",
    "FINANAUTRE",
    "CONV",
    "MODE",
    "LOYERPRINC",
    "DPEDATE",
    "DPEENERGIE",
    "DPESERRE",
]
ROOMS = ((1, 8), (2, 22), (3, 36), (4, 25), (5, 7), (6, 2))
FINAN_RECENT = (("13", 55), ("10", 18), ("14", 12), ("12", 8), ("16", 3), ("11", 2), ("49", 2))
FINAN_OLD = (("52", 80), ("51", 8), ("50", 5), ("54", 4), ("99", 3))
RENT_PER_M2 = {"10": 5.2, "11": 5.3, "12": 5.7, "13": 6.0, "14": 8.6, "16": 10.1}
DPE = (("A", 1), ("B", 5), ("C", 20), ("D", 38), ("E", 22), ("F", 6), ("G", 2), ("", 6))
STOCK_PER_ATTRIBUTION = 4.5  # dwellings per yearly attribution (a turnover of ~9 % would be 11)


class _DwellingMaker:
    def __init__(self, seed: str):
        self.rng = random.Random(seed)  # noqa: S311 - demo data, not security
        self.serial = 0

    def dwelling(self, insee: str, name: str, qpv: str, built_after: int = 1950) -> dict:
        rng = self.rng
        self.serial += 1
        rooms = _pick(rng, ROOMS)
        surface = round(17 * rooms + 16 + rng.uniform(-6, 9))
        built = (
            rng.randint(1958, 1982)
            if qpv and rng.random() < 0.8
            else rng.randint(built_after, max(built_after, 2024))
        )
        if rng.random() < 0.003:
            finan = "57"  # a code the mapping table does not know: counted as unknown
        else:
            finan = _pick(rng, FINAN_OLD if built < 1977 else FINAN_RECENT)
        rent = surface * RENT_PER_M2.get(finan, 5.6) * rng.uniform(0.9, 1.1)
        vacant = rng.random() < 0.04
        return {
            "REG": "28",
            "DEP": insee[:2],
            "EPCI": "",
            "IDENT_REP": f"{insee[2:]}{self.serial:07d}",
            "DEPCOM": insee,
            "LIBCOM": name,
            "QPV": qpv or "2",
            "TYPECONST": "C" if qpv or rng.random() < 0.8 else "I",
            "NBPIECE": rooms,
            "SURFHAB": surface,
            "CONSTRUCT": built,
            "LOCAT": built + rng.randint(0, 1),
            "FINAN": finan,
            "FINANAUTRE": "",
            "CONV": "1",
            "MODE": "2" if vacant else "1",
            "LOYERPRINC": "" if vacant else f"{rent:.2f}".replace(".", ","),
            "DPEDATE": f"{rng.randint(1, 12):02d}/{rng.randint(2012, 2024)}",
            "DPEENERGIE": _pick(rng, DPE[2:] if qpv and rng.random() < 0.5 else DPE),
            "DPESERRE": _pick(rng, DPE),
        }


def _add_offer(ctx, conference, slug: str, names: dict[str, str]) -> None:
    missing = [m for m in MILLESIMES if not Dwelling.objects.filter(millesime=m).exists()]
    if not missing:
        return
    reference = derivation.load_reference(conference)
    per_commune = Counter(
        Attribution.objects.filter(year=MILLESIMES[0]).values_list("commune__insee", flat=True)
    )
    qpvs_of = defaultdict(list)
    for code, qpv in sorted(reference.qpvs.items()):
        if MILLESIMES[0] in qpv.years:
            for insee in qpv.communes:
                qpvs_of[insee].append(code)
    maker = _DwellingMaker(seed=f"rpls-{slug}")
    stock = []
    for insee in sorted(reference.communes):
        count = round(per_commune[insee] * STOCK_PER_ATTRIBUTION) + 40
        share_in_qpv = 0.45 if qpvs_of[insee] else 0.0
        for _ in range(count):
            qpv = maker.rng.choice(qpvs_of[insee]) if maker.rng.random() < share_in_qpv else ""
            stock.append(maker.dwelling(insee, names[insee], qpv))
    elsewhere = [
        maker.dwelling(insee, "Hors territoire", "") for insee in ELSEWHERE for _ in range(300)
    ]
    by_millesime = {MILLESIMES[0]: stock}
    # A year later: 0.6 % of the stock sold or demolished, 1.5 % new dwellings (PLUS, PLAI).
    kept = [d for d in stock if maker.rng.random() >= 0.006]
    new = [
        maker.dwelling(d["DEPCOM"], d["LIBCOM"], "", built_after=2025)
        for d in maker.rng.sample(stock, k=round(len(stock) * 0.015))
    ]
    by_millesime[MILLESIMES[1]] = kept + new
    for millesime in missing:
        content = _csv(RPLS_HEADER, by_millesime[millesime] + elsewhere, bom=True)
        _import(
            ctx,
            conference,
            ObservatoireImportKind.RPLS,
            millesime,
            f"rpls{millesime}_detail_76.csv",
            content,
        )


# --- QPV list ---------------------------------------------------------------------------

QPV_HEADER = [
    "code_qp",
    "lib_qp",
    "insee_reg",
    "lib_reg",
    "insee_dep",
    "lib_dep",
    "insee_com",
    "lib_com",
    "siren_epci",
    "lib_epci",
]


def _add_qpv_list(ctx, conference, demo) -> None:
    if ObservatoireImport.objects.filter(kind=ObservatoireImportKind.QPV).exists():
        return
    rows = [
        {
            "code_qp": code,
            "lib_qp": name,
            "insee_reg": "28",
            "lib_reg": "Normandie",
            "insee_dep": "76",
            "lib_dep": "Seine-et-Caux",
            "insee_com": "; ".join(communes),
            "lib_com": "; ".join(demo.communes[c] for c in communes),
            "siren_epci": "",
            "lib_epci": demo.name,
        }
        for code, name, communes, years in demo.qpv
        if QPV_LIST_YEAR in years
    ]
    # Quartiers of the rest of the département: in the national list, ignored here.
    rows.append(
        {
            **rows[0],
            "code_qp": "QN07699M",
            "lib_qp": "Quartier voisin",
            "insee_com": "76451; 76322",
            "lib_com": "—",
        }
    )
    content = _csv(QPV_HEADER, rows)
    _import(
        ctx,
        conference,
        ObservatoireImportKind.QPV,
        QPV_LIST_YEAR,
        f"listeqp{QPV_LIST_YEAR}.csv",
        content,
    )


def _set_delai(ctx, conference) -> None:
    """The délai anormalement long of the (fictional) département: 24 months, so the demo's
    waiting-time shares show. Entered once; a value already set is kept."""
    from observatoire.models import ObservatoireSettings
    from observatoire.services_settings import observatoire_settings_set

    if ObservatoireSettings.objects.filter(delai_anormalement_long_mois__isnull=False).exists():
        return
    observatoire_settings_set(
        conference=conference,
        actor=None,
        delai_anormalement_long_mois=24,
        delai_source="Arrêté préfectoral fictif de démonstration",
    )
    ctx.log(f"{conference.slug} : délai anormalement long fixé à 24 mois")


def add_observatoire(ctx) -> None:
    """Demo step: demand, offer and QPV list of each demo conference, then the map."""
    from cil.demo import DEMO_CONFERENCES

    for demo in DEMO_CONFERENCES:
        conference = ctx.conferences[demo.slug]
        with conference_scope(conference):
            _add_qpv_list(ctx, conference, demo)
            _add_demands(ctx, conference, demo.slug)
            _add_offer(ctx, conference, demo.slug, demo.communes)
            _set_delai(ctx, conference)
    if importlib.util.find_spec("observatoire.demo_map") is not None:
        from observatoire.demo_map import add_boundaries

        add_boundaries(ctx)
