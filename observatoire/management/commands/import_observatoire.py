"""`python manage.py import_observatoire --conference SLUG --kind demandes|rpls|qpv [--year N]
FILE`: import a file of the observatory into a conference, synchronously.

The whole file is checked first; on any error every error is printed on stderr, one a line
(« ligne N, colonne X, valeur « v » : message »), nothing is written and the exit status is 1.
`--year` is the millésime of an RPLS file and the year of a QPV list (required for both), the
extraction year of a demand file (optional).
"""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from attributions.management.commands.import_attributions import error_line
from cil.models import Conference
from cil.tabular import FileRefused
from cil.tenancy import conference_scope
from observatoire.importing import jobs
from observatoire.importing.forms import MAX_YEAR, MIN_YEAR
from observatoire.models import ObservatoireImport
from observatoire.models.imports import ObservatoireImportStatus as Status


class Command(BaseCommand):
    help = (
        "Importe un fichier de l'observatoire (demandes v1, RPLS ou liste des QPV, CSV ou XLSX) "
        "dans une conférence. Tout le fichier est vérifié d'abord : en cas d'erreur, rien "
        "n'est écrit."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier CSV ou XLSX")
        parser.add_argument("--conference", required=True, metavar="SLUG")
        parser.add_argument("--kind", required=True, choices=sorted(jobs.KINDS))
        parser.add_argument(
            "--year",
            type=int,
            metavar="ANNÉE",
            help="millésime RPLS, année de la liste des QPV, année d'extraction des demandes",
        )

    def handle(self, *args, file, conference, kind, year=None, **options):
        target = Conference.objects.filter(slug=conference).first()
        if target is None:
            raise CommandError(f"Aucune conférence « {conference} ».")
        if jobs.KINDS[kind].year_required and year is None:
            raise CommandError(f"--year est obligatoire pour un import {kind}.")
        if year is not None and not MIN_YEAR <= year <= MAX_YEAR:
            raise CommandError(f"Année hors de la plage attendue ({MIN_YEAR} à {MAX_YEAR}).")
        path = Path(file)
        try:
            stream = path.open("rb")
        except OSError as error:
            raise CommandError(f"Lecture impossible de {file} : {error.strerror}.") from None
        with stream, conference_scope(target):
            plan = jobs.plan_file(
                stream,
                path.name,
                kind=kind,
                conference=target,
                year=year,
                on_error=lambda error: self.stderr.write(error_line(error)),
            )
            if not plan.is_valid:
                raise CommandError(
                    f"{plan.error_count} erreur(s) dans {path.name} : rien n'a été enregistré."
                )
            try:
                job = jobs.observatoire_import_create(
                    conference=target,
                    actor=None,
                    kind=kind,
                    year=year,
                    file=File(stream, name=path.name),
                    filename=path.name,
                    plan=plan,
                )
            except FileRefused as refused:  # the file changed since it was checked
                raise CommandError(" ".join(refused.problems)) from None
            jobs.observatoire_import_confirm(job=job, actor=None, synchronous=True)
            job = ObservatoireImport.objects.get(pk=job.pk)
        if job.status != Status.DONE:
            for error in job.errors:
                self.stderr.write(error_line(error))
            raise CommandError(f"L'import de {file} n'a pas abouti : rien n'a été enregistré.")
        self.stdout.write(self.style.SUCCESS(summary(job.kind, job.counts)))


def summary(kind: str, counts: dict) -> str:
    """The result in one French sentence."""
    parts = [
        f"{counts.get('lines', 0)} lignes",
        f"{counts.get('create', 0)} créées",
        f"{counts.get('update', 0)} modifiées",
        f"{counts.get('unchanged', 0)} inchangées",
    ]
    if kind == "rpls":
        parts.append(f"{counts.get('delete', 0)} supprimées")
    if kind in ("rpls", "qpv"):
        parts.append(f"{counts.get('ignored', 0)} lignes d'autres communes ignorées")
    if counts.get("financement_unknown"):
        codes = ", ".join(counts.get("financement_unknown_codes", []))
        parts.append(f"{counts['financement_unknown']} codes de financement inconnus ({codes})")
    return "Import terminé : " + ", ".join(parts) + "."
