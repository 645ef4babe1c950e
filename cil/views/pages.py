from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.template import loader
from django.template.response import TemplateResponse
from django.views.decorators.http import require_GET

from cil import outage


@require_GET
def accessibility(request):
    return TemplateResponse(request, "pages/accessibilite.html")


@require_GET
def legal_notice(request):
    return TemplateResponse(request, "pages/mentions_legales.html")


@require_GET
def personal_data(request):
    from django.conf import settings

    from cil.retention import retention_summary

    return TemplateResponse(
        request,
        "pages/donnees_personnelles.html",
        {
            "retention": retention_summary(),
            "secrecy_threshold": settings.CIL_SECRECY_THRESHOLD,
            "idle_minutes": int(settings.CIL_SESSION_IDLE_TIMEOUT.total_seconds() // 60),
            "absolute_hours": int(settings.CIL_SESSION_ABSOLUTE_TIMEOUT.total_seconds() // 3600),
        },
    )


@require_GET
def health(request):
    """Liveness and database check for the load balancer."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"statut": "ok"})


def permission_denied(request, exception=None):
    return TemplateResponse(request, "errors/403.html", status=403).render()


def page_not_found(request, exception=None):
    return TemplateResponse(request, "errors/404.html", status=404).render()


def server_error(request):
    # Called inside Django's `except` block: a database outage answers 503 (cil/outage.py).
    if outage.current_exception_is_outage():
        return outage.service_unavailable(request)
    # No context processors: the error may come from the database they query.
    return HttpResponseServerError(loader.render_to_string("errors/500.html"))
