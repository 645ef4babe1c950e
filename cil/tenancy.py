"""Tenancy fails closed.

Every tenant-owned model's default manager (django-scopes `ScopedManager`) raises unless a
conference scope is active. The scope is opened in three places only:
- `ConferenceMiddleware`, for `/<conference_slug>/…` URLs, after checking that the user
  has an active access to that conference (otherwise 404, as for a conference that does
  not exist);
- `ConferenceTask`, which re-opens it in a Celery worker from the `conference_id` kwarg;
- `conference_scope()` in services, commands and tests that work on one conference.
`unscoped()` is the one greppable way around it (admin, migrations, commands, fixtures).
"""

from contextlib import contextmanager
from functools import partial

import celery
from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.urls import Resolver404, resolve
from django_scopes import scope, scopes_disabled

from cil.models import Conference, Role


@contextmanager
def conference_scope(conference):
    """Open the scope of exactly one conference (an instance or a primary key).

    django-scopes treats `None` as "no filter"; refusing it here keeps a missing
    conference from ever opening every tenant's rows.
    """
    conference_id = getattr(conference, "pk", conference)
    if not isinstance(conference_id, int):
        raise ValueError(f"Conférence invalide pour ouvrir un périmètre : {conference!r}")
    with scope(conference=conference_id):
        yield


def unscoped():
    """Disable the tenant scope. Only for admin, migrations, commands and test fixtures."""
    return scopes_disabled()


def public_conference_view(view):
    """Mark a view under /<conference_slug>/ as readable without a membership."""
    view.public_conference_view = True
    return view


class ConferenceMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.conference = None
        request.access = None
        request.roles = frozenset()
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return self.get_response(request)
        slug = match.kwargs.get("conference_slug")
        if slug is None:
            return self.get_response(request)

        if getattr(match.func, "public_conference_view", False):
            conference = Conference.objects.filter(slug=slug).first()
            if conference is None:
                raise Http404("Conférence introuvable.")
            request.conference = conference
            with conference_scope(conference):
                return self.get_response(request)

        if not request.user.is_authenticated:
            # Same answer whether the conference exists or not.
            return redirect_to_login(request.get_full_path())
        conference = Conference.objects.filter(slug=slug).first()
        if conference is None:
            raise Http404("Conférence introuvable.")
        with conference_scope(conference):
            # One query for the access and its roles (every page runs it).
            granted = list(
                Role.objects.filter(access__user=request.user, access__is_active=True)
                .select_related("access")
                .order_by("name")
            )
            access = granted[0].access if granted else None
            roles = frozenset(role.name for role in granted)
            if not roles:
                raise Http404("Conférence introuvable.")
            request.conference = conference
            request.access = access
            request.roles = roles
            if request.session.get("last_conference") != conference.slug:
                request.session["last_conference"] = conference.slug
            return self.get_response(request)


class ConferenceTask(celery.Task):
    """Celery task that runs inside the scope of the conference named by `conference_id`.

    Tasks take ids only (JSON); the scope is re-opened here, in the worker.
    """

    abstract = True

    def __call__(self, *args, **kwargs):
        conference_id = kwargs.get("conference_id")
        if not isinstance(conference_id, int):
            raise TypeError(f"{self.name} attend un argument nommé conference_id (entier).")
        from cil import outbox

        with conference_scope(conference_id):
            # Once per outbox message, however often the broker delivers it (cil/outbox.py).
            return outbox.run_once(self, partial(super().__call__, *args, **kwargs))
