"""Identity and personal data in headless Chromium: a bailleur turns the second factor on
(QR code drawn on the server, under the strict CSP), logs in again with a code, reads the
lines of its organisation; the secretariat reads the journal of reads and requires the
second factor for a role."""

import io
import re
import time
from base64 import b32decode
from binascii import unhexlify

import pytest
from django.core import mail
from django.core.management import call_command
from django_otp.oath import TOTP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SLUG = "agglo-val-de-seine"


@pytest.fixture
def demo(settings):
    settings.DEBUG = False
    call_command("load_demo", stdout=io.StringIO())
    mail.outbox.clear()


def _login(page, base, email):
    page.goto(f"{base}/connexion/")
    page.get_by_label("Adresse électronique").fill(email)
    page.get_by_label("Mot de passe").fill("demo")
    page.get_by_role("button", name="Se connecter").click()


def _code(key_hex: str, step_offset: int = 0) -> str:
    checker = TOTP(unhexlify(key_hex))
    checker.time = time.time() + 30 * step_offset
    return f"{checker.token():06d}"


def test_bailleur_turns_the_second_factor_on_and_logs_in_with_a_code(page, live_server, demo):
    base = live_server.url
    email = f"bailleur@{SLUG}.demo"
    _login(page, base, email)
    page.wait_for_url(f"{base}/{SLUG}/")

    page.goto(f"{base}/mot-de-passe/changer/")
    page.get_by_role("link", name="Activer la double authentification").click()
    page.get_by_role("link", name="Activer la double authentification").click()
    page.wait_for_url(f"{base}/compte/double-authentification/activer/")
    qr = page.locator(".cil-qr-frame svg")
    assert qr.is_visible()
    box = qr.bounding_box()
    assert box["width"] > 150
    secret = page.locator("#secret").inner_text().replace(" ", "")
    page.screens.shot("activation-code-qr")
    key_hex = b32decode(secret).hex()  # the page shows the key in base32
    page.get_by_label("Code affiché par l'application").fill(_code(key_hex))
    page.get_by_role("button", name="Activer").click()
    codes = page.locator("#backup-codes code").all_inner_texts()
    assert len(codes) == 10
    page.screens.shot("codes-de-secours")

    page.get_by_role("button", name="Se déconnecter").click()
    _login(page, base, email)
    page.wait_for_url(f"{base}/connexion/code/")
    page.screens.shot("connexion-code")
    # The next time step: the enrolment's code is used up, and the device accepts one step
    # of drift.
    page.get_by_label("Code à usage unique").fill(_code(key_hex, step_offset=1))
    page.get_by_role("button", name="Valider").click()
    page.wait_for_url(f"{base}/{SLUG}/")

    page.goto(f"{base}/{SLUG}/attributions/")
    assert page.get_by_role("heading", level=1).inner_text() == "Mes attributions"
    page.goto(f"{base}/{SLUG}/journal-des-consultations/")
    rows = page.locator("table tbody tr")
    assert "Page" in rows.first.inner_text()
    page.screens.shot("mes-consultations")
    assert page.console_errors == []


def test_secretariat_reads_the_journal_and_requires_the_second_factor(page, live_server, demo):
    base = live_server.url
    _login(page, base, f"prefecture@{SLUG}.demo")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/.*"))
    page.goto(f"{base}/{SLUG}/attributions/")
    page.get_by_role("button", name="Se déconnecter").click()

    _login(page, base, f"secretariat@{SLUG}.demo")
    page.wait_for_url(f"{base}/{SLUG}/")
    nav = page.get_by_role("navigation", name="Menu principal")
    nav.get_by_role("button", name="Administration").click()
    nav.get_by_role("link", name="Journal des consultations").click()
    page.wait_for_url(f"{base}/{SLUG}/journal-des-consultations/")
    assert page.get_by_role("cell", name=f"prefecture@{SLUG}.demo").first.is_visible()
    page.screens.shot("journal-des-consultations")

    nav.get_by_role("button", name="Administration").click()
    nav.get_by_role("link", name="Sécurité des comptes").click()
    # The DSFR draws the box on the label, which takes the click.
    page.locator("label", has_text="Bailleur").click()
    assert page.get_by_label("Bailleur").is_checked()
    page.screens.shot("securite-des-comptes")
    page.get_by_role("button", name="Enregistrer les règles").click()
    assert "Les règles de sécurité de la conférence sont enregistrées." in page.content()
    assert page.get_by_role("cell", name=re.compile(f"bailleur@{SLUG}.demo")).is_visible()
    page.screens.shot("securite-des-comptes-enregistree")
    page.get_by_role("button", name="Se déconnecter").click()

    # The bailleur, without an application, is led to turn it on before any page.
    _login(page, base, f"bailleur@{SLUG}.demo")
    page.wait_for_url(re.compile(rf"{re.escape(base)}/compte/double-authentification/activer/.*"))
    assert "demande la double authentification pour votre rôle" in page.content()
    page.screens.shot("activation-exigee")
    assert page.console_errors == []
