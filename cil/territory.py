"""Loading a conference from a `territoire` v1 document (shared/formats.md).

Two stages. `parse_territory()` checks the whole document and returns plain values, or
raises `TerritoryError` with every problem and its JSON path (`$.communes[3].insee`).
`load_territory()` then writes it in one transaction, saving only what changed, so that
loading a file twice changes nothing. Nothing is deleted: communes, QPV and members that the
file does not list are kept and counted, so a partial file never loses data.
"""

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import transaction

from attributions.models import (
    DEFAULT_TARGET_R1,
    DEFAULT_TARGET_R2,
    DEFAULT_TARGET_R3,
    Q1Threshold,
    RuleRates,
)
from attributions.services import recompute_q1
from cil import audit, services
from cil.models import (
    RESERVED_SLUGS,
    AuditAction,
    College,
    Commune,
    Conference,
    Membership,
    OrganisationType,
    Qpv,
    QpvYear,
)
from cil.signals import structure_changed
from cil.tenancy import conference_scope
from cil.validators import insee_error, qpv_code_error, siren_error

FORMAT = "territoire/v1"
# The CIL exists since the ALUR law (2014); a year outside this range is a typo.
MIN_YEAR, MAX_YEAR = 2014, 2100
_SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,64}$")  # Conference.slug is a SlugField(64)
_CENT, _BASIS_POINT = Decimal("0.01"), Decimal("0.0001")
# JSON key, RuleRates field, legal default (CCH L.441-1).
_RATES = tuple(
    (f"cible_r{rule}", f"target_r{rule}", default.quantize(_BASIS_POINT))
    for rule, default in enumerate((DEFAULT_TARGET_R1, DEFAULT_TARGET_R2, DEFAULT_TARGET_R3), 1)
)


class TerritoryError(Exception):
    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{path} : {message}" for path, message in errors))
        self.errors = errors


@dataclass(frozen=True)
class QpvSpec:
    code: str
    name: str
    communes: tuple[str, ...]
    years: tuple[int, ...]


@dataclass(frozen=True)
class OrganisationSpec:
    siren: str
    name: str
    type: str
    college: int


@dataclass
class Territory:
    slug: str
    name: str
    epci_siren: str
    communes: dict[str, str] = field(default_factory=dict)  # INSEE code -> name
    qpvs: list[QpvSpec] = field(default_factory=list)
    organisations: list[OrganisationSpec] = field(default_factory=list)
    # year -> Q1Threshold / RuleRates field values; a year without seuil_q1 has no threshold.
    thresholds: dict[int, dict] = field(default_factory=dict)
    rates: dict[int, dict] = field(default_factory=dict)


# --- Checking the document -------------------------------------------------------------
# A field parser takes (checker, value, path) and returns the clean value, or reports an
# error and returns None.


def _show(value) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:39] + "…"


class _Checker:
    """Collects every error of the document instead of stopping at the first one."""

    def __init__(self):
        self.errors: list[tuple[str, str]] = []

    def error(self, path: str, message: str) -> None:
        self.errors.append((path, message))

    def fields(self, value, path: str, required: dict, optional: dict | None = None):
        """The object's parsed fields (None for a wrong value); None if not an object."""
        optional = optional or {}
        if not isinstance(value, dict):
            return self.error(path, "Un objet JSON { … } est attendu.")
        unknown = ", ".join(f"« {_show(k)} »" for k in value if k not in {**required, **optional})
        if unknown:
            expected = ", ".join({**required, **optional})
            self.error(path, f"Clé(s) inconnue(s) : {unknown} (clés possibles : {expected}).")
        parsed = {}
        for key, parse in {**required, **optional}.items():
            if key in value:
                parsed[key] = parse(self, value[key], f"{path}.{key}")
            elif key in required:
                self.error(f"{path}.{key}", "Champ obligatoire manquant.")
        return parsed

    def items(self, value, path: str) -> list[tuple[str, object]]:
        if not isinstance(value, list):
            self.error(path, "Une liste [ … ] est attendue.")
            return []
        return [(f"{path}[{index}]", item) for index, item in enumerate(value)]

    def records(self, root: dict, name: str, required, optional=None, *, key, label):
        """Parse the list `root[name]` of objects whose `key` is unique: [(path, fields)]."""
        seen, records = {}, []
        for item_path, item in self.items(root.get(name) or [], f"$.{name}"):
            parsed = self.fields(item, item_path, required, optional)
            if parsed is None:
                continue
            if parsed.get(key) is not None:
                if parsed[key] in seen:
                    self.error(
                        f"{item_path}.{key}",
                        f"{label} « {parsed[key]} » en double (déjà en {seen[parsed[key]]}).",
                    )
                    continue
                seen[parsed[key]] = item_path
            records.append((item_path, parsed))
        return records


def _complete(parsed: dict | None, required) -> bool:
    """Every required field is present and valid (lists: every item too)."""

    def valid(value):
        return value is not None and (not isinstance(value, list) or None not in value)

    return parsed is not None and all(valid(parsed.get(key)) for key in required)


def _text(check, value, path):
    if not isinstance(value, str):
        return check.error(path, f"Texte attendu, reçu « {_show(value)} ».")
    if not value.strip():
        return check.error(path, "Texte vide.")
    if len(value.strip()) > 255:
        return check.error(path, "Texte trop long (255 caractères au plus).")
    return value.strip()


def _code(label: str, error_of):
    def parse(check, value, path):
        message = error_of(value)
        if message:
            return check.error(path, f"{label} invalide : « {_show(value)} ». {message}")
        return value

    return parse


def _slug(check, value, path):
    if not isinstance(value, str) or not _SLUG_RE.match(value):
        return check.error(
            path,
            f"Identifiant invalide : « {_show(value)} » (lettres sans accents, chiffres et "
            "tirets, 64 caractères au plus).",
        )
    if value in RESERVED_SLUGS:
        return check.error(path, f"L'identifiant « {value} » est réservé par la plateforme.")
    return value


def _format(check, value, path):
    if value != FORMAT:
        return check.error(path, f"Format « {_show(value)} » inconnu : « {FORMAT} » attendu.")
    return value


def _year(check, value, path):
    if isinstance(value, bool) or not isinstance(value, int):
        return check.error(path, f"Année attendue (nombre entier), reçu « {_show(value)} ».")
    if not MIN_YEAR <= value <= MAX_YEAR:
        return check.error(path, f"Année hors limites : {value} (de {MIN_YEAR} à {MAX_YEAR}).")
    return value


def _choice(label: str, values: list):
    def parse(check, value, path):
        if type(value) is not type(values[0]) or value not in values:
            hint = ", ".join(str(v) for v in values)
            return check.error(path, f"{label} invalide : « {_show(value)} » (possibles : {hint}).")
        return value

    return parse


def _decimal(what: str, low, high: Decimal, places: Decimal, *, strict: bool = False):
    """A JSON number as an exact Decimal: money and rates never go through float maths."""

    def parse(check, value, path):
        finite = isinstance(value, int) or (
            isinstance(value, float | Decimal) and math.isfinite(value)
        )
        if isinstance(value, bool) or not finite:
            return check.error(path, f"Nombre attendu ({what}), reçu « {_show(value)} ».")
        number = Decimal(str(value))
        if number < low or (strict and number == low) or number > high:
            return check.error(path, f"Valeur hors limites : {_show(value)} ({what}).")
        if number != number.quantize(places):
            decimals = -places.as_tuple().exponent
            return check.error(path, f"Trop de décimales : {_show(value)} ({decimals} au plus).")
        return number.quantize(places)

    return parse


def _list_of(parse_item, empty: str):
    """A non-empty list without duplicates; a wrong item is None in the result."""

    def parse(check, value, path):
        if isinstance(value, list) and not value:
            return check.error(path, f"Liste vide : {empty}.")
        result = []
        for item_path, item in check.items(value, path):
            item = parse_item(check, item, item_path)
            if item is not None and item in result:
                item = check.error(item_path, f"« {_show(item)} » en double.")
            result.append(item)
        return result if isinstance(value, list) else None

    return parse


def _any_list(check, value, path):
    return value if isinstance(value, list) else check.error(path, "Une liste [ … ] est attendue.")


_INSEE = _code("Code INSEE", insee_error)
_SIREN = _code("SIREN", siren_error)
_RATE = _decimal("taux entre 0 et 1", Decimal(0), Decimal(1), _BASIS_POINT)
_ROOT = {
    "format": _format,
    "conference": lambda check, value, path: check.fields(value, path, _CONFERENCE),
}
_ROOT_OPTIONAL = dict.fromkeys(("communes", "qpv", "organisations", "annees"), _any_list)
_CONFERENCE = {"slug": _slug, "nom": _text, "epci_siren": _SIREN}
_COMMUNE = {"insee": _INSEE, "nom": _text}
_QPV = {
    "code": _code("Code QPV", qpv_code_error),
    "nom": _text,
    "communes": None,  # set by parse_territory(): the communes listed in the file
    "annees": _list_of(_year, "indiquez au moins une année de validité du code"),
}
_ORGANISATION = {
    "siren": _SIREN,
    "nom": _text,
    "type": _choice("Type", OrganisationType.values),
    "college": _choice("Collège", College.values),
}
# Q1Threshold.value has 10 digits of which 2 decimals.
_AMOUNT = _decimal("montant positif en €", Decimal(0), Decimal("1e8") - _CENT, _CENT, strict=True)
_YEAR_OPTIONAL = {
    "seuil_q1": _AMOUNT,
    "source_seuil": _text,
    **{key: _RATE for key, _, _ in _RATES},
}


def parse_territory(data, *, expected_slug: str | None = None) -> Territory:
    """The checked document; raises TerritoryError listing every error found."""
    check = _Checker()
    root = check.fields(data, "$", _ROOT, _ROOT_OPTIONAL)
    if root is None:
        raise TerritoryError(check.errors)
    conference = root.get("conference") or {}
    slug = conference.get("slug")
    if slug and expected_slug is not None and slug != expected_slug:
        check.error(
            "$.conference.slug",
            f"Ce fichier décrit la conférence « {slug} », pas « {expected_slug} ».",
        )
    territory = Territory(slug, conference.get("nom"), conference.get("epci_siren"))

    communes = check.records(root, "communes", _COMMUNE, key="insee", label="Code INSEE")
    listed = {parsed["insee"] for _, parsed in communes if parsed.get("insee")}
    territory.communes = {p["insee"]: p["nom"] for _, p in communes if _complete(p, _COMMUNE)}

    def listed_commune(check, value, path):
        if _INSEE(check, value, path) is None:
            return None
        if value not in listed:
            return check.error(path, f"Commune « {value} » absente de $.communes.")
        return value

    schema = {**_QPV, "communes": _list_of(listed_commune, "un QPV est dans au moins une commune")}
    for _, qpv in check.records(root, "qpv", schema, key="code", label="Code QPV"):
        if _complete(qpv, schema):
            years = tuple(sorted(qpv["annees"]))
            territory.qpvs.append(QpvSpec(qpv["code"], qpv["nom"], tuple(qpv["communes"]), years))

    for _, org in check.records(root, "organisations", _ORGANISATION, key="siren", label="SIREN"):
        if _complete(org, _ORGANISATION):
            territory.organisations.append(
                OrganisationSpec(org["siren"], org["nom"], org["type"], org["college"])
            )

    years = check.records(
        root, "annees", {"annee": _year}, _YEAR_OPTIONAL, key="annee", label="Année"
    )
    for path, year in years:
        if "source_seuil" in year and "seuil_q1" not in year:
            check.error(f"{path}.source_seuil", "Une source sans seuil_q1 n'a pas d'objet.")
        if not _complete(year, ["annee", *year]):
            continue
        if "seuil_q1" in year:
            source = year.get("source_seuil", "")
            territory.thresholds[year["annee"]] = {"value": year["seuil_q1"], "source": source}
        territory.rates[year["annee"]] = {f: year.get(key, default) for key, f, default in _RATES}

    if check.errors:
        raise TerritoryError(check.errors)
    return territory


# --- Writing ----------------------------------------------------------------------------

CREATED, UPDATED, UNCHANGED, KEPT, EXISTING = "created", "updated", "unchanged", "kept", "existing"
# key -> (label, feminine, statuses shown)
_CATEGORIES = {
    "communes": ("communes", True, (CREATED, UPDATED, UNCHANGED, KEPT)),
    "qpv": ("QPV", False, (CREATED, UPDATED, UNCHANGED, KEPT)),
    "organisations": ("organisations", True, (CREATED, EXISTING)),
    "membres": ("membres", False, (CREATED, UPDATED, UNCHANGED, KEPT)),
    "seuils_q1": ("seuils Q1", False, (CREATED, UPDATED, UNCHANGED, KEPT)),
    "taux": ("taux des règles", False, (CREATED, UPDATED, UNCHANGED, KEPT)),
}
_WORDS = {
    CREATED: "créé{e}{s}",
    UPDATED: "modifié{e}{s}",
    UNCHANGED: "inchangé{e}{s}",
    KEPT: "absent{e}{s} du fichier, conservé{e}{s}",
    EXISTING: "déjà connue{s}",
}


def _words(status: str, count: int, feminine: bool) -> str:
    return f"{count} {_WORDS[status].format(e='e' if feminine else '', s='s' * (count > 1))}"


@dataclass
class LoadReport:
    conference: Conference | None = None
    conference_status: str = UNCHANGED
    counts: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.conference_status != UNCHANGED or any(
            tally.get(CREATED) or tally.get(UPDATED) for tally in self.counts.values()
        )

    def category_summary(self, key: str) -> str:
        label, feminine, statuses = _CATEGORIES[key]
        tally = self.counts.get(key, {})
        parts = [
            _words(s, tally.get(s, 0), feminine) for s in statuses if s != KEPT or tally.get(s)
        ]
        return f"{label} : {', '.join(parts)}"

    def summary(self) -> str:
        slug = self.conference.slug if self.conference else "?"
        head = f"conférence « {slug} » : {_WORDS[self.conference_status].format(e='e', s='')}"
        return "; ".join([head, *(self.category_summary(key) for key in _CATEGORIES)])


def load_territory(data, *, actor=None, expected_slug=None) -> LoadReport:
    """Create or update a conference from a `territoire` v1 document (idempotent)."""
    territory = parse_territory(data, expected_slug=expected_slug)
    with transaction.atomic():
        conference, before, after = _save_conference(territory)
        report = LoadReport(conference=conference, conference_status=_status(before, after))
        with conference_scope(conference):
            thresholds_before = dict(Q1Threshold.objects.values_list("year", "value"))
            writer = _Writer(conference, actor, report)
            if report.conference_status != UNCHANGED:
                writer.record(conference, before, after)
            names = {insee: {"name": name} for insee, name in territory.communes.items()}
            communes = writer.rows("communes", Commune, "insee", names)
            writer.qpvs(territory.qpvs, communes)
            writer.members(territory.organisations)
            writer.rows("seuils_q1", Q1Threshold, "year", territory.thresholds)
            writer.rows("taux", RuleRates, "year", territory.rates)
            if report.changed:
                audit.record(
                    conference=conference,
                    actor=actor,
                    action=AuditAction.IMPORT,
                    obj=conference,
                    object_repr=f"Chargement du territoire ({FORMAT})",
                    changes={key: [None, report.category_summary(key)] for key in _CATEGORIES},
                )
                structure_changed(conference.pk)
            # A threshold the file created or changed reclassifies that year's attributions.
            thresholds_after = dict(Q1Threshold.objects.values_list("year", "value"))
            changed_years = [
                y for y, v in thresholds_after.items() if thresholds_before.get(y) != v
            ]
            if changed_years:
                recompute_q1(conference=conference, from_year=min(changed_years))
    return report


def _status(before: dict, after: dict) -> str:
    if not before:
        return CREATED
    return UPDATED if audit.diff(before, after) else UNCHANGED


def _save_conference(territory: Territory) -> tuple[Conference, dict, dict]:
    # One CIL per EPCI (CCH L.441-1-5).
    clash = Conference.objects.filter(epci_siren=territory.epci_siren).exclude(slug=territory.slug)
    if clash.exists():
        message = f"Cet EPCI a déjà sa conférence : « {clash.first().slug} »."
        raise TerritoryError([("$.conference.epci_siren", message)])
    after = {"slug": territory.slug, "name": territory.name, "epci_siren": territory.epci_siren}
    conference = Conference.objects.filter(slug=territory.slug).first()
    before = {} if conference is None else audit.snapshot(conference, list(after))
    if conference is None:
        conference = Conference(slug=territory.slug)
    if audit.diff(before, after):
        conference.name, conference.epci_siren = territory.name, territory.epci_siren
        conference.full_clean()
        conference.save()
    return conference, before, after


class _Writer:
    """Saves one kind of row at a time, only when a value changes, and audits each change."""

    def __init__(self, conference: Conference, actor, report: LoadReport):
        self.conference, self.actor, self.report = conference, actor, report

    def record(self, obj, before: dict, after: dict) -> None:
        audit.record(
            conference=self.conference,
            actor=self.actor,
            action=AuditAction.CREATE if not before else AuditAction.UPDATE,
            obj=obj,
            changes=audit.diff(before, after),
        )

    def sync(self, tally: Counter, obj, before: dict, after: dict, save) -> None:
        """Count the row; when it changed, `save()` it and audit the change."""
        status = _status(before, after)
        tally[status] += 1
        if status != UNCHANGED:
            self.record(save() or obj, before, after)

    def _tally(self, key: str) -> Counter:
        return self.report.counts.setdefault(key, Counter())

    def rows(self, key: str, model, lookup: str, wanted: dict) -> dict:
        """Create or update the `model` rows named by `lookup`: {lookup value: field values}."""
        tally = self._tally(key)
        existing = {getattr(row, lookup): row for row in model.objects.all()}
        tally[KEPT] = len(existing.keys() - wanted.keys())
        for value, values in wanted.items():
            fields = [lookup, *values]
            row = existing.get(value)
            before = {} if row is None else audit.snapshot(row, fields)
            row = existing[value] = row or model(conference=self.conference, **{lookup: value})
            for name, new in values.items():
                setattr(row, name, new)
            self.sync(tally, row, before, audit.snapshot(row, fields), row.save)
        return existing

    def qpvs(self, specs: list[QpvSpec], communes: dict[str, Commune]) -> None:
        tally = self._tally("qpv")
        existing = {qpv.code: qpv for qpv in Qpv.objects.prefetch_related("communes", "years")}
        tally[KEPT] = len(existing.keys() - {spec.code for spec in specs})
        for spec in specs:
            qpv = existing.get(spec.code) or Qpv(conference=self.conference, code=spec.code)
            before = {} if qpv.pk is None else _qpv_snapshot(qpv)
            after = {
                "code": spec.code,
                "name": spec.name,
                "communes": sorted(spec.communes),
                "annees": list(spec.years),
            }

            def save(qpv=qpv, spec=spec):
                qpv.name = spec.name
                qpv.save()
                qpv.communes.set([communes[insee] for insee in spec.communes])
                QpvYear.objects.filter(qpv=qpv).exclude(year__in=spec.years).delete()
                known = set(QpvYear.objects.filter(qpv=qpv).values_list("year", flat=True))
                QpvYear.objects.bulk_create(
                    QpvYear(conference=self.conference, qpv=qpv, year=year)
                    for year in spec.years
                    if year not in known
                )

            self.sync(tally, qpv, before, after, save)

    def members(self, specs: list[OrganisationSpec]) -> None:
        organisations, tally = self._tally("organisations"), self._tally("membres")
        colleges = dict(Membership.objects.values_list("organisation__siren", "college"))
        tally[KEPT] = len(colleges.keys() - {spec.siren for spec in specs})
        for spec in specs:
            organisation, created = services.organisation_get_or_create(
                siren=spec.siren, name=spec.name, type=spec.type
            )
            organisations[CREATED if created else EXISTING] += 1
            # membership_ensure writes its own audit entries.
            services.membership_ensure(
                conference=self.conference,
                actor=self.actor,
                organisation=organisation,
                college=spec.college,
            )
            before = colleges.get(spec.siren)
            tally[
                _status({} if before is None else {"college": before}, {"college": spec.college})
            ] += 1


def _qpv_snapshot(qpv: Qpv) -> dict:
    return {
        "code": qpv.code,
        "name": qpv.name,
        "communes": sorted(commune.insee for commune in qpv.communes.all()),
        "annees": sorted(row.year for row in qpv.years.all()),
    }
