"""Test settings: PostgreSQL (TEST_DATABASE_URL or the local default), eager tasks,
in-memory mail, fast hashing, and templates that fail on unknown variables."""

import os
import tempfile
from pathlib import Path

os.environ.setdefault(
    "DATABASE_URL", os.environ.get("TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/cil")
)
os.environ.pop("CELERY_BROKER_URL", None)
os.environ.pop("EMAIL_URL", None)
os.environ.setdefault("DJANGO_ENV", "development")

from cil.settings import *  # noqa: F403
from cil.settings import TEMPLATES


class InvalidTemplateVariable(str):
    """Fails the render on `{{ unknown_variable }}` (les-emplois does the same).

    django-dsfr's form-field snippets read optional attributes that standard widgets lack
    (`field.field.widget.group_class`, `widget.attrs.…`, `self.…`): those stay lenient.
    """

    LENIENT_PREFIXES = ("field.field.widget.", "widget.", "self.", "field.help_text", "errors")

    def __mod__(self, other):
        name = str(getattr(other, "var", other))
        if name.startswith(self.LENIENT_PREFIXES):
            return ""
        raise NameError(f"Variable de gabarit inconnue : {name!r}")


TEMPLATES[0]["OPTIONS"]["string_if_invalid"] = InvalidTemplateVariable("%s")
DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_BROKER_URL = "memory://"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
SITE_URL = "http://testserver"
# The demo and the document tests generate seal certificates: never inside the project.
CIL_SEAL_PKCS12_PATH = Path(tempfile.mkdtemp(prefix="cil-test-seal-")) / "seal.p12"
# Their archived certificates beside them (conventions/pdf/sealing.py), whatever the env says.
CIL_SEAL_HISTORY_DIR = None
