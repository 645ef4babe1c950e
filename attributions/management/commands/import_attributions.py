"""`python manage.py import_attributions --conference SLUG [--as-bailleur SIREN] FILE`: import an
`attributions` v1 file (CSV or XLSX, shared/formats.md) into a conference, synchronously.

The whole file is checked first; on any error every error is printed on stderr, one a line
(« ligne N, colonne X, valeur « v » : message »), nothing is written and the exit status is 1.
The rows derived by that check are kept (in a temporary file) and written as they are: the
file is not read and checked a second time, unless the conference's reference data changed
in between.
"""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from attributions.importing import jobs, planning, reading
from attributions.importing.reading import FileRefused
from attributions.models import ImportJob, ImportStatus
from cil.models import Conference, Membership, OrganisationType
from cil.tenancy import conference_scope


def error_line(error: dict) -> str:
    where = f"ligne {error['line']}" if error.get("line") else "fichier"
    if error.get("column"):
        return (
            f"{where}, colonne {error['column']}, valeur « {error['value']} » : {error['message']}"
        )
    return f"{where} : {error['message']}"


class Command(BaseCommand):
    help = (
        "Importe un fichier d'attributions (format attributions v1, CSV ou XLSX) dans une "
        "conférence. Tout le fichier est vérifié d'abord : en cas d'erreur, rien n'est écrit."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier CSV ou XLSX au format attributions v1")
        parser.add_argument("--conference", required=True, metavar="SLUG")
        parser.add_argument(
            "--as-bailleur",
            dest="as_bailleur",
            metavar="SIREN",
            help="importer comme ce bailleur : une ligne d'un autre bailleur est une erreur",
        )

    def handle(self, *args, file, conference, as_bailleur=None, **options):
        target = Conference.objects.filter(slug=conference).first()
        if target is None:
            raise CommandError(f"Aucune conférence « {conference} ».")
        path = Path(file)
        try:
            stream = path.open("rb")
        except OSError as error:
            raise CommandError(f"Lecture impossible de {file} : {error.strerror}.") from None
        with stream, conference_scope(target):
            acting_bailleur = self._bailleur(as_bailleur, target) if as_bailleur else None
            plan = self._plan(stream, path, target, acting_bailleur)
            try:
                job = jobs.import_job_create(
                    conference=target,
                    actor=None,
                    file=File(stream, name=path.name),
                    filename=path.name,
                    acting_bailleur=acting_bailleur,
                    plan=plan,
                )
                jobs.import_confirm(job=job, actor=None, synchronous=True, plan=plan)
            finally:
                plan.close()  # the kept rows' temporary file
            job = ImportJob.objects.get(pk=job.pk)
        if job.status != ImportStatus.DONE:
            for error in job.errors:
                self.stderr.write(error_line(error))
            raise CommandError(f"L'import de {file} n'a pas abouti : rien n'a été enregistré.")
        counts = job.counts
        self.stdout.write(
            self.style.SUCCESS(
                f"Import terminé : {counts['lines']} lignes, {counts['create']} créées, "
                f"{counts['update']} modifiées, {counts['unchanged']} inchangées."
            )
        )

    def _bailleur(self, siren: str, conference: Conference):
        siren = siren.replace(" ", "")
        membership = (
            Membership.objects.filter(
                organisation__siren=siren, organisation__type=OrganisationType.BAILLEUR
            )
            .select_related("organisation")
            .first()
        )
        if membership is None:
            raise CommandError(
                f"Le SIREN {siren} n'est pas celui d'un bailleur membre de la conférence "
                f"« {conference.slug} »."
            )
        return membership.organisation

    def _plan(self, stream, path: Path, conference: Conference, acting_bailleur):
        def report(error: dict) -> None:
            self.stderr.write(error_line(error))

        try:
            with reading.open_file(stream, path.name) as opened:
                plan = planning.plan_import(
                    opened,
                    conference=conference,
                    acting_bailleur_id=acting_bailleur.pk if acting_bailleur else None,
                    on_error=report,
                    keep_rows=True,
                )
        except FileRefused as refused:
            for problem in refused.problems:
                report({"line": refused.line, "column": "", "value": "", "message": problem})
            raise CommandError(f"Fichier {path.name} refusé : rien n'a été enregistré.") from None
        if not plan.is_valid:
            raise CommandError(
                f"{plan.error_count} erreur(s) dans {path.name} : rien n'a été enregistré."
            )
        return plan
