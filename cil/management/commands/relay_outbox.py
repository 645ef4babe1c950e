"""`python manage.py relay_outbox [--loop] [--interval SECONDS]`: publish the background jobs
asked for while the broker was down, or lost by it (cil/outbox.py). Once, or in a loop for a
deployment without Celery beat."""

import time

from django.core.management.base import BaseCommand

from cil import outbox


class Command(BaseCommand):
    help = (
        "Transmet au courtier les tâches de fond en attente (courtier indisponible au moment "
        "de la demande, ou message perdu)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop", action="store_true", help="Recommence sans fin (arrêt : Ctrl-C)."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=20.0,
            help="Secondes entre deux passages avec --loop (20 par défaut).",
        )

    def handle(self, *args, loop: bool, interval: float, **options):
        while True:
            counts = outbox.relay()
            if counts["published"] or counts["abandoned"] or counts["waiting"] or not loop:
                self.stdout.write(
                    f"Tâches transmises : {counts['published']} ; abandonnées : "
                    f"{counts['abandoned']} ; en attente du courtier : {counts['waiting']}."
                )
            if not loop:
                return
            try:
                time.sleep(interval)
            except KeyboardInterrupt:
                return
