"""Settings come from the environment: checked in fresh interpreters.

The subprocess calls run this interpreter on fixed arguments (S603 does not apply).
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = (
    "import json, django; from django.conf import settings; django.setup(); "
    "print(json.dumps({'engine': settings.DATABASES['default']['ENGINE'], "
    "'name': str(settings.DATABASES['default']['NAME']), 'eager': settings.CELERY_TASK_ALWAYS_EAGER, "
    "'broker': settings.CELERY_BROKER_URL, 'debug': settings.DEBUG, "
    "'email': settings.EMAIL_BACKEND}))"
)


def _settings(**env) -> dict:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DATABASE_URL", "CELERY_", "EMAIL_URL", "DJANGO_"))
    }
    clean.update(env, DJANGO_SETTINGS_MODULE="cil.settings")
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_embedded_default_is_sqlite_with_eager_tasks():
    values = _settings()
    assert values["engine"] == "django.db.backends.sqlite3"
    assert values["name"].endswith("var/cil.sqlite3")
    assert values["eager"] is True
    assert values["broker"] == "memory://"
    assert values["email"] == "django.core.mail.backends.console.EmailBackend"


def test_database_and_broker_urls():
    values = _settings(
        DATABASE_URL="postgres://cil:secret@db.example:5432/cil",
        CELERY_BROKER_URL="redis://127.0.0.1:6379/0",
        EMAIL_URL="smtp+tls://user:pass@smtp.example:587",
    )
    assert values["engine"] == "django.db.backends.postgresql"
    assert values["name"] == "cil"
    assert values["eager"] is False
    assert values["broker"] == "redis://127.0.0.1:6379/0"
    assert values["email"] == "django.core.mail.backends.smtp.EmailBackend"


def test_sqlite_url_names_the_file(tmp_path):
    values = _settings(DATABASE_URL=f"sqlite:///{tmp_path}/autre.sqlite3")
    assert values["name"] == f"{tmp_path}/autre.sqlite3"


def test_production_passes_check_deploy_with_no_warning():
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_URL", "DJANGO_"))}
    env.update(
        DJANGO_ENV="production",
        DJANGO_SETTINGS_MODULE="cil.settings",
        SECRET_KEY="q9!vT2#xL7@pR4$wZ8^mN1&kH6*jB3(fD5)gS0-aE_yU+cI=oP",
        ALLOWED_HOSTS="cil.example.fr",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "DJANGO_SETTINGS_MODULE")}
    env.update(
        DJANGO_ENV="production",
        ALLOWED_HOSTS="cil.example.fr",
        DJANGO_SETTINGS_MODULE="cil.settings",
    )
    result = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr
