"""The WSGI application of bench/load: cil.wsgi's, with every URL module (so every view and
what they import: pandas, the PDF and chart modules…) imported at once. gunicorn loads it
in its master process (`--preload`) and forks ready workers: otherwise each worker imports
them on its first request, which on a loaded two-core machine took longer than gunicorn's
30-second worker timeout, and the workers were killed while starting."""

from django.urls import get_resolver

from cil.wsgi import application

get_resolver().url_patterns  # noqa: B018 - imports every URL module and view

__all__ = ["application"]
