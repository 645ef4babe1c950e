import os

import pytest

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
