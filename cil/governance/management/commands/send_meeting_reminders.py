"""Send the reminders of the sessions due now (also run hourly by Celery beat). Running it
twice sends nothing more: each convocation is reminded once at most."""

from django.core.management.base import BaseCommand

from cil.governance.tasks import send_meeting_reminders


class Command(BaseCommand):
    help = "Envoie les relances des séances qui approchent (une relance au plus par convocation)."

    def handle(self, *args, **options):
        sent = send_meeting_reminders()
        self.stdout.write(
            f"{sent} relance{'s' if sent > 1 else ''} envoyée{'s' if sent > 1 else ''}."
        )
