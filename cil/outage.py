"""The database is unreachable (restarted, failed over, network cut): every request answers
a clean 503 « Service momentanément indisponible » with Retry-After, rendered without any
query, and the same running processes serve again as soon as the database is back
(CONN_HEALTH_CHECKS drops the broken connection; connect_timeout keeps requests short).

Django routes an exception raised anywhere below a middleware (sessions and authentication
read the database before any view) to `handler500`, called inside the `except` block:
`sys.exc_info()` still names the exception there (cil.views.pages.server_error)."""

import sys

from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader

try:  # psycopg 3: an error raised outside Django's wrapper (connection setup, close)
    import psycopg
except ImportError:  # pragma: no cover - SQLite demo without psycopg
    psycopg = None

UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError)
if psycopg is not None:
    UNAVAILABLE_ERRORS += (psycopg.OperationalError, psycopg.InterfaceError)

MESSAGE = "Service momentanément indisponible"
DETAIL = (
    "La base de données de la plateforme ne répond pas pour le moment. Vos données ne sont "
    "pas perdues ; réessayez dans quelques instants."
)


def is_database_unavailable(exc: BaseException | None) -> bool:
    """True when `exc`, or an exception it was raised from, says the database is out of
    reach (as opposed to a bug: an IntegrityError or a ProgrammingError stays a 500)."""
    seen = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, UNAVAILABLE_ERRORS):
            return True
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return False


def current_exception_is_outage() -> bool:
    return is_database_unavailable(sys.exc_info()[1])


def service_unavailable(request) -> HttpResponse:
    """The 503 answer: JSON for the API, a standalone page otherwise. No session, user,
    message or context processor is read: each of them queries the database."""
    retry_after = str(settings.CIL_DB_RETRY_AFTER_SECONDS)
    if _wants_json(request):
        response = JsonResponse(
            {"statut": "indisponible", "detail": f"{MESSAGE}. {DETAIL}"}, status=503
        )
    else:
        response = HttpResponse(
            loader.render_to_string(
                "errors/503.html", {"retry_after": settings.CIL_DB_RETRY_AFTER_SECONDS}
            ),
            status=503,
        )
    response["Retry-After"] = retry_after
    response["Cache-Control"] = "no-store"
    return response


def _wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    if (request.path_info or "").startswith(("/api/", "/sante/")):
        return True
    return "application/json" in accept and "text/html" not in accept
