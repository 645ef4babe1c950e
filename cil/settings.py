"""Settings, read from the environment.

Nothing set: the embedded default (SQLite in var/, Celery tasks run eagerly, e-mails on
the console). DATABASE_URL / CELERY_BROKER_URL / EMAIL_URL switch to PostgreSQL, Redis and
SMTP. DJANGO_ENV=production turns on the hardened settings (SECRET_KEY and ALLOWED_HOSTS
are then required).
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

DJANGO_ENV = env("DJANGO_ENV", default="development")
PRODUCTION = DJANGO_ENV == "production"

if PRODUCTION:
    SECRET_KEY = env("SECRET_KEY")
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS")
    DEBUG = False
else:
    # Development only: production refuses to start without its own SECRET_KEY.
    SECRET_KEY = env(
        "SECRET_KEY", default="dev-only-insecure-key-change-me-in-production-0123456789"
    )
    ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
    DEBUG = env.bool("DEBUG", default=True)

CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

# --- Who operates this instance -------------------------------------------------------
# The State identity (bloc-marque « République française », Marianne) is reserved to State
# entities and operators. Any other operator (an EPCI hosting its own instance) gets the
# same DSFR components with a neutral identity, in pages and in PDFs.
CIL_OPERATOR_IS_STATE = env.bool("CIL_OPERATOR_IS_STATE", default=False)
CIL_OPERATOR_NAME = env(
    "CIL_OPERATOR_NAME",
    default="Ministère chargé du logement"
    if CIL_OPERATOR_IS_STATE
    else "Opérateur de la plateforme",
)
CIL_SITE_TITLE = "Conférence intercommunale du logement"
CIL_SITE_TAGLINE = "Orientations, attributions et bilan partagé du logement social"
CIL_CONTACT_EMAIL = env("CIL_CONTACT_EMAIL", default="contact@cil.example")
CIL_INVITATION_VALIDITY = timedelta(days=env.int("CIL_INVITATION_VALIDITY_DAYS", default=7))

# --- Applications ---------------------------------------------------------------------
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "widget_tweaks",
    "dsfr",
    "django.forms",
    "guardian",
    "django_htmx",
    "axes",
    "csp",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "rest_framework",
    "drf_spectacular",
    "cil",
    "cil.governance",
    "attributions",
    "conventions",
    "observatoire",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "cil.middleware_timeouts.SessionTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "cil.middleware.eager_csp_nonce",
    "django_htmx.middleware.HtmxMiddleware",
    "cil.tenancy.ConferenceMiddleware",
    "cil.two_factor.middleware.ConferenceTwoFactorMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cil.urls"
WSGI_APPLICATION = "cil.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "cil.context_processors.platform",
            ],
        },
    }
]
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Data -----------------------------------------------------------------------------
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'cil.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # An unreachable server fails a request in seconds (a 503, cil/outage.py), not minutes.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", env.int("CIL_DB_CONNECT_TIMEOUT", default=5)
    )
# Retry-After of the 503 page shown while the database is unreachable.
CIL_DB_RETRY_AFTER_SECONDS = env.int("CIL_DB_RETRY_AFTER_SECONDS", default=30)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache (rate limits, small lookups). The bilan is stored in the database (BilanResult), not
# here, so that every process sees the same figures.
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Redis (production): Django's backend that skips the cache while Redis is unreachable
# (short timeouts, reads answer « absent »), so that the pages keep working (cil/cache.py).
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.redis.RedisCache":
    CACHES["default"]["BACKEND"] = "cil.cache.ResilientRedisCache"

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
if CELERY_BROKER_URL:
    CELERY_TASK_ALWAYS_EAGER = False
else:
    # Embedded default: no broker, tasks run inline in the calling process.
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True
    CELERY_TASK_EAGER_PROPAGATES = True
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", default=None)
CELERY_TASK_ACKS_LATE = True
# The broker may be down: a publication fails within seconds, never hangs (cil/outbox.py).
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {
    # A message taken by a worker that died goes back to the queue after this many seconds
    # (acks_late). Longer than the longest task, or it is delivered twice (harmless: the
    # outbox runs it once, cil/outbox.py).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    "socket_connect_timeout": 3,
    "socket_timeout": 10,
}
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TIMEZONE = "Europe/Paris"
CELERY_BEAT_SCHEDULE = {
    "purge-expired-invitations": {
        "task": "cil.tasks.purge_expired_invitations",
        "schedule": timedelta(hours=24),
    },
    # Unconfirmed imports hold household data: closed (and their files deleted) after 7 days.
    "purge-unconfirmed-imports": {
        "task": "attributions.import_tasks.purge_unconfirmed_imports",
        "schedule": timedelta(hours=24),
    },
    "purge-unconfirmed-observatoire-imports": {
        "task": "observatoire.tasks.purge_unconfirmed_observatoire_imports",
        "schedule": timedelta(hours=24),
    },
    # Reminders of the sessions' convocations (idempotent: one per convocation at most).
    "governance-meeting-reminders": {
        "task": "cil.governance.tasks.send_meeting_reminders",
        "schedule": timedelta(hours=1),
    },
    # The retention policy (cil/retention.py; durations below).
    "purge-personal-data": {
        "task": "cil.tasks.purge_personal_data",
        "schedule": timedelta(hours=24),
    },
    # The outbox (cil/outbox.py): jobs asked for while the broker was down, or lost by it.
    "relay-outbox": {
        "task": "cil.tasks.relay_outbox",
        "schedule": timedelta(seconds=20),
        "options": {"expires": 20},
    },
    "purge-outbox": {
        "task": "cil.tasks.purge_outbox",
        "schedule": timedelta(hours=24),
    },
}
# Outbox: a job published this long ago and never run is published again; at most this
# many times; ended jobs are kept this many days.
CIL_OUTBOX_REDISPATCH_SECONDS = env.int("CIL_OUTBOX_REDISPATCH_SECONDS", default=2 * 3600)
CIL_OUTBOX_MAX_ATTEMPTS = env.int("CIL_OUTBOX_MAX_ATTEMPTS", default=5)
CIL_OUTBOX_RETENTION_DAYS = env.int("CIL_OUTBOX_RETENTION_DAYS", default=7)

# --- Accounts -------------------------------------------------------------------------
AUTH_USER_MODEL = "cil.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2

# Brute-force lockout: the 6th wrong password in a row on an account is refused, even with
# the right one, for AXES_COOLOFF_TIME. Locking on the account (not the IP) because a whole
# préfecture or EPCI often shares one outgoing address.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("AXES_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
AXES_USERNAME_CALLABLE = "cil.accounts.axes_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/lockout.html"
AXES_VERBOSE = False
# Never written to the failure log: the one-time codes of the login's second step.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]

SILENCED_SYSTEM_CHECKS = [
    # axes.W006 warns that a username-only lockout can be bypassed by rotating user agents or
    # cookies: not so here, the counter is the (normalised) account name alone. Adding the IP
    # would lock out every agent behind a préfecture's shared address.
    "axes.W006",
]

GUARDIAN_ANONYMOUS_USER_NAME = None
ANONYMOUS_USER_NAME = None

SESSION_COOKIE_AGE = 60 * 60 * 10
# A signed-in person is logged out after this long without a request, and in any case this
# long after signing in (cil/middleware_timeouts.py).
CIL_SESSION_IDLE_TIMEOUT = timedelta(minutes=env.int("CIL_SESSION_IDLE_MINUTES", default=30))
CIL_SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=env.int("CIL_SESSION_ABSOLUTE_HOURS", default=12))

# Second factor (django-otp): TOTP applications and single-use backup codes. The issuer is
# the name the authenticator application shows next to the code.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="Plateforme CIL")
CIL_TWO_FACTOR_BACKUP_CODES = 10
# How long the code step of a login may wait after the right password (seconds).
CIL_TWO_FACTOR_LOGIN_WINDOW = 5 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# --- E-mail ---------------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="CIL <ne-pas-repondre@cil.example>")
SITE_URL = env("SITE_URL", default="http://localhost:8000")

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "attributions.api.authentication.OrganisationTokenAuthentication"
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.LimitOffsetPagination",
    "PAGE_SIZE": 100,
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "API de la plateforme CIL",
    "DESCRIPTION": "Déclaration des attributions (format attributions v1) et lecture du bilan (bilan v1).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Schema generation runs without a tenant: the generator disables the scopes
    # (ecosystem-notes §4.5).
    "DEFAULT_GENERATOR_CLASS": "attributions.api.schema.ScopesDisabledSchemaGenerator",
}

# --- Locale ---------------------------------------------------------------------------
LANGUAGE_CODE = "fr"
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Manifest storage rewrites url() inside the DSFR CSS, which breaks its SRI hashes; the
# files are same-origin anyway (ecosystem-notes §4.4).
DSFR_USE_INTEGRITY_CHECKSUMS = False
DSFR_MARK_OPTIONAL_FIELDS = True

# Uploads (cil/uploads.py). DATA_UPLOAD_MAX_MEMORY_SIZE bounds the form fields, not the
# files: each page's file limit below is enforced while the body is read by the first upload
# handler (nothing is stored past it), then by the page's form with its message.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_HANDLERS = [
    "cil.uploads.CappedUploadHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
# Where files over FILE_UPLOAD_MAX_MEMORY_SIZE wait while a request reads them (deleted when
# it ends); empty: the system's temporary directory.
FILE_UPLOAD_TEMP_DIR = env("FILE_UPLOAD_TEMP_DIR", default=None)
# Any page not given its own limit in cil.uploads.upload_limit.
CIL_UPLOAD_MAX_BYTES = env.int("CIL_UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
CIL_TERRITORY_MAX_BYTES = 2 * 1024 * 1024
CIL_IMPORT_MAX_BYTES = env.int("CIL_IMPORT_MAX_BYTES", default=50 * 1024 * 1024)
# Files of this many lines or more are imported by a Celery task with a progress bar.
CIL_IMPORT_ASYNC_LINES = env.int("CIL_IMPORT_ASYNC_LINES", default=5000)

# --- Produced documents (PDF sealed with the platform's key) --------------------------
# The seal: a PKCS#12 file (key + certificate) whose passphrase comes from the environment.
# `manage.py generate_seal_certificate` makes a self-signed one for the demo and the tests.
# In production there is no default passphrase: until one is set, producing a document
# fails with a clear error (nothing unsealed is ever presented as sealed), and the rest of
# the platform runs.
CIL_SEAL_PKCS12_PATH = Path(env("CIL_SEAL_PKCS12_PATH", default=str(VAR_DIR / "seal.p12")))
CIL_SEAL_PKCS12_PASSPHRASE = env(
    "CIL_SEAL_PKCS12_PASSPHRASE", default=None if PRODUCTION else "demo-seal"
)
CIL_SEAL_NAME = env("CIL_SEAL_NAME", default=CIL_OPERATOR_NAME)
# Every seal certificate issued (public part only, PEM, never a key), still trusted by the
# verification page for the documents it sealed; empty: `seal-history/` beside the key file
# (conventions/pdf/sealing.py).
CIL_SEAL_HISTORY_DIR = env("CIL_SEAL_HISTORY_DIR", default=None)
# The public verification page reads at most this many bytes of an uploaded PDF.
CIL_VERIFICATION_MAX_BYTES = env.int("CIL_VERIFICATION_MAX_BYTES", default=20 * 1024 * 1024)

# Consumption units (modified OECD scale, as INSEE uses it): first person, each other person
# aged 14 or more, each child under 14. That the SNE uses exactly this scale is not confirmed
# (domain-reference §2.1): a setting, not a constant.
CIL_UC_SCALE = tuple(env.list("CIL_UC_SCALE", default=["1", "0.5", "0.3"]))
# Statistical secrecy: no count under this many households is shown to aggregate-only roles
# or published.
CIL_SECRECY_THRESHOLD = env.int("CIL_SECRECY_THRESHOLD", default=11)

# --- Retention of personal data (cil/retention.py, `manage.py purge_personal_data`) ------
# Household-level rows are deleted after these durations; aggregates (stored bilans,
# published datasets) are kept. Only the first is a rule of the domain (domain.md §6: one year
# after a demand is closed, for SNE-derived data); the others are this platform's choices,
# settings and not law, to be set by each operator with its data protection officer.
CIL_RETENTION_DEMAND_CLOSED_DAYS = env.int("CIL_RETENTION_DEMAND_CLOSED_DAYS", default=365)
# Attribution lines of year Y are kept until the end of year Y + this many years (6: the
# length of a convention intercommunale d'attribution), then deleted, the bilan of Y kept.
CIL_RETENTION_ATTRIBUTION_YEARS = env.int("CIL_RETENTION_ATTRIBUTION_YEARS", default=6)
# The journal of reads of household-level data.
CIL_RETENTION_ACCESS_LOG_DAYS = env.int("CIL_RETENTION_ACCESS_LOG_DAYS", default=365)
# Finished import jobs (their error lists quote cells of the file) and their files.
CIL_RETENTION_IMPORT_JOB_DAYS = env.int("CIL_RETENTION_IMPORT_JOB_DAYS", default=90)
# Invitations (an e-mail address), counted from their expiry.
CIL_RETENTION_INVITATION_DAYS = env.int("CIL_RETENTION_INVITATION_DAYS", default=90)

# --- Security headers -----------------------------------------------------------------
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

if PRODUCTION:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    # __Host- cookies: Secure, Path=/, no Domain: they cannot be set by a sibling host.
    SESSION_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_SECURE = True
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    CSRF_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
