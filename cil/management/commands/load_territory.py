"""`python manage.py load_territory FILE.json`: create or update a conference from a
`territoire` v1 document (shared/formats.md). Idempotent; nothing is written on error."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cil.territory import TerritoryError, load_territory


class Command(BaseCommand):
    help = "Crée ou met à jour une conférence depuis un fichier « territoire » v1 (JSON)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="fichier JSON au format territoire/v1")
        parser.add_argument(
            "--conference",
            metavar="SLUG",
            help="refuse le fichier s'il décrit une autre conférence que celle-ci",
        )

    def handle(self, *args, file, conference=None, **options):
        try:
            # utf-8-sig: files saved by Windows tools start with a BOM.
            text = Path(file).read_text(encoding="utf-8-sig")
        except OSError as error:
            raise CommandError(f"Lecture impossible de {file} : {error.strerror}.") from None
        except UnicodeDecodeError:
            raise CommandError(f"{file} n'est pas encodé en UTF-8.") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(
                f"{file} n'est pas un JSON valide (ligne {error.lineno}, colonne {error.colno}) : "
                f"{error.msg}."
            ) from None
        try:
            report = load_territory(data, expected_slug=conference)
        except TerritoryError as error:
            for path, message in error.errors:
                self.stderr.write(f"{path} : {message}")
            raise CommandError(
                f"{len(error.errors)} erreur(s) dans {file} : rien n'a été enregistré."
            ) from None
        self.stdout.write(self.style.SUCCESS(f"Territoire chargé : {report.summary()}."))
