"""Settings of the load benchmark (bench/load): the production settings (DJANGO_ENV=production,
DEBUG off, manifest static files, Redis cache and broker from the environment), with only
what needs TLS relaxed, because the benchmark talks plain HTTP on the loopback:

- no redirection to HTTPS and no HSTS (gunicorn is reached as http://127.0.0.1);
- session and CSRF cookies without `Secure` nor the `__Host-` prefix: an HTTP client never
  sends back a Secure cookie over plain HTTP, so every page after the login would see an
  anonymous visitor;
- the static files collected in their own folder (var/bench-load-static), not in var/static.

Everything else (middleware, sessions, axes, CSP, templates, database settings) is
`cil.settings` as in production.
"""

from cil.settings import *  # noqa: F403 - these settings are cil.settings plus the changes below
from cil.settings import PRODUCTION, VAR_DIR

if not PRODUCTION:
    raise RuntimeError("settings_load s'utilise avec DJANGO_ENV=production (bench/load).")

SECURE_SSL_REDIRECT = False
SECURE_HSTS_SECONDS = 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SECURE_HSTS_PRELOAD = False
SESSION_COOKIE_SECURE = False
SESSION_COOKIE_NAME = "sessionid"
CSRF_COOKIE_SECURE = False
CSRF_COOKIE_NAME = "csrftoken"
STATIC_ROOT = VAR_DIR / "bench-load-static"
