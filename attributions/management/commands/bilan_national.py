"""`python manage.py bilan_national --year YYYY [--output FILE]`: the `bilan` v1 documents
(shared/formats.md) of every conference of the platform for a year, as one JSON object
{slug: document}, slugs sorted — for the State's national follow-up of the attribution rules
(CCH L.441-1). Each document is the one `manage.py bilan --conference SLUG` prints, computed
from the current data by one SQL query for all conferences (`bilan_data.national_bilans`).

Without --output the JSON goes to standard output. With it, the file is replaced only once
the whole JSON is written (a temporary file beside it, then renamed): an interrupted run
never leaves half a file behind. Every count is shown, as in `manage.py bilan`: statistical
secrecy applies to what aggregate-only roles and open data see, not to this internal
document — hence the file is created readable by its owner only (mode 0600)."""

import json
import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from attributions import bilan_data


class Command(BaseCommand):
    help = (
        "Écrit les bilans annuels des attributions de toutes les conférences (objet JSON "
        "{conférence: bilan v1}), pour le suivi national de l'État."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--year", metavar="AAAA", required=True, help="année de signature des baux"
        )
        parser.add_argument(
            "--output",
            metavar="FICHIER",
            help="fichier JSON à écrire (remplacé s'il existe) ; par défaut la sortie standard",
        )

    def handle(self, *args, year, output=None, **options):
        if not (year.isascii() and year.isdigit() and len(year) == 4):
            raise CommandError(f"Année invalide : « {year} » (attendu : AAAA, par exemple 2025).")
        target = Path(output) if output else None
        if target is not None:
            if target.is_dir():
                raise CommandError(f"« {output} » est un dossier : indiquez un fichier.")
            if not target.parent.is_dir():
                raise CommandError(f"Dossier introuvable : « {target.parent} ».")
        documents = bilan_data.national_bilans(int(year))
        text = json.dumps(documents, ensure_ascii=False, indent=2) + "\n"
        if target is None:
            self.stdout.write(text, ending="")
            return
        self._write(target, text)
        self.stdout.write(f"{len(documents)} bilans {year} écrits dans {target}.")

    def _write(self, target: Path, text: str) -> None:
        try:
            descriptor, temporary = tempfile.mkstemp(
                dir=target.parent, prefix=f".{target.name}.", suffix=".tmp"
            )
        except OSError as error:
            raise CommandError(
                f"Écriture impossible dans « {target.parent} » : {error.strerror}."
            ) from None
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as stream:
                stream.write(text)
            os.replace(temporary, target)
        except OSError as error:
            Path(temporary).unlink(missing_ok=True)
            raise CommandError(f"Écriture impossible de « {target} » : {error.strerror}.") from None
