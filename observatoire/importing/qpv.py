"""Importing the QPV list of a year (ANCT file, docs/formats-rpls.md § QPV): creates or
updates the conference's `Qpv` (code, name, communes) and marks them in force that year
(`QpvYear`), through the same writer as the `territoire` v1 file (`cil.territory`), so that
an import changes QPV exactly as loading a territory does: one audit entry per QPV changed,
the stored bilans invalidated (`cil.signals.structure_changed`).

Only the conference's communes are read: a line whose communes are all elsewhere is skipped
unread and counted. A QPV over several communes keeps only the conference's. A QPV of the
conference absent from the list keeps its years (reported): the list may be partial.
"""

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from attributions.contract import ValueProblem
from attributions.importing.planning import ErrorLog
from cil import tabular
from cil.models import Commune, Conference, Qpv
from cil.signals import structure_changed
from cil.territory import UNCHANGED, LoadReport, QpvSpec, _Writer
from observatoire.contracts import qpv as contract
from observatoire.contracts.common import fold, insee_code, split_codes
from observatoire.importing.base import ImportRejected, LineReader, Plan, Progress

LAYOUT = tabular.Layout(
    match_headers=contract.match_headers,
    file_noun="une liste de QPV",
    line_noun="une ligne de QPV",
)


@dataclass
class Listed:
    """A QPV of the file that touches the conference: its name and the conference's
    communes it covers."""

    name: str
    communes: set[str] = field(default_factory=set)
    line: int = 0


class Checker:
    def __init__(self, communes: frozenset[str], errors: ErrorLog, progress: Progress | None):
        self.communes = communes
        self.errors = errors
        self.progress = progress
        self.reader: LineReader | None = None
        self.ignored = 0
        self.listed: dict[str, Listed] = {}

    @property
    def lines(self) -> int:
        return self.reader.lines if self.reader else 0

    def check(self, file: tabular.TabularFile) -> dict[str, Listed]:
        self.reader = LineReader(file, self.errors, progress=self.progress, empty_message=None)
        for line in self.reader:
            self._line(line)
        if not self.listed and not self.errors:
            self.errors.add(
                file.header_line or 1,
                "",
                "",
                "Aucun QPV de la liste ne concerne une commune de la conférence "
                f"({self.ignored} ligne{'s' if self.ignored > 1 else ''} d'autres communes) : "
                "vérifiez qu'il s'agit du bon fichier.",
            )
        return self.listed

    def _line(self, line) -> None:
        raw = line.raw
        ours, wrong = set(), []
        for token in split_codes(raw.get("communes") or ""):
            try:
                commune = fold(insee_code(token), self.communes)
            except ValueProblem as problem:
                wrong.append((token, str(problem)))
                continue
            if commune is not None:
                ours.add(commune)
        if not ours:
            self.ignored += 1  # another part of the country: not read further
            return
        problems = list(line.problems)
        problems.extend(
            (contract.SHOWN["communes"], token, f"« {token} » : {message}")
            for token, message in wrong
        )
        values = {}
        for name, parse in (("code", contract.code), ("name", contract.name)):
            value = raw.get(name)
            if value is None or not str(value).strip():
                problems.append((contract.SHOWN[name], "", "Valeur obligatoire manquante."))
                continue
            try:
                values[name] = parse(value)
            except ValueProblem as problem:
                problems.append((contract.SHOWN[name], value, str(problem)))
        if problems:
            for column, value, message in problems:
                self.errors.add(line.number, column, value, message)
            return
        listed = self.listed.setdefault(values["code"], Listed(values["name"], line=line.number))
        listed.communes |= ours


def _existing() -> dict[str, dict[str, Any]]:
    return {
        qpv.code: {
            "name": qpv.name,
            "communes": sorted(c.insee for c in qpv.communes.all()),
            "years": sorted(y.year for y in qpv.years.all()),
        }
        for qpv in Qpv.objects.prefetch_related("communes", "years")
    }


def _specs(listed: dict[str, Listed], existing: dict, year: int) -> list[QpvSpec]:
    specs = []
    for code, qpv in sorted(listed.items()):
        years = set(existing.get(code, {}).get("years", ())) | {year}
        specs.append(QpvSpec(code, qpv.name, tuple(sorted(qpv.communes)), tuple(sorted(years))))
    return specs


def _status(spec: QpvSpec, existing: dict) -> str:
    before = existing.get(spec.code)
    if before is None:
        return "create"
    same = (
        before["name"] == spec.name
        and before["communes"] == sorted(spec.communes)
        and before["years"] == list(spec.years)
    )
    return "unchanged" if same else "update"


def _counts(checker: Checker, specs: list[QpvSpec], existing: dict, year: int) -> dict[str, Any]:
    counts = {
        "lines": checker.lines,
        "ignored": checker.ignored,
        "create": 0,
        "update": 0,
        "unchanged": 0,
    }
    for spec in specs:
        counts[_status(spec, existing)] += 1
    listed = {spec.code for spec in specs}
    counts["absent"] = sorted(
        code for code, qpv in existing.items() if year in qpv["years"] and code not in listed
    )
    return counts


def _check(file: tabular.TabularFile, errors: ErrorLog, progress: Progress | None):
    """The QPV of the file touching the conference's communes (inside its scope)."""
    checker = Checker(frozenset(Commune.objects.values_list("insee", flat=True)), errors, progress)
    return checker, checker.check(file)


def plan(
    file: tabular.TabularFile,
    *,
    conference: Conference,
    year: int,
    progress: Progress | None = None,
    on_error=None,
) -> Plan:
    """Check the list and count the QPV it would create, update or leave (inside the
    conference's scope). Writes nothing."""
    errors = ErrorLog(on_error=on_error)
    checker, listed = _check(file, errors, progress)
    counts = {
        "lines": checker.lines,
        "ignored": checker.ignored,
        "create": 0,
        "update": 0,
        "unchanged": 0,
    }
    if not errors:
        existing = _existing()
        counts = _counts(checker, _specs(listed, existing, year), existing, year)
    return Plan.of(counts, errors)


@transaction.atomic
def commit(
    file: tabular.TabularFile,
    *,
    conference: Conference,
    year: int,
    progress: Progress | None = None,
    actor=None,
) -> dict[str, Any]:
    """Create or update the listed QPV, in force in `year` (inside the conference's scope);
    the list is checked again: on any error, ImportRejected and nothing is written."""
    errors = ErrorLog()
    checker, listed = _check(file, errors, progress)
    if errors:
        raise ImportRejected(errors)
    existing = _existing()
    specs = _specs(listed, existing, year)
    counts = _counts(checker, specs, existing, year)
    communes = {commune.insee: commune for commune in Commune.objects.all()}
    report = LoadReport(conference=conference, conference_status=UNCHANGED)
    # The territory's writer: saves a QPV only when it changed, audits each change.
    _Writer(conference, actor, report).qpvs(specs, communes)
    if counts["create"] or counts["update"]:
        structure_changed(conference.pk)
    return {**counts, "years": [year]}
