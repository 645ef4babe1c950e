from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse

from cil.two_factor import devices
from cil.two_factor.services import role_requires_two_factor


class ConferenceTwoFactorMiddleware:
    """Before any page of a conference that requires the second factor for one of the
    person's roles there: a login not confirmed by a code is sent to the code step, and a
    person without an application to its enrolment. Runs after the tenancy middleware (it
    reads `request.conference` and `request.roles`); costs no query elsewhere."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        conference = getattr(request, "conference", None)
        roles = getattr(request, "roles", frozenset())
        if (
            conference is not None
            and roles
            and role_requires_two_factor(conference, roles)
            and not devices.is_verified(request)
        ):
            return self._send_to_second_factor(request, conference)
        return self.get_response(request)

    def _send_to_second_factor(self, request, conference):
        if devices.has_device(request.user):
            target = reverse("login_code")
            message = (
                f"{conference.name} demande de confirmer votre connexion par un code à usage "
                "unique."
            )
        else:
            target = reverse("two_factor_enrol")
            message = (
                f"{conference.name} demande la double authentification pour votre rôle : "
                "activez-la pour continuer."
            )
        url = f"{target}?{urlencode({'next': request.get_full_path()})}"
        if getattr(request, "htmx", False):
            # htmx follows HX-Redirect with a full page load (a 3xx would be swapped in).
            return HttpResponse(status=401, headers={"HX-Redirect": url})
        messages.warning(request, message)
        return redirect(url)
