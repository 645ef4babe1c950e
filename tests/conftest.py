import os

import pytest
from django.core.management import call_command

# Playwright's sync API runs an event loop in the test thread (ecosystem-notes §5).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _no_real_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def unscoped():
    from cil.tenancy import unscoped as _unscoped

    with _unscoped():
        yield


# The platform's seal (a PKCS#12 made by `generate_seal_certificate`): generated once per
# session into a temporary folder and configured for every test.
SEAL_PASSPHRASE = "phrase-secrete-de-test"
SEAL_NAME = "Cachet de test de la plateforme"


@pytest.fixture(scope="session")
def seal_path(tmp_path_factory):
    from django.conf import settings

    path = tmp_path_factory.mktemp("sceau") / "seal.p12"
    previous = settings.CIL_SEAL_PKCS12_PASSPHRASE, settings.CIL_SEAL_NAME
    settings.CIL_SEAL_PKCS12_PASSPHRASE, settings.CIL_SEAL_NAME = SEAL_PASSPHRASE, SEAL_NAME
    try:
        call_command("generate_seal_certificate", path=str(path), verbosity=0)
    finally:
        settings.CIL_SEAL_PKCS12_PASSPHRASE, settings.CIL_SEAL_NAME = previous
    return path


@pytest.fixture(autouse=True)
def _seal_configured(settings, seal_path):
    settings.CIL_SEAL_PKCS12_PATH = seal_path
    settings.CIL_SEAL_PKCS12_PASSPHRASE = SEAL_PASSPHRASE
    settings.CIL_SEAL_NAME = SEAL_NAME
