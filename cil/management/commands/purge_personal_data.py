"""`python manage.py purge_personal_data [--dry-run] [--conference SLUG]`: apply the retention
policy (cil/retention.py), conference by conference; `--dry-run` only counts."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from cil import retention
from cil.models import Conference


class Command(BaseCommand):
    help = (
        "Supprime les données personnelles au-delà de leur durée de conservation "
        "(paramètres CIL_RETENTION_*), conférence par conférence ; les agrégats sont conservés."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Compte ce qui serait supprimé, sans rien supprimer.",
        )
        parser.add_argument(
            "--conference", metavar="SLUG", help="Une seule conférence (son identifiant)."
        )

    def handle(self, *args, dry_run: bool, conference: str | None, **options):
        conferences = Conference.objects.order_by("slug")
        if conference:
            conferences = conferences.filter(slug=conference)
            if not conferences.exists():
                raise CommandError(f"Conférence inconnue : « {conference} ».")
        now = timezone.now()
        labels = retention.category_labels()
        totals = dict.fromkeys(labels, 0)
        verb = "à supprimer" if dry_run else "supprimé(s)"
        failed = []
        for item in conferences:
            self.stdout.write(f"{item.slug} — {item.name}")
            try:
                counts = (
                    retention.count_conference(item, now=now)
                    if dry_run
                    else retention.purge_conference(item, now=now)
                )
            except Exception as error:
                # This conference's transaction is rolled back; the others go on.
                self.stderr.write(f"  ÉCHEC, rien n'a été supprimé : {error!r}")
                failed.append(item.slug)
                continue
            for key, label in labels.items():
                if key in counts:
                    self.stdout.write(f"  {label} : {counts[key]} {verb}")
                    totals[key] += counts[key]
        self.stdout.write("")
        title = "Simulation (rien n'a été supprimé)" if dry_run else "Purge terminée"
        self.stdout.write(self.style.SUCCESS(f"{title} — total :"))
        for key, label in labels.items():
            self.stdout.write(f"  {label} : {totals[key]} {verb}")
        if failed:
            raise CommandError(f"Purge en échec pour : {', '.join(failed)}.")
