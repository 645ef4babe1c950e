"""`python manage.py load_demo`: the fictional demo conferences and their accounts.

Idempotent: running it again refreshes the demo without duplicating anything. The demo
accounts' password comes from DEMO_PASSWORD (default « demo »)."""

from django.core.management.base import BaseCommand

from cil.demo import build_demo

HEADERS = ("identifiant", "rôle", "conférence", "organisation")


class Command(BaseCommand):
    help = "Charge les données de démonstration (conférences fictives et comptes de test)."

    def handle(self, *args, **options):
        ctx = build_demo(log=self.stdout.write)
        rows = [HEADERS, *ctx.logins]
        widths = [max(len(row[column]) for row in rows) for column in range(len(HEADERS))]
        self.stdout.write("")
        self.stdout.write(self.style.SUCCESS("Données de démonstration chargées."))
        self.stdout.write(f"Comptes de démonstration (mot de passe : {ctx.password}) :")
        for index, row in enumerate(rows):
            self.stdout.write(
                "  ".join(
                    cell.ljust(width) for cell, width in zip(row, widths, strict=True)
                ).rstrip()
            )
            if index == 0:
                self.stdout.write("  ".join("-" * width for width in widths))
