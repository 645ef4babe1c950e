"""`python manage.py bilan --conference SLUG --year YYYY`: print the `bilan` v1 document
(shared/formats.md) of a conference for a year, computed from the current data (not from the
stored copy). Every count is shown: statistical secrecy applies to what aggregate-only roles
and open data see, not to this internal document."""

import json

from django.core.management.base import BaseCommand, CommandError

from attributions import bilan_data
from cil.models import Conference


class Command(BaseCommand):
    help = "Affiche le bilan annuel des attributions d'une conférence (JSON « bilan » v1)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--conference", metavar="SLUG", required=True, help="identifiant de la conférence"
        )
        parser.add_argument(
            "--year", metavar="AAAA", required=True, help="année de signature des baux"
        )

    def handle(self, *args, conference, year, **options):
        if not (year.isascii() and year.isdigit() and len(year) == 4):
            raise CommandError(f"Année invalide : « {year} » (attendu : AAAA, par exemple 2025).")
        found = Conference.objects.filter(slug=conference).first()
        if found is None:
            raise CommandError(f"Conférence inconnue : « {conference} ».")
        document = bilan_data.compute(found, int(year))
        self.stdout.write(json.dumps(document, ensure_ascii=False, indent=2))
